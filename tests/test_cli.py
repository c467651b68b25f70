"""The ``catalog`` command, run in-process with click's runner on a real catalog."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from tests.catalog_fixtures import CORPUS, FIXTURES
from web.cli import main

P20WIN = CORPUS.parent / "p20win"


@pytest.fixture
def runner(tmp_path, monkeypatch) -> CliRunner:
    monkeypatch.setenv("CATALOG_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("CATALOG_DATABASE_URL", raising=False)
    return CliRunner()


def test_help_lists_every_command(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("demo", "load", "search", "serve", "reindex"):
        assert command in result.output


def test_load_search_json_and_reindex(runner: CliRunner, tmp_path) -> None:
    loaded = runner.invoke(main, ["load", str(FIXTURES / "record_layouts"),
                                  str(FIXTURES / "socrata")])
    assert loaded.exit_code == 0, loaded.output
    assert "failed" in loaded.output and "0 failed" in loaded.output

    found = runner.invoke(main, ["search", "date of birth", "--json", "--kind", "field",
                                 "--limit", "5"])
    assert found.exit_code == 0, found.output
    data = json.loads(found.stdout)
    assert data["query"] == "date of birth" and len(data["hits"]) == 5
    hit = data["hits"][0]
    assert set(hit) >= {"kind", "agency", "dataset", "field", "title", "score"}
    assert hit["kind"] == "field" and "birth" in hit["title"].lower()
    assert {h["dataset"] for h in data["hits"]} >= {"AR_SID_2013_CORE", "sip96w1"}

    queries = tmp_path / "queries.txt"
    queries.write_text("# a comment\nhow long the patient stayed\n\n911 call arrival\n")
    many = runner.invoke(main, ["search", "--queries", str(queries), "--json"])
    assert many.exit_code == 0, many.output
    lines = [json.loads(line) for line in many.stdout.splitlines()]
    assert [line["query"] for line in lines] == ["how long the patient stayed",
                                                  "911 call arrival"]
    assert lines[1]["hits"][0]["dataset"] == "3k2p-39jp"

    rebuilt = runner.invoke(main, ["reindex"])
    assert rebuilt.exit_code == 0 and "indexed" in rebuilt.output

    text = runner.invoke(main, ["search", "zip code", "--agency", "ahrq", "--limit", "3"])
    assert text.exit_code == 0 and "Agency for Healthcare Research and Quality" in text.output


def test_search_json_names_a_split_file_as_its_source_does(runner: CliRunner,
                                                            tmp_path) -> None:
    """A dictionary the catalog splits into one dataset per program is identified in
    ``--json`` by its file's name, as judgments name it (../shared/eval/README.md), and
    by the catalog's own identifier beside it; an unsplit dataset's two agree."""
    folder = tmp_path / "ct"
    folder.mkdir()
    shutil.copy(P20WIN / "DOL_Data_Dictionary.xlsx", folder)
    shutil.copy(P20WIN / "P20WIN_Data_Dictionary.xlsx", folder)
    loaded = runner.invoke(main, ["load", str(folder), str(FIXTURES / "socrata")])
    assert loaded.exit_code == 0, loaded.output
    found = runner.invoke(main, ["search", "social security number", "--json", "--kind",
                                 "field", "--agency", "dol", "--limit", "20"])
    assert found.exit_code == 0, found.output
    hits = json.loads(found.stdout)["hits"]
    ssn = [h for h in hits if h["field"] == "SSN"]
    assert len(ssn) >= 2  # SSN is an element of several DOL programs
    for hit in ssn:
        assert hit["dataset"] == "DOL_Data_Dictionary"
        assert hit["dataset_identifier"].startswith("DOL_Data_Dictionary-dol-")
        # The merged workbook's copy of the row is folded in, named by its file too (and
        # the same element defined alike in another DOL program, by DOL's file).
        assert "P20WIN_Data_Dictionary" in hit["also_in"]
        assert set(hit["also_in"]) <= {"P20WIN_Data_Dictionary", "DOL_Data_Dictionary"}
    assert len({h["dataset_identifier"] for h in ssn}) == len(ssn)
    # P20 WIN's elements have no label: the text output names such a field once.
    text = runner.invoke(main, ["search", "social security number", "--kind", "field",
                                "--agency", "dol", "--limit", "3"])
    assert text.exit_code == 0 and "[field] SSN\n" in text.output
    assert "SSN — SSN" not in text.output
    socrata = runner.invoke(main, ["search", "911 call arrival", "--json", "--limit", "1"])
    [hit] = json.loads(socrata.stdout)["hits"]
    assert hit["dataset"] == hit["dataset_identifier"] == "3k2p-39jp"


def test_bad_usage_is_a_clear_error(runner: CliRunner, tmp_path) -> None:
    missing = runner.invoke(main, ["load", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such file or folder" in missing.output
    neither = runner.invoke(main, ["search"])
    assert neither.exit_code == 2 and "QUERY or --queries" in neither.output
    assert runner.invoke(main, ["search", "x", "--limit", "0"]).exit_code == 2


def test_a_file_that_cannot_be_loaded_fails_the_command(runner: CliRunner, tmp_path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text("{ not json", encoding="utf-8")
    result = runner.invoke(main, ["load", str(bad)])
    assert result.exit_code == 1
    assert "broken.json" in result.output


def test_demo_loads_the_fixtures_into_a_fresh_catalog(runner: CliRunner, tmp_path) -> None:
    stale = tmp_path / "var" / "demo"
    stale.mkdir(parents=True)
    (stale / "leftover.txt").write_text("from an earlier demo")
    result = runner.invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "33 loaded" in result.output and "0 failed" in result.output
    assert not (stale / "leftover.txt").exists()
    assert (stale / "catalog.sqlite").exists() and (stale / "search.sqlite").exists()
    # One account per role, all signing in with the one password printed.
    import re

    from catalog.config import load_settings
    from catalog.service import Catalog
    from tests.webfixtures import sign_in
    from web.app import create_app

    password = re.search(r"^  password (\S+)$", result.output, re.M)
    assert password, result.output
    steward = re.search(r"steward@demo\.example\.org  \(steward of (.+)\)", result.output)
    assert steward, result.output
    catalog = Catalog(load_settings(data_dir=stale, database_url=None, elasticsearch_url=None,
                                    redis_url=None))
    try:
        for role in ("viewer", "steward", "intake", "admin"):
            client = create_app(catalog).test_client()
            sign_in(client, f"{role}@demo.example.org", password.group(1))
            assert f"({role})" in client.get("/account").get_data(as_text=True)
    finally:
        catalog.close()


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens


@pytest.mark.parametrize(("setting", "value", "args", "expected"), [
    ("CATALOG_ELASTICSEARCH_URL", "http://127.0.0.1:{port}", ["search", "date of birth"],
     "the search engine does not answer (CATALOG_ELASTICSEARCH_URL)"),
    ("CATALOG_ELASTICSEARCH_URL", "http://127.0.0.1:{port}", ["reindex"],
     "reindex failed: ConnectionError"),
    ("CATALOG_REDIS_URL", "redis://127.0.0.1:{port}/9", ["worker", "--burst"],
     "Redis does not answer (CATALOG_REDIS_URL)"),
    ("CATALOG_DATABASE_URL", "postgresql+psycopg://catalog@127.0.0.1:{port}/catalog",
     ["source", "list"], "the database does not answer (CATALOG_DATABASE_URL)"),
    ("CATALOG_DATABASE_URL", "postgres://catalog@127.0.0.1:{port}/catalog", ["source", "list"],
     "CATALOG_DATABASE_URL is not a database URL this catalog reads"),
    ("CATALOG_DATABASE_URL", "not a url", ["source", "list"],
     "CATALOG_DATABASE_URL is not a database URL this catalog reads"),
])
def test_a_service_that_does_not_answer_is_named_not_a_traceback(
        runner: CliRunner, monkeypatch, setting: str, value: str, args: list[str],
        expected: str) -> None:
    monkeypatch.setenv(setting, value.format(port=_closed_port()))
    result = runner.invoke(main, args)
    assert result.exit_code == 1, result.output
    assert f"Error: {expected}" in result.output and setting in result.output
    assert "Traceback" not in result.output and len(result.output.splitlines()) <= 3


def test_a_data_directory_that_is_a_file_is_named(runner: CliRunner, tmp_path,
                                                  monkeypatch) -> None:
    (tmp_path / "afile").write_text("")
    monkeypatch.setenv("CATALOG_DATA_DIR", str(tmp_path / "afile"))
    result = runner.invoke(main, ["source", "list"])
    assert result.exit_code == 1
    assert f"Error: the data directory (CATALOG_DATA_DIR={tmp_path / 'afile'}) cannot be used" \
        in result.output


def test_load_says_stored_but_not_indexed_by_its_exit_status(runner: CliRunner,
                                                             monkeypatch) -> None:
    monkeypatch.setenv("CATALOG_ELASTICSEARCH_URL", f"http://127.0.0.1:{_closed_port()}")
    result = runner.invoke(main, ["load", str(FIXTURES / "socrata")])
    assert result.exit_code == 3, result.output
    assert "the data is stored — run `catalog reindex`" in result.output
    assert "Traceback" not in result.output


def test_a_database_migrated_by_a_newer_version_is_refused_by_name(runner: CliRunner,
                                                                   tmp_path) -> None:
    import sqlite3

    assert runner.invoke(main, ["source", "list"]).exit_code == 0
    with sqlite3.connect(tmp_path / "var" / "catalog.sqlite") as db:
        db.execute("UPDATE alembic_version SET version_num = '0099'")
    result = runner.invoke(main, ["source", "list"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "Error: the database's schema is newer than this version" in result.output


def test_the_last_administrator_keeps_the_role(runner: CliRunner) -> None:
    def users(*args: str) -> object:
        return runner.invoke(main, ["users", *args], input="a long password 123\n")

    assert users("add", "ada@example.org", "--role", "admin", "--password-stdin").exit_code == 0
    demoted = users("set-role", "ada@example.org", "viewer")
    assert demoted.exit_code == 1
    assert "ada@example.org is the only administrator: make another one" in demoted.output
    removed = users("remove", "ada@example.org", "--yes")
    assert removed.exit_code == 1 and "only administrator" in removed.output
    assert users("add", "bob@example.org", "--role", "admin", "--password-stdin").exit_code == 0
    assert users("set-role", "ada@example.org", "viewer").exit_code == 0  # Bob is one
    assert users("remove", "bob@example.org", "--yes").exit_code == 1  # now the only one
    assert users("disable", "bob@example.org").exit_code == 1  # nor disabled


def test_users_disable_and_enable(runner: CliRunner) -> None:
    def users(*args: str) -> object:
        return runner.invoke(main, ["users", *args], input="a long password 123\n")

    assert users("add", "ada@example.org", "--role", "admin", "--password-stdin").exit_code == 0
    assert users("add", "cy@example.org", "--role", "viewer", "--password-stdin").exit_code == 0
    off = users("disable", "cy@example.org")
    assert off.exit_code == 0 and "disabled cy@example.org" in off.output
    assert "was disabled already" in users("disable", "cy@example.org").output
    listed = json.loads(runner.invoke(main, ["users", "list", "--json"]).stdout)
    assert {r["email"]: r["active"] for r in listed} == {"ada@example.org": True,
                                                         "cy@example.org": False}
    assert "disabled" in users("list").output
    on = users("enable", "cy@example.org", "--json")
    assert on.exit_code == 0 and json.loads(on.stdout) == {
        "email": "cy@example.org", "active": True, "changed": True}
    missing = users("disable", "nobody@example.org")
    assert missing.exit_code == 1 and "no account for nobody@example.org" in missing.output
