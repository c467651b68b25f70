"""Harvest runs end to end: recorded portals over real HTTP into a real catalog.

Every portal kind (CKAN, Socrata, DCAT, data packages, dictionary pages) is served by a local
server from tests/recorded/ (see tests/recorded_sources.py); runs go through
:func:`indexer.harvest.harvest_source` into a SQLite catalog with the real embedding model and
the embedded search engine. "Nothing lost" is checked by comparing :func:`catalog.dump.dump`
before and after.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from catalog.dump import dump_json
from catalog.models import Change, Dataset, Field, HarvestRun, Source
from catalog.search.query import SearchQuery
from catalog.service import Catalog
from catalog.sources import SourceError, save_source, validate_source
from catalog.stewardship import apply_edit
from indexer.harvest import harvest_source
from indexer.http import Fetcher
from tests.recorded_sources import (
    RecordedPortals,
    garbage_after_first_page,
    html_page,
    huge_body,
    stalled,
    truncated_json,
)
from web.app import create_app

REPO = Path(__file__).resolve().parent.parent
BARCELONA = "nombres-masculinos-mas-frecuentes-en-la-provincia-de-barcelona"
ANUCLIM = "anuclim_australia_current_climate_december_1976_2005_30_arcsec_1km"


def fast_fetcher() -> Fetcher:
    """Short timeouts and waits, so that fault cases end in seconds."""
    return Fetcher(connect_timeout=1.0, read_timeout=0.5, retries=1, backoff_factor=0.01,
                   max_backoff=0.05, max_retry_after=0.5, max_bytes=5 * 1024 * 1024)


@pytest.fixture
def portals() -> Iterator[RecordedPortals]:
    with RecordedPortals() as served:
        yield served


def add_sources(catalog: Catalog, portals: RecordedPortals, *names: str) -> list[str]:
    with catalog.transaction() as session:
        added = []
        for spec in portals.sources():
            if names and spec["name"] not in names:
                continue
            save_source(session, validate_source(spec))
            added.append(spec["name"])
    return added


def run(catalog: Catalog, name: str) -> Any:
    with fast_fetcher() as fetcher:
        return harvest_source(catalog, name, fetcher=fetcher, actor="test")


def snapshot(catalog: Catalog) -> str:
    with catalog.session() as session:
        return dump_json(session)


def dataset(catalog: Catalog, identifier: str) -> Dataset:
    with catalog.session() as session:
        found = session.scalar(select(Dataset).where(Dataset.identifier == identifier))
        assert found is not None, identifier
        found.fields  # noqa: B018 - load before the session closes
        return found


# ----------------------------------------------------------------------- incremental runs


def test_every_recorded_source_harvests_then_a_second_run_writes_and_embeds_nothing(
    new_catalog: Catalog, portals: RecordedPortals
) -> None:
    names = add_sources(new_catalog, portals)
    first = {name: run(new_catalog, name) for name in names}
    for name, report in first.items():
        assert report.status == "complete", (name, report.failure, report.errors)
        assert report.counts["created"] > 0, name
        assert report.counts["errors"] == 0, (name, report.errors)
    assert first["barcelona-ckan"].counts["created"] == 2
    assert first["chicago"].counts["created"] == 5
    assert first["cftc"].counts["created"] == 7
    assert first["ctdata"].counts["created"] == 2
    assert first["dol-pages"].counts["created"] == 2
    assert sum(r.embedded for r in first.values()) > 100
    # The search index has the harvested fields: the Barcelona dictionary is findable.
    hits = new_catalog.search(SearchQuery(text="frequency", kind="field", per_page=50)).hits
    assert any(h.payload["dataset"] == BARCELONA for h in hits)

    before = snapshot(new_catalog)
    with new_catalog.session() as session:
        changes = session.scalar(select(func.count(Change.id)))
    second = {name: run(new_catalog, name) for name in names}
    for name, report in second.items():
        assert report.status == "complete", name
        assert report.counts["created"] == report.counts["updated"] == 0, name
        assert report.counts["unchanged"] == first[name].counts["created"], name
        assert report.embedded == 0, name
        assert report.indexed == 0, name
    assert snapshot(new_catalog) == before
    with new_catalog.session() as session:
        assert session.scalar(select(func.count(Change.id))) == changes
        assert session.scalar(select(func.count(HarvestRun.id))) == 2 * len(names)


def test_a_renamed_field_updates_the_dataset_in_place_with_history(
    new_catalog: Catalog, portals: RecordedPortals
) -> None:
    add_sources(new_catalog, portals, "chicago")
    assert run(new_catalog, "chicago").counts["created"] == 5
    before = dataset(new_catalog, "i6bp-fvbx")
    resource = portals.socrata["results"][0]["resource"]
    assert resource["id"] == "i6bp-fvbx"
    old_name = resource["columns_field_name"][0]
    resource["columns_field_name"][0] = "renamed_column"
    report = run(new_catalog, "chicago")
    assert (report.counts["updated"], report.counts["unchanged"]) == (1, 4)
    after = dataset(new_catalog, "i6bp-fvbx")
    assert after.id == before.id
    names = [f.name for f in after.fields]
    assert "renamed_column" in names and old_name not in names
    with new_catalog.session() as session:
        change = session.scalar(select(Change).where(Change.dataset_id == after.id,
                                                     Change.action == "update"))
        assert change is not None
        assert old_name in [f["name"] for f in change.before["fields"]]
        assert "renamed_column" in [f["name"] for f in change.after["fields"]]
    hits = new_catalog.search(SearchQuery(text="renamed_column", kind="field")).hits
    assert hits and hits[0].payload["field"] == "renamed_column"


def test_a_dataset_gone_from_the_source_is_withdrawn_kept_and_can_return(
    new_catalog: Catalog, portals: RecordedPortals
) -> None:
    add_sources(new_catalog, portals, "barcelona-ckan")
    run(new_catalog, "barcelona-ckan")
    kept = portals.ckan_packages
    portals.ckan_packages = [p for p in kept if p["name"] != ANUCLIM]
    report = run(new_catalog, "barcelona-ckan")
    assert (report.counts["withdrawn"], report.counts["unchanged"]) == (1, 1)
    gone = dataset(new_catalog, ANUCLIM)
    assert gone.status == "withdrawn"
    assert gone.fields or gone.title  # nothing of it was deleted
    # Visible as such: its page says so, and search results carry the badge.
    client = create_app(new_catalog).test_client()
    page = client.get(f"/datasets/{gone.id}").get_data(as_text=True)
    assert "Withdrawn." in page and "barcelona-ckan" in page
    hits = new_catalog.search(SearchQuery(text="climate surfaces", kind="dataset")).hits
    assert any(h.payload["dataset"] == ANUCLIM and h.payload["status"] == "withdrawn"
               for h in hits)
    portals.ckan_packages = kept
    report = run(new_catalog, "barcelona-ckan")
    assert report.counts["updated"] == 1  # back, active again
    assert dataset(new_catalog, ANUCLIM).status == "active"


def test_a_record_that_fails_keeps_its_last_good_copy_and_the_rest_go_on(
    new_catalog: Catalog, portals: RecordedPortals
) -> None:
    add_sources(new_catalog, portals, "barcelona-ckan")
    run(new_catalog, "barcelona-ckan")
    good = dataset(new_catalog, BARCELONA)
    portals.faults["/ckan/api/action/datastore_search"] = (500, {}, "<h1>Server Error</h1>")
    anuclim = next(p for p in portals.ckan_packages if p["name"] == ANUCLIM)
    anuclim["notes"] = "Changed description of the climate surfaces."
    report = run(new_catalog, "barcelona-ckan")
    assert report.status == "complete"
    assert report.counts["errors"] == 1 and report.counts["withdrawn"] == 0
    assert report.counts["updated"] == 1  # the other package still updates
    assert BARCELONA in report.errors[0]["message"]
    assert "datastore_search" in report.errors[0]["message"]
    assert report.errors[0]["identifier"] == BARCELONA
    after = dataset(new_catalog, BARCELONA)
    assert after.status == "active"
    assert [f.name for f in after.fields] == [f.name for f in good.fields]


# ---------------------------------------------------------------------- steward edits


def test_a_stewards_description_survives_a_reharvest_that_changed_the_source(
    new_catalog: Catalog, portals: RecordedPortals
) -> None:
    add_sources(new_catalog, portals, "barcelona-ckan")
    run(new_catalog, "barcelona-ckan")
    steward_text = "Count of male first names registered in the province, by municipality."
    with new_catalog.transaction() as session:
        found = session.scalar(select(Dataset).where(Dataset.identifier == BARCELONA))
        field = next(f for f in found.fields if f.name == "freq")
        original = field.description
        apply_edit(session, found, {"description": steward_text}, actor="steward:anna",
                   field=field)
    new_catalog.index_datasets(new_catalog.pending_index())
    # The source changes that field's text (its DataStore dictionary notes).
    for dictionary in portals.ckan_dictionaries.values():
        for spec in dictionary["result"]["fields"]:
            if spec["id"] == "freq":
                spec["info"]["notes"] = "Nombre de persones (new source text)"
    report = run(new_catalog, "barcelona-ckan")
    assert report.counts["updated"] == 1
    kept = dataset(new_catalog, BARCELONA)
    freq = next(f for f in kept.fields if f.name == "freq")
    assert freq.description == steward_text
    edit = freq.steward_edits["description"]
    assert edit["by"] == "steward:anna"
    assert edit["source"].endswith("Nombre de persones (new source text)")
    assert edit["source"] != original and edit["source_changed_at"]
    # A third, unchanged run keeps it too, and the page shows both texts.
    assert run(new_catalog, "barcelona-ckan").counts["unchanged"] == 2
    client = create_app(new_catalog).test_client()
    page = client.get(f"/datasets/{kept.id}").get_data(as_text=True)
    assert steward_text in page and "edited" in page
    # The field's own page shows the steward's text beside the source's newer one.
    page = client.get(f"/fields/{freq.id}").get_data(as_text=True)
    assert steward_text in page and "new source text" in page and "steward:anna" in page
    # The steward's text is what search finds.
    hits = new_catalog.search(SearchQuery(text="male first names registered by municipality",
                                          kind="field")).hits
    assert hits[0].payload["field"] == "freq"


# ------------------------------------------------------------- whole-run failures: no change


FAULTS = {
    "http 500 forever": lambda r: (500, {}, "<h1>Internal Server Error</h1>"),
    "timeout": stalled(2.0),
    "truncated json": truncated_json,
    "html instead of json": html_page,
    "200 MB body": huge_body,
    "garbage on page 2": garbage_after_first_page,
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_source_that_fails_as_a_whole_leaves_the_catalog_identical(
    new_catalog: Catalog, portals: RecordedPortals, fault: str
) -> None:
    add_sources(new_catalog, portals, "barcelona-ckan")
    run(new_catalog, "barcelona-ckan")
    for package in portals.ckan_packages:  # the source changed: a good run would update
        package["notes"] = f"Changed before the {fault} run."
    newcomer = dict(copy.deepcopy(portals.ckan_packages[0]), name="a-new-package", id="new-1")
    portals.ckan_packages = [*portals.ckan_packages[:1], newcomer]
    before = snapshot(new_catalog)
    handler = FAULTS[fault]

    def serve(request: Any) -> Any:
        answer = handler(request)
        return answer if answer is not None else portals._package_search(request)

    portals.faults["/ckan/api/action/package_search"] = serve
    report = run(new_catalog, "barcelona-ckan")
    assert report.status == "failed"
    assert report.failure and "package_search" in report.failure, report.failure
    assert snapshot(new_catalog) == before
    with new_catalog.session() as session:
        last = session.scalar(select(HarvestRun).order_by(HarvestRun.id.desc()))
        assert last.status == "failed" and last.errors[-1]["message"] == report.failure
        assert session.scalar(select(Source.status)) == "failed"
    # After the fault, a good run picks up every change.
    del portals.faults["/ckan/api/action/package_search"]
    report = run(new_catalog, "barcelona-ckan")
    assert report.status == "complete"
    assert (report.counts["created"], report.counts["updated"],
            report.counts["withdrawn"]) == (1, 1, 1)


def test_a_paging_loop_is_stopped_and_changes_nothing(
    new_catalog: Catalog, portals: RecordedPortals
) -> None:
    add_sources(new_catalog, portals, "barcelona-ckan")
    run(new_catalog, "barcelona-ckan")
    before = snapshot(new_catalog)
    # The portal ignores 'start' and claims ever more packages: the same page forever.
    portals.faults["/ckan/api/action/package_search"] = lambda r: (200, {}, {
        "success": True, "result": {"count": 10**6, "results": portals.ckan_packages[:1]}})
    report = run(new_catalog, "barcelona-ckan")
    assert report.status == "failed" and "page" in report.failure
    assert snapshot(new_catalog) == before


def test_a_source_that_suddenly_lists_nothing_is_refused(
    new_catalog: Catalog, portals: RecordedPortals
) -> None:
    add_sources(new_catalog, portals, "chicago")
    run(new_catalog, "chicago")
    before = snapshot(new_catalog)
    portals.socrata = dict(portals.socrata, results=[])
    report = run(new_catalog, "chicago")
    assert report.status == "failed" and "listed no datasets" in report.failure
    assert snapshot(new_catalog) == before


def test_unidentifiable_records_stop_withdrawals_for_that_run(
    new_catalog: Catalog, portals: RecordedPortals
) -> None:
    add_sources(new_catalog, portals, "cftc")
    run(new_catalog, "cftc")
    catalog_doc = portals.dcat["/cftc/data.json"]
    first = catalog_doc["dataset"][0]
    catalog_doc["dataset"][0] = {k: v for k, v in first.items() if k != "identifier"}
    report = run(new_catalog, "cftc")
    assert report.status == "complete"
    assert report.counts["withdrawn"] == 0 and report.counts["errors"] == 1
    assert "no 'identifier'" in report.errors[0]["message"]
    assert any("no dataset was marked withdrawn" in w for w in report.warnings)


def test_a_run_killed_halfway_leaves_the_catalog_identical_and_the_next_run_completes(
    tmp_path: Path, portals: RecordedPortals
) -> None:
    env = {**os.environ, "CATALOG_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"}
    env.pop("CATALOG_DATABASE_URL", None)
    env.pop("CATALOG_ELASTICSEARCH_URL", None)
    catalog_cmd = [sys.executable, "-m", "web.cli"]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*catalog_cmd, *args], env=env, cwd=REPO, capture_output=True,
                              text=True, timeout=300)

    spec = next(s for s in portals.sources() if s["name"] == "chicago")
    assert cli("source", "add", "chicago", "--type", "socrata", "--url", spec["url"],
               "--option", "domain=data.cityofchicago.org", "--option", "limit=2").returncode == 0
    assert cli("harvest", "chicago").returncode == 0
    for result in portals.socrata["results"]:  # the source changed since
        result["resource"]["description"] = "Changed while the next run was killed."
    dump_before = cli("dump").stdout
    # Page 2 hangs: the run is halfway (page 1 read) when it is killed with SIGKILL.
    reached = []

    def stall(request: Any) -> Any:
        if int(request.query.get("offset", 0)) > 0:
            reached.append(time.monotonic())
            time.sleep(30)
        return portals._discovery(request)

    portals.faults["/socrata/api/catalog/v1"] = stall
    process = subprocess.Popen([*catalog_cmd, "harvest", "chicago"], env=env, cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not reached and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert reached, process.communicate()
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert cli("dump").stdout == dump_before
    # The next run finds the dead run, marks it abandoned and completes.
    del portals.faults["/socrata/api/catalog/v1"]
    done = cli("harvest", "chicago")
    assert done.returncode == 0, done.stderr
    assert "complete" in done.stdout
    shown = cli("source", "show", "chicago").stdout
    assert "abandoned" in shown and shown.count("complete") >= 2
    assert cli("dump").stdout != dump_before  # the changes did arrive


# --------------------------------------------------------------- identity and access


def test_two_sources_cannot_both_own_a_dataset(
    new_catalog: Catalog, portals: RecordedPortals
) -> None:
    add_sources(new_catalog, portals, "cftc")
    run(new_catalog, "cftc")
    with new_catalog.transaction() as session:
        save_source(session, validate_source({
            "name": "cftc-mirror", "type": "dcat", "url": f"{portals.url}/cftc/data.json",
            "agency": "Commodity Futures Trading Commission"}))
    report = run(new_catalog, "cftc-mirror")
    assert report.counts["created"] == 0 and report.counts["errors"] == 7
    assert "already harvested from source 'cftc'" in report.errors[0]["message"]
    with new_catalog.session() as session:
        owners = set(session.scalars(select(Source.name).join(Dataset,
                                                              Dataset.source_id == Source.id)))
    assert owners == {"cftc"}


def test_source_pages_count_and_quote_only_what_the_visitor_may_see(
    new_catalog: Catalog, portals: RecordedPortals
) -> None:
    add_sources(new_catalog, portals, "cftc")
    doc = portals.dcat["/cftc/data.json"]
    hidden = doc["dataset"][0]
    hidden["accessLevel"] = "non-public"
    hidden["title"] = "SECRETTITLE internal surveillance data"
    assert run(new_catalog, "cftc").counts["created"] == 7
    # A later run with an error about the hidden dataset, and one about a public one.
    hidden["accessLevel"] = "bogus-level"
    doc["dataset"][1]["accessLevel"] = "bogus-level"
    public_title = doc["dataset"][1]["title"]
    report = run(new_catalog, "cftc")
    assert report.counts["errors"] == 2
    client = create_app(new_catalog).test_client()
    page = client.get("/sources/cftc").get_data(as_text=True)
    assert "SECRETTITLE" not in page
    assert hidden["identifier"] not in page
    assert doc["dataset"][1]["identifier"] in page  # the public one's error is quoted
    assert "1 problem with records that are not public" in page
    # Counts of the first run: 6 public datasets added, not 7.
    assert ">6</td>" in page and ">7</td>" not in page
    listing = client.get("/sources").get_data(as_text=True)
    assert "cftc" in listing
    api = client.get("/api/v1/sources/cftc")
    assert api.status_code == 200 and "SECRETTITLE" not in api.get_data(as_text=True)
    runs = api.get_json()["runs"]
    assert [r["counts"]["created"] for r in runs] == [0, 6]
    assert runs[0]["hidden_errors"] == 1 and len(runs[0]["errors"]) == 1
    assert api.get_json()["datasets"] == 6
    assert client.get("/api/v1/sources").get_json()["sources"][0]["datasets"] == 6
    # The dataset whose new copy was rejected keeps its last good one.
    with new_catalog.session() as session:
        kept = session.scalar(select(Dataset).where(Dataset.title == public_title))
        assert kept is not None and kept.status == "active"


def test_a_source_with_only_hidden_datasets_is_not_shown(
    new_catalog: Catalog, portals: RecordedPortals
) -> None:
    add_sources(new_catalog, portals, "sonyma")
    for entry in portals.dcat["/sonyma/data.json"]["dataset"]:
        entry["accessLevel"] = "restricted public"
    assert run(new_catalog, "sonyma").status == "complete"
    client = create_app(new_catalog).test_client()
    assert client.get("/sources/sonyma").status_code == 404
    assert client.get("/api/v1/sources/sonyma").status_code == 404
    assert client.get("/api/v1/sources").get_json() == {"total": 0, "sources": []}
    assert "sonyma" not in client.get("/sources").get_data(as_text=True)


# ------------------------------------------------------------------------------- CLI


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from web.cli import main

    monkeypatch.setenv("CATALOG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CATALOG_DATABASE_URL", raising=False)
    monkeypatch.delenv("CATALOG_ELASTICSEARCH_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(main, list(args), catch_exceptions=False)
    return invoke


def test_cli_sources_from_a_toml_file_harvest_show_edit_and_remove(
    cli: Any, portals: RecordedPortals, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_APP_TOKEN", "s3cret-token")
    toml = tmp_path / "sources.toml"
    toml.write_text(f'''
[sources.chicago]
type = "socrata"
url = "{portals.url}/socrata"
agency = "City of Chicago"
schedule = "0 3 * * *"
[sources.chicago.options]
domain = "data.cityofchicago.org"
app_token = "${{TEST_APP_TOKEN}}"

[sources.sonyma]
type = "dcat"
url = "{portals.url}/sonyma/data.json"
enabled = false
''', encoding="utf-8")
    synced = cli("source", "sync", str(toml))
    assert synced.exit_code == 0 and "added: chicago, sonyma" in synced.output
    assert "unchanged: chicago, sonyma" in cli("source", "sync", str(toml)).output
    listing = cli("source", "list")
    assert "chicago" in listing.output and "0 3 * * *" in listing.output
    harvested = cli("harvest")  # every enabled source: chicago only
    assert harvested.exit_code == 0, harvested.output
    assert "chicago" in harvested.output and "sonyma" not in harvested.output
    assert "added" in harvested.output and "unchanged" in harvested.output
    # The app token was sent, expanded from the environment, and is never printed.
    tokens = {headers.get("x-app-token") for _, path, _, headers in portals.server.log
              if path.endswith("/catalog/v1")}
    assert tokens == {"s3cret-token"}
    shown = cli("source", "show", "chicago")
    assert "${TEST_APP_TOKEN}" in shown.output and "s3cret" not in shown.output
    assert "complete" in shown.output and "5 active" in shown.output
    as_json = json.loads(cli("source", "list", "--json").output)
    assert as_json[0]["datasets"] == 5

    # A steward's edit from the command line.
    from catalog.config import load_settings
    from catalog.service import Catalog as Cat

    with Cat(load_settings()).session() as session:
        target = session.scalar(select(Dataset).where(Dataset.identifier == "i6bp-fvbx"))
        field_name = session.scalar(select(Field.name).where(Field.dataset_id == target.id))
        dataset_id = target.id
    edited = cli("edit", str(dataset_id), field_name, "--description", "Steward text.",
                 "--by", "steward:li")
    assert edited.exit_code == 0, edited.output
    assert cli("edit", str(dataset_id), "--label", "x").exit_code != 0  # datasets have no label
    assert cli("harvest", "chicago").exit_code == 0

    removed = cli("source", "remove", "chicago", "--yes")
    assert "5 dataset(s) kept, marked withdrawn" in removed.output
    toml.write_text(toml.read_text().split("[sources.sonyma]")[0], encoding="utf-8")
    pruned = cli("source", "sync", str(toml), "--prune")
    assert "added: chicago" in pruned.output and "removed: sonyma" in pruned.output


@pytest.mark.parametrize(("args", "message"), [
    (["--type", "gopher", "--url", "http://x"], "Invalid value for '--type'"),
    (["--type", "dcat", "--url", "ftp://x"], "must be an http(s):// or file:// URL"),
    (["--type", "dcat", "--url", "http://x", "--schedule", "every day"],
     "is not a cron expression"),
    (["--type", "dcat", "--url", "http://x", "--option", "novalue"], "expected KEY=VALUE"),
    (["--type", "ckan", "--url", "http://x", "--option", "organisation=health"],
     "options > organisation: not an option of ckan sources (did you mean 'organization'?)"),
    (["--type", "ckan", "--url", "http://x", "--option", "max_pages=lots"],
     "options > max_pages: Not a valid integer."),
    (["--type", "socrata", "--url", "http://x", "--option", "timeout=-1"],
     "options > timeout: Must be greater than 0."),
    (["--type", "web", "--url", "http://x", "--option", "link_pattern=(unclosed"],
     "options > link_pattern: not a regular expression"),
])
def test_cli_bad_sources_are_clear_errors(cli: Any, args: list[str], message: str) -> None:
    result = cli("source", "add", "bad", *args)
    assert result.exit_code != 0 and message in result.output


def test_bad_sources_file_names_the_entry(tmp_path: Path) -> None:
    from catalog.sources import read_sources_file

    path = tmp_path / "sources.toml"
    path.write_text('[sources.Bad_Name]\ntype = "dcat"\nurl = "http://x"\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"'Bad_Name'.*name"):
        read_sources_file(path)
    path.write_text('[sources.ok]\ntype = "dcat"\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"'ok'.*url"):
        read_sources_file(path)
    path.write_text("[sources\n", encoding="utf-8")
    with pytest.raises(SourceError, match="not valid TOML"):
        read_sources_file(path)


def test_options_are_typed_and_a_stored_bad_one_fails_its_run_by_name(
        tmp_path: Path, embedder: Any, cli: Any) -> None:
    from sqlalchemy import update

    from catalog.config import load_settings

    added = cli("source", "add", "typed", "--type", "ckan", "--url", "http://x.example",
                "--option", "rows=50", "--option", "api_key=${CKAN_KEY}")
    assert added.exit_code == 0, added.output
    shown = cli("source", "show", "typed", "--json")
    assert '"rows": 50' in shown.output and "${CKAN_KEY}" in shown.output
    # One stored before options were checked: its run names the option, not int('lots').
    catalog = Catalog(load_settings(data_dir=tmp_path / "data", database_url=None),
                      embedder=embedder)
    with catalog.transaction() as session:
        session.execute(update(Source).where(Source.name == "typed")
                        .values(options={"max_pages": "lots"}))
    catalog.close()
    ran = cli("harvest", "typed")
    assert ran.exit_code != 0 and "options > max_pages: Not a valid integer." in ran.output


def test_harvest_of_an_unknown_source_fails_clearly(cli: Any) -> None:
    result = cli("harvest", "nowhere")
    assert result.exit_code != 0 and "no source named 'nowhere'" in result.output


def test_the_example_sources_file_is_valid() -> None:
    from catalog.sources import SOURCE_TYPES, read_sources_file

    entries = read_sources_file(REPO / "sources.example.toml")
    assert {e["type"] for e in entries} == set(SOURCE_TYPES)
