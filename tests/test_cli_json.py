"""``python -m catalog`` runs the command, and every command that reports takes --json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.catalog_fixtures import FIXTURES
from tests.replay_server import ReplayServer
from web.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CATALOG_DATA_DIR", str(tmp_path / "var"))
    for name in ("CATALOG_DATABASE_URL", "CATALOG_REDIS_URL", "CATALOG_ELASTICSEARCH_URL"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def run_json(runner: CliRunner, *args: str) -> object:
    result = runner.invoke(main, [*args, "--json"])
    assert result.exit_code == 0, (args, result.output)
    return json.loads(result.stdout)


def test_python_dash_m_catalog_is_the_command(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "CATALOG_DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}
    answer = subprocess.run(
        [sys.executable, "-m", "catalog", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.startswith("Usage: catalog [OPTIONS] COMMAND")
    for command in ("load", "search", "serve", "harvest", "users"):
        assert command in answer.stdout


def test_every_reporting_command_speaks_json(runner: CliRunner, tmp_path: Path) -> None:
    loaded = run_json(runner, "load", str(FIXTURES / "socrata"))
    assert loaded["totals"]["failed"] == 0 and loaded["totals"]["created"] > 0
    assert all(f["status"] == "loaded" for f in loaded["files"])
    assert loaded["indexed_documents"] > 0

    reindexed = run_json(runner, "reindex")
    assert reindexed["kind"] == "reindex" and reindexed["status"] == "finished"
    shown = run_json(runner, "jobs", "show", reindexed["id"][:8])
    assert shown["id"] == reindexed["id"] and shown["traceback"] is None
    assert run_json(runner, "jobs")[0]["id"] == reindexed["id"]

    hits = run_json(runner, "search", "date of birth", "--limit", "3")
    assert len(hits["hits"]) == 3
    dataset_id = 1
    edited = run_json(runner, "edit", str(dataset_id), "--title", "A better title")
    assert edited == {"dataset": 1, "field": None, "edited": ["title"], "reverted": []}

    sources = tmp_path / "sources.toml"
    served = {
        "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
        "dataset": [{"identifier": "roster", "title": "Wage Roster", "publisher": {"name": "DOL"}}],
    }
    with ReplayServer(
        {"/data.json": (200, {"Content-Type": "application/json"}, served)}
    ) as server:
        sources.write_text(f'[sources.portal]\ntype = "dcat"\nurl = "{server.url}/data.json"\n')
        synced = run_json(runner, "source", "sync", str(sources))
        assert synced["added"] == ["portal"]
        assert run_json(runner, "source", "list")[0]["name"] == "portal"
        harvested = run_json(runner, "harvest", "portal")
    assert harvested[0]["source"] == "portal" and harvested[0]["status"] == "finished"
    assert harvested[0]["result"]["counts"]["created"] == 1
    source = run_json(runner, "source", "show", "portal")
    assert source["source"]["name"] == "portal" and len(source["runs"]) == 1
    assert source["runs"][0]["status"] == "complete" and source["datasets"]["active"] == 1

    added = run_json(runner, "users", "add", "ada@example.org", "--role", "viewer")
    assert added["added"] == "ada@example.org"
    token = run_json(runner, "users", "token", "ada@example.org")
    assert token["token"].startswith(token["prefix"])
    assert run_json(runner, "users", "set-role", "ada@example.org", "admin")["role"] == "admin"
    assert run_json(runner, "users", "revoke", "ada@example.org", "--all")["revoked"] == 1
    assert run_json(runner, "users", "list")[0]["email"] == "ada@example.org"
