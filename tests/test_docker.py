"""docker/: the compose file validates and the image runs the app offline as a non-root user.

`docker-compose config` (Debian's docker-compose package) validates and normalises the
compose file without a Docker engine. The Elasticsearch image must be the version the
tests run against (ES_VERSION in scripts/services.sh).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker" / "compose.yaml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
SERVICES_SH = ROOT / "scripts" / "services.sh"

APP_ENV = ("CATALOG_DATABASE_URL", "CATALOG_ELASTICSEARCH_URL", "CATALOG_REDIS_URL")
BACKING_SERVICES = ("elasticsearch", "redis", "postgres")
GUNICORN = ["gunicorn", "--config", "python:web.gunicorn_conf", "web.wsgi:app"]


def pinned_es_version() -> str:
    """The Elasticsearch version scripts/services.sh runs for the tests."""
    match = re.search(r'^ES_VERSION="([^"]+)"$', SERVICES_SH.read_text(), re.MULTILINE)
    assert match, f'no ES_VERSION="..." line in {SERVICES_SH}'
    return match.group(1)


@pytest.fixture(scope="module")
def compose_config() -> dict[str, Any]:
    """The normalised output of `docker-compose -f docker/compose.yaml config`."""
    binary = shutil.which("docker-compose")
    if binary is None:
        require_service("docker-compose", "not on PATH (apt-get install docker-compose)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    # Defaults from compose.yaml, not whatever the developer's shell happens to set.
    for name in ("POSTGRES_PASSWORD", "CATALOG_SECRET_KEY", "ES_JAVA_OPTS"):
        env.pop(name, None)
    result = subprocess.run(
        [binary, "-f", str(COMPOSE_FILE), "config"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    config = yaml.safe_load(result.stdout)
    assert isinstance(config, dict), result.stdout
    return config


def test_compose_has_every_service(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    assert {"elasticsearch", "redis", "postgres", "web", "worker"} <= set(services)


@pytest.mark.parametrize("name", [*BACKING_SERVICES, "web"])
def test_services_have_health_checks(compose_config: dict[str, Any], name: str) -> None:
    healthcheck = compose_config["services"][name].get("healthcheck")
    assert healthcheck, f"{name} has no health check"
    assert healthcheck.get("test"), f"{name}'s health check has no test"
    assert not healthcheck.get("disable"), f"{name}'s health check is disabled"


def test_elasticsearch_is_the_tested_version_single_node(compose_config: dict[str, Any]) -> None:
    es = compose_config["services"]["elasticsearch"]
    version = pinned_es_version()
    assert es["image"] == f"docker.elastic.co/elasticsearch/elasticsearch:{version}"
    env = es["environment"]
    assert env["discovery.type"] == "single-node"
    assert str(env["xpack.security.enabled"]).lower() == "false"
    assert "_cluster/health" in " ".join(es["healthcheck"]["test"])
    assert any(v.endswith(":/usr/share/elasticsearch/data:rw") for v in es["volumes"])


def test_postgres_keeps_its_data_in_a_volume(compose_config: dict[str, Any]) -> None:
    postgres = compose_config["services"]["postgres"]
    assert any(":/var/lib/postgresql/data" in v for v in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert "redis-cli" in compose_config["services"]["redis"]["healthcheck"]["test"]


def test_web_waits_for_healthy_services_and_gets_their_urls(
    compose_config: dict[str, Any],
) -> None:
    web = compose_config["services"]["web"]
    assert web["build"]["dockerfile"] == "docker/Dockerfile"
    for name in BACKING_SERVICES:
        assert web["depends_on"][name]["condition"] == "service_healthy", name
    env = web["environment"]
    for name in APP_ENV:
        assert env.get(name), f"web lacks {name}"
    assert env["CATALOG_ELASTICSEARCH_URL"] == "http://elasticsearch:9200"
    assert env["CATALOG_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["CATALOG_DATABASE_URL"].endswith("@postgres:5432/catalog")
    assert env["CATALOG_REDIS_URL"].startswith("redis://redis:6379")
    assert any(
        str(p.get("target") if isinstance(p, dict) else p).endswith("5000") for p in web["ports"]
    )
    data_dir = env["CATALOG_DATA_DIR"]
    assert any(v.endswith(f":{data_dir}:rw") for v in web["volumes"]), web["volumes"]


def test_worker_runs_the_same_image(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    worker = services["worker"]
    assert worker["command"] == ["catalog", "worker"]
    assert worker["image"] == services["web"]["image"]
    for name in APP_ENV:
        assert worker["environment"][name] == services["web"]["environment"][name]


def test_dockerfile_runs_the_app_offline_as_non_root() -> None:
    text = DOCKERFILE.read_text()
    instructions = [line.strip() for line in text.splitlines() if re.match(r"[A-Z]+\s", line)]
    assert "FROM python:3.11-slim" in instructions
    assert re.search(r"^\s*HF_HUB_OFFLINE=1\b", text, re.MULTILINE)
    assert re.search(r"^RUN pip install .*\s\.\s", text, re.MULTILINE)
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), users
    cmd = [line for line in instructions if line.startswith("CMD ")]
    assert cmd == [f"CMD {json.dumps(GUNICORN)}"]


def test_web_runs_under_gunicorn_sized_from_the_environment(
    compose_config: dict[str, Any],
) -> None:
    web = compose_config["services"]["web"]
    assert web["command"] == GUNICORN
    env = web["environment"]
    assert env["CATALOG_WEB_WORKERS"] == "2" and env["CATALOG_WEB_THREADS"] == "4"
    assert env["CATALOG_WEB_BIND"].endswith(":5000")
    assert env["CATALOG_CORS_ORIGINS"] == ""  # CORS off unless configured
    assert "/healthz" in " ".join(web["healthcheck"]["test"])
    worker_env = compose_config["services"]["worker"]["environment"]
    assert "CATALOG_WEB_WORKERS" not in worker_env
