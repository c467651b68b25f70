"""Production serving: gunicorn for real, compression, ETags and 304s, cache rules, CORS off
by default, and /healthz over the real database, search engine and Redis."""

from __future__ import annotations

import gzip
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.error import HTTPError

import pytest

from catalog.config import load_settings
from catalog.embeddings import Embedder
from catalog.service import Catalog
from tests.webfixtures import PASSWORD, WebCatalog, add_account, build_catalog, csrf_of
from web.app import create_app

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """A GET without any client-side decoding: status, headers, raw body."""
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers or {}), timeout=60
        ) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except HTTPError as error:
        return error.code, dict(error.headers), error.read()


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.fixture(scope="module")
def gunicorn_url(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Iterator[tuple[str, subprocess.Popen[str], WebCatalog]]:
    """The test catalog served by gunicorn (two workers, as documented, of two threads) from
    its files, with no CATALOG_SECRET_KEY set."""
    data_dir = tmp_path_factory.mktemp("gunicorn")
    catalog = Catalog(load_settings(data_dir=data_dir, database_url=None), embedder=embedder)
    built = build_catalog(catalog)
    add_account(catalog, "ada@example.org", "viewer")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
    env.update(
        CATALOG_DATA_DIR=str(data_dir),
        CATALOG_WEB_BIND=f"127.0.0.1:{port}",
        CATALOG_WEB_WORKERS="2",
        CATALOG_WEB_THREADS="2",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "python:web.gunicorn_conf", "web.wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"gunicorn exited: {server.stdout.read() if server.stdout else ''}")
            try:
                if fetch(f"{url}/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("gunicorn did not answer /healthz within 120 s")
        yield url, server, built
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        catalog.close()


def test_gunicorn_serves_compressed_pages_with_etags_and_304s(gunicorn_url: Any) -> None:
    url, server, built = gunicorn_url
    page = f"{url}/datasets/{built.datasets['birth-file']}"
    status, headers, body = fetch(page, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(body)
    print(f"\ngunicorn: dataset page {len(html):,} bytes sent as {len(body):,} gzipped")
    assert b"Vital Statistics Birth File" in html and len(body) < len(html) / 3
    assert "gunicorn" in headers.get("Server", "")
    assert headers["Cache-Control"] == "public, max-age=0, must-revalidate"
    etag = headers["ETag"]
    again = fetch(page, {"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again[0] == 304 and again[2] == b""
    plain = fetch(page)
    assert plain[0] == 200 and "Content-Encoding" not in plain[1] and plain[2] == html
    assert fetch(page, {"If-None-Match": plain[1]["ETag"]})[0] == 304
    status, headers, _ = fetch(f"{url}/api/v1/search?q=date+of+birth&mode=semantic")
    assert status == 200 and "ETag" in headers
    assert (
        "Access-Control-Allow-Origin"
        not in fetch(f"{url}/api/v1/agencies", {"Origin": "https://elsewhere.example"})[1]
    )
    workers = subprocess.run(
        ["pgrep", "-P", str(server.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    print(
        f"gunicorn: master {rss_mb(server.pid):.0f} MB, worker after a semantic search "
        f"{', '.join(f'{rss_mb(int(p)):.0f} MB' for p in workers)}"
    )


def test_a_sign_in_holds_on_every_worker_without_a_configured_key(gunicorn_url: Any) -> None:
    """No CATALOG_SECRET_KEY: the workers share the key kept in the data directory, so a
    sign-in made on one worker is honoured by the other (with a key of its own each, most
    sign-ins failed as "The form expired" and the rest were lost on the next request)."""
    import http.cookiejar
    import urllib.parse

    url, _, built = gunicorn_url
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    for attempt in range(4):
        csrf = csrf_of(opener.open(f"{url}/login", timeout=30).read().decode())
        body = urllib.parse.urlencode({"email": "ada@example.org", "password": PASSWORD,
                                       "csrf": csrf}).encode()
        answer = opener.open(f"{url}/login", data=body, timeout=30)
        assert answer.status == 200 and "/login" not in answer.url, attempt
        for _ in range(8):  # each a new connection: gunicorn hands them to either worker
            page = opener.open(f"{url}/account", timeout=30)
            assert page.status == 200 and "/login" not in page.url
            assert "ada@example.org" in page.read().decode()
        opener.open(f"{url}/logout", data=urllib.parse.urlencode(
            {"csrf": csrf_of(opener.open(f"{url}/account", timeout=30).read().decode())}
        ).encode(), timeout=30)
    key = Path(built.catalog.settings.data_dir) / "secret_key"
    assert key.stat().st_mode & 0o777 == 0o600


def test_signed_in_answers_are_private_and_errors_not_stored(client: Any) -> None:
    assert client.get("/login").headers["Cache-Control"] == "private, no-cache"
    assert (
        client.get("/api/v1/agencies", headers={"Authorization": "Bearer nope"}).headers[
            "Cache-Control"
        ]
        == "no-store"
    )  # 401
    assert client.get("/datasets/999999").headers["Cache-Control"] == "no-store"
    assert "Cookie" in client.get("/").headers["Vary"]


def test_cors_only_for_configured_origins(web_catalog: WebCatalog) -> None:
    settings = replace(web_catalog.catalog.settings, cors_origins=("https://maps.example",))
    client = create_app(web_catalog.catalog, settings=settings).test_client()
    allowed = client.get("/api/v1/agencies", headers={"Origin": "https://maps.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://maps.example"
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    other = client.get("/api/v1/agencies", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    page = client.get("/", headers={"Origin": "https://maps.example"})
    assert "Access-Control-Allow-Origin" not in page.headers  # pages never


def test_healthz_over_postgres_elasticsearch_and_redis(
    tmp_path: Path, embedder: Embedder, postgres_url: str, elasticsearch_url: str, redis_url: str
) -> None:
    from catalog.search.elasticsearch import ElasticsearchEngine

    engine = ElasticsearchEngine(elasticsearch_url, index=f"catalog-healthz-{os.getpid()}")
    settings = load_settings(
        data_dir=tmp_path,
        database_url=postgres_url,
        elasticsearch_url=elasticsearch_url,
        redis_url=redis_url,
    )
    catalog = Catalog(settings, embedder=embedder, engine=engine)
    try:
        answer = create_app(catalog).test_client().get("/healthz")
        assert answer.status_code == 200, answer.json
        checks = answer.json["checks"]
        assert {k: v["ok"] for k, v in checks.items()} == {
            "database": True,
            "search": True,
            "redis": True,
        }
        assert checks["search"]["engine"] == "elasticsearch"
        # Redis gone: still serving (200, "degraded"), and the body names no address.
        down = Catalog(
            replace(
                settings,
                data_dir=tmp_path / "down",
                elasticsearch_url=None,
                redis_url="redis://:s3cret@127.0.0.1:1/0",
            ),
            embedder=embedder,
        )
        answer = create_app(down).test_client().get("/healthz")
        down.close()
        assert answer.status_code == 200 and answer.json["checks"]["redis"]["ok"] is False
        assert answer.json["status"] == "degraded"
        assert "s3cret" not in answer.get_data(as_text=True)
        assert "127.0.0.1" not in answer.get_data(as_text=True)
        # The search engine gone: the node cannot serve searches, 503.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed = probe.getsockname()[1]
        no_search = Catalog(replace(settings, data_dir=tmp_path / "no-search",
                                    redis_url=None), embedder=embedder,
                            engine=ElasticsearchEngine(f"http://127.0.0.1:{closed}",
                                                       index="catalog-healthz-none"))
        answer = create_app(no_search).test_client().get("/healthz")
        no_search.close()
        assert answer.status_code == 503 and answer.json["status"] == "unavailable"
        assert answer.json["checks"]["search"]["ok"] is False
    finally:
        for index in engine._indices():
            engine.es.indices.delete(index=index, ignore_unavailable=True)
        catalog.close()
