"""Harvesters of documents over real HTTP: data packages, dictionary files and pages, describedBy.

The documents are real corpus files copied unchanged into tests/recorded/harvest_files/ (see
tests/recorded/README.md); a local server (tests/replay_server.py) serves them, and the fault
cases (a schema moved out of its package, a 500 that never ends, a 404 page, a maintenance
page) are made from them here. No mocks: every request is a real HTTP request to 127.0.0.1.
Every harvested record is compared with what :func:`indexer.formats.parse` reads from the same
file on disk: the identifiers must be the same on every run and the same as a load from disk.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from indexer import formats
from indexer.formats import datapackage
from indexer.harvesters import HARVESTER_MODULES, HarvestItem, dcat, frictionless, harvester, web
from indexer.http import Fetcher
from indexer.load import iter_files
from tests.replay_server import ReplayServer
from tests.test_harvest_http import run

RECORDED = Path(__file__).parent / "recorded"
FILES = RECORDED / "harvest_files"
OUI = FILES / "dol_developer_portal" / "2013-01-30-oui-inital-claims.md"
CES = FILES / "dol_developer_portal" / "2013-01-30-bls-current-employment-statistics-ces.md"
BLS = FILES / "bls_qcew_nonprofit" / "data-dictionary.csv"
CALWORKS = FILES / "ca_cdss_calworks" / "calworks_ca237cw_data_dictionary.csv"
ENROLLMENT = FILES / "ctdata" / "student-enrollment.datapackage.json"
ABSENTEEISM = FILES / "ctdata" / "chronic-absenteeism-by-grade.datapackage.json"
ENROLLMENT_RESOURCE = "data/student-enrollment-by-grade_2007-2016.csv"
CSV_TYPE = "text/csv; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAINTENANCE = "<html><body><h1>Down for maintenance</h1><p>Back soon.</p></body></html>"
NOT_FOUND = (404, {"Content-Type": "text/plain"}, "no such page\n")
ERROR_500 = (500, {"Content-Type": "text/html"}, "<h1>Internal Server Error</h1>")


def make_fetcher() -> Fetcher:
    """A Fetcher with short timeouts and waits, so that fault cases end in seconds."""
    return Fetcher(connect_timeout=1.0, read_timeout=1.0, retries=2, backoff_factor=0.01,
                   max_backoff=0.1, max_retry_after=1.5)


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with make_fetcher() as client:
        yield client




def datasets(items: list[HarvestItem]) -> dict[str, dict[str, Any]]:
    return {item.identifier: item.dataset for item in items if item.dataset}


def errors(items: list[HarvestItem]) -> list[HarvestItem]:
    return [item for item in items if item.error]


def from_disk(path: Path) -> list[dict[str, Any]]:
    """The records the loader reads from the same file on disk."""
    return formats.parse(path).datasets


def without_url(record: dict[str, Any]) -> dict[str, Any]:
    """A harvested record without the URL it was fetched from (which a disk load lacks)."""
    record = copy.deepcopy(record)
    record["extra"].pop("document_url", None)
    return record


def served(path: Path, content_type: str) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": content_type}, path.read_bytes()


def package(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))


def workbook_of(path: Path) -> bytes:
    """An XLSX workbook holding the rows of a real CSV dictionary (built here, not recorded)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Dictionary"
    for row in csv.reader(io.StringIO(path.read_text("utf-8"), newline="")):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_harvesters_are_registered() -> None:
    assert {"frictionless", "web"} <= set(HARVESTER_MODULES)
    assert harvester("frictionless") is frictionless
    assert harvester("web") is web


# -------------------------------------------------------------------------- data packages


def test_frictionless_schema_by_reference_is_fetched_and_inlined(
        fetcher: Fetcher, tmp_path: Path) -> None:
    original = package(ENROLLMENT)
    by_reference = copy.deepcopy(original)
    schema = by_reference["resources"][0]["schema"]
    by_reference["resources"][0]["schema"] = "schemas/enrollment.json"  # relative to the package
    routes = {
        "/ctdata/student-enrollment/datapackage.json": (200, {}, by_reference),
        "/ctdata/student-enrollment/schemas/enrollment.json": (200, {}, schema),
    }
    with ReplayServer(routes) as server:
        url = f"{server.url}/ctdata/student-enrollment/datapackage.json"
        items, error = run(frictionless.harvest(url, fetcher=fetcher, options={}))
        assert server.hits("/ctdata/student-enrollment/schemas/enrollment.json") == 1
    assert error is None
    [item] = items
    assert item.identifier == "student-enrollment" and item.total == 1
    record = item.dataset
    assert record["extra"]["document_url"] == url
    [disk] = from_disk(ENROLLMENT)  # the same package with its schema inline, read from disk
    assert without_url(record) == disk
    assert [f["name"] for f in record["fields"]] == [
        "District", "FIPS", "Year", "Grade", "Measure Type", "Variable", "Value"]
    grade = record["fields"][3]
    assert grade["position"] == 4 and grade["source_type"] == "string"
    assert grade["value_labels"][:2] == [{"code": "Pre Kindergarten", "label": "Pre Kindergarten"},
                                         {"code": "Kindergarten", "label": "Kindergarten"}]
    # The format module alone does not follow the reference: the harvester is what reads it.
    saved = tmp_path / "student-enrollment.datapackage.json"
    saved.write_text(json.dumps(by_reference), "utf-8")
    assert datapackage.parse(saved).datasets[0]["fields"] == []


def test_frictionless_packages_listed_with_one_missing(fetcher: Fetcher, tmp_path: Path) -> None:
    nameless = package(ABSENTEEISM)
    del nameless["name"]  # the identifier then comes from the folder, as on disk
    routes = {
        "/packages/student-enrollment/datapackage.json": served(ENROLLMENT, "application/json"),
        "/packages/chronic-absenteeism-by-grade/datapackage.json": (200, {}, nameless),
        "/packages/gone/datapackage.json": NOT_FOUND,
    }
    listed = ["student-enrollment/datapackage.json", "gone/datapackage.json",
              "chronic-absenteeism-by-grade/datapackage.json"]
    with ReplayServer(routes) as server:
        items, error = run(frictionless.harvest(f"{server.url}/packages/", fetcher=fetcher,
                                                options={"packages": listed}))
    assert error is None
    assert [item.identifier for item in items] == [
        "student-enrollment", None, "chronic-absenteeism-by-grade"]
    assert {item.total for item in items} == {3}
    [bad] = errors(items)
    assert bad.error == (f"package {server.url}/packages/gone/datapackage.json: "
                         "HTTP 404 Not Found: «no such page»")
    saved = tmp_path / "chronic-absenteeism-by-grade" / "datapackage.json"
    saved.parent.mkdir()
    saved.write_text(json.dumps(nameless), "utf-8")
    [disk] = from_disk(saved)
    assert without_url(datasets(items)["chronic-absenteeism-by-grade"]) == disk
    assert len(disk["fields"]) == 7


def test_frictionless_schema_failing_is_an_error_item_with_identifier(fetcher: Fetcher) -> None:
    by_reference = package(ENROLLMENT)
    by_reference["resources"][0]["schema"] = "/schemas/enrollment.json"
    routes = {
        "/a/datapackage.json": (200, {}, by_reference),
        "/b/chronic-absenteeism-by-grade.datapackage.json": served(ABSENTEEISM, "text/plain"),
        "/schemas/enrollment.json": ERROR_500,
    }
    with ReplayServer(routes) as server:
        options = {"packages": ["/a/datapackage.json",
                                "/b/chronic-absenteeism-by-grade.datapackage.json"]}
        items, error = run(frictionless.harvest(server.url, fetcher=fetcher, options=options))
        assert server.hits("/schemas/enrollment.json") == 3  # retried, then given up
    assert error is None
    [bad] = errors(items)
    assert bad.identifier == "student-enrollment"  # the caller keeps its last good copy
    assert bad.error == (
        f"package 'student-enrollment': schema of {ENROLLMENT_RESOURCE!r} "
        f"({server.url}/schemas/enrollment.json) not read: gave up after 3 attempts: "
        "HTTP 500 Internal Server Error: «<h1>Internal Server Error</h1>»")
    assert list(datasets(items)) == ["chronic-absenteeism-by-grade"]


def test_frictionless_single_package_that_fails_ends_the_run(fetcher: Fetcher) -> None:
    routes = {"/datapackage.json": NOT_FOUND,
              "/ckan.json": (200, {}, {"help": "x", "success": True, "result": {}})}
    with ReplayServer(routes) as server:
        items, error = run(frictionless.harvest(f"{server.url}/datapackage.json",
                                                fetcher=fetcher, options={}))
        assert items == [] and error is not None and error.status == 404
        items, error = run(frictionless.harvest(f"{server.url}/ckan.json", fetcher=fetcher,
                                                options={}))
        assert items == []
        assert str(error) == (f"{server.url}/ckan.json: expected a data package: a JSON object "
                              "with a 'resources' list")


# ------------------------------------------------------------------ web pages and dictionaries


def test_web_dol_page_fields_are_recognised(fetcher: Fetcher) -> None:
    path = f"/expanding-growth/_posts/{OUI.name}"
    with ReplayServer({path: served(OUI, "text/markdown; charset=utf-8")}) as server:
        items, error = run(web.harvest(server.url + path, fetcher=fetcher, options={}))
        [(_, _, _, headers)] = server.log
    assert error is None
    [item] = items
    assert item.identifier == "2013-01-30-oui-inital-claims" and item.total == 1
    record = item.dataset
    assert record["title"] == "OUI Initial Claims"
    assert record["extra"]["api_url"] == "https://api.dol.gov/V1/Statistics/OUI_InitialClaims"
    assert record["extra"]["document_url"] == server.url + path
    assert [f["name"] for f in record["fields"]][:4] == [
        "id", "week", "initialClaimsSeasonalFactor", "continuingClaimsSeasonalFactor"]
    assert len(record["fields"]) == 10
    week = record["fields"][1]
    assert (week["position"], week["description"], week["source_type"], week["data_type"]) == (
        2, "Week", "datetime", "datetime")
    assert without_url(record) == from_disk(OUI)[0]
    assert headers["accept"].startswith("text/csv")  # a document, not the JSON default
    assert headers["user-agent"].startswith("metadata-catalog/")


def test_web_page_without_suffix_is_named_from_its_content_type(fetcher: Fetcher) -> None:
    with ReplayServer({"/developer/ces": served(CES, HTML_TYPE)}) as server:
        items, error = run(web.harvest(f"{server.url}/developer/ces", fetcher=fetcher,
                                       options={}))
    assert error is None
    [item] = items
    assert item.identifier == "ces"  # the URL's last segment, as a file named ces.html would be
    [disk] = from_disk(CES)
    assert item.dataset["fields"] == disk["fields"] and len(disk["fields"]) == 30
    assert item.dataset["title"] == "Current Employment Statistics (CES)"


def test_web_csv_dictionary_over_http(fetcher: Fetcher) -> None:
    routes = {"/dictionaries/data-dictionary.csv": served(BLS, CSV_TYPE),
              "/export/qcew-nonprofit": served(BLS, CSV_TYPE)}
    with ReplayServer(routes) as server:
        first, error1 = run(web.harvest(f"{server.url}/dictionaries/data-dictionary.csv",
                                        fetcher=fetcher, options={}))
        second, error2 = run(web.harvest(f"{server.url}/export/qcew-nonprofit",
                                         fetcher=fetcher, options={}))
    assert error1 is None and error2 is None
    [disk] = from_disk(BLS)
    assert without_url(first[0].dataset) == disk
    assert first[0].identifier == "data-dictionary"
    assert second[0].identifier == "qcew-nonprofit"  # no suffix: .csv from the Content-Type
    assert second[0].dataset["fields"] == disk["fields"]
    fips = disk["fields"][0]
    assert (fips["position"], fips["name"]) == (1, "FIPS")
    assert fips["description"].startswith("FIPS code (00 = U.S. Totals")
    assert len(disk["fields"]) == 14


def test_web_workbook_sniffed_from_its_bytes(fetcher: Fetcher) -> None:
    body = workbook_of(CALWORKS)
    routes = {"/download/calworks": (200, {"Content-Type": "application/octet-stream"}, body),
              "/typed/calworks-report": (200, {"Content-Type": XLSX_TYPE}, body)}
    with ReplayServer(routes) as server:
        options = {"urls": ["/download/calworks", "/typed/calworks-report"]}
        items, error = run(web.harvest(server.url, fetcher=fetcher, options=options))
    assert error is None
    assert list(datasets(items)) == ["calworks", "calworks-report"]
    [disk] = from_disk(CALWORKS)
    for record in datasets(items).values():
        assert [f["name"] for f in record["fields"]] == [f["name"] for f in disk["fields"]]
        assert record["extra"]["sheet"] == "Dictionary"
    assert len(disk["fields"]) == 149


def test_web_bad_pages_are_error_items_and_the_rest_go_on(fetcher: Fetcher) -> None:
    routes = {
        f"/pages/{OUI.name}": served(OUI, "text/markdown"),
        "/pages/gone.html": NOT_FOUND,
        "/pages/maintenance.html": (200, {"Content-Type": HTML_TYPE}, MAINTENANCE),
        "/pages/garbage.csv": (200, {"Content-Type": CSV_TYPE}, b"\x00\x01\x02 not a table"),
        "/dictionaries/data-dictionary.csv": served(BLS, CSV_TYPE),
    }
    urls = [f"/pages/{OUI.name}", "/pages/gone.html", "/pages/maintenance.html",
            "/pages/garbage.csv", "/dictionaries/data-dictionary.csv"]
    with ReplayServer(routes) as server:
        items, error = run(web.harvest(server.url, fetcher=fetcher, options={"urls": urls}))
    assert error is None
    assert list(datasets(items)) == ["2013-01-30-oui-inital-claims", "data-dictionary"]
    assert {item.total for item in items} == {5}
    gone, maintenance, garbage = errors(items)
    assert gone.identifier == "gone"  # a page's dataset is named after it: keep the last copy
    assert gone.error == (f"document {server.url}/pages/gone.html: HTTP 404 Not Found: "
                          "«no such page»")
    assert maintenance.identifier == "maintenance"
    assert maintenance.error.startswith(f"document {server.url}/pages/maintenance.html: "
                                        "not a recognised metadata format")
    assert garbage.identifier == "garbage"
    assert garbage.error.startswith(f"document {server.url}/pages/garbage.csv: no header row")


def test_web_every_document_failing_ends_the_run(fetcher: Fetcher) -> None:
    routes = {"/a.html": NOT_FOUND, "/b.html": (200, {"Content-Type": HTML_TYPE}, MAINTENANCE),
              "/c.csv": ERROR_500}
    with ReplayServer(routes) as server:
        items, error = run(web.harvest(server.url, fetcher=fetcher,
                                       options={"urls": ["/a.html", "/b.html"]}))
        assert [item.identifier for item in items] == ["a", "b"]
        assert all(item.error and not item.dataset for item in items)
        assert error is not None and error.url == server.url
        assert error.problem.startswith(
            f"none of the 2 documents could be read; first: {server.url}/a.html: HTTP 404")
        # A single document that fails is the run's failure.
        items, error = run(web.harvest(f"{server.url}/c.csv", fetcher=fetcher, options={}))
        assert server.hits("/c.csv") == 3
        assert items == []
        assert str(error) == (f"{server.url}/c.csv: gave up after 3 attempts: HTTP 500 "
                              "Internal Server Error: «<h1>Internal Server Error</h1>»")
        items, error = run(web.harvest(f"{server.url}/b.html", fetcher=fetcher, options={}))
        assert items == []
        assert error.problem.startswith("cannot read the document: not a recognised metadata")


def test_web_identifiers_are_stable_and_match_a_load_from_disk(fetcher: Fetcher) -> None:
    files = [OUI, CES, BLS, CALWORKS]
    routes = {f"/docs/{path.parent.name}/{path.name}": served(path, "application/octet-stream")
              for path in files}
    with ReplayServer(routes) as server:
        options = {"urls": list(routes)}
        first, error1 = run(web.harvest(server.url, fetcher=fetcher, options=options))
        second, error2 = run(web.harvest(server.url, fetcher=fetcher, options=options))
    assert error1 is None and error2 is None
    on_disk = [record for path in files for record in from_disk(path)]
    expected = [record["identifier"] for record in on_disk]
    assert expected == ["2013-01-30-oui-inital-claims",
                        "2013-01-30-bls-current-employment-statistics-ces",
                        "data-dictionary", "calworks_ca237cw_data_dictionary"]
    assert [item.identifier for item in first] == expected
    assert [item.identifier for item in second] == expected
    assert [without_url(item.dataset) for item in first] == on_disk
    assert [item.dataset for item in first] == [item.dataset for item in second]


def test_web_repeated_identifier_keeps_the_first(fetcher: Fetcher) -> None:
    routes = {"/2019/data-dictionary.csv": served(BLS, CSV_TYPE),
              "/2020/data-dictionary.csv": served(BLS, CSV_TYPE)}
    with ReplayServer(routes) as server:
        items, error = run(web.harvest(server.url, fetcher=fetcher,
                                       options={"urls": list(routes)}))
    assert error is None
    assert [item.identifier for item in items] == ["data-dictionary", None]
    assert items[0].dataset["extra"]["document_url"] == f"{server.url}/2019/data-dictionary.csv"
    assert items[1].error == (f"document {server.url}/2020/data-dictionary.csv: identifier "
                              "'data-dictionary' repeated, the first one is kept")


def test_web_index_page_links_are_followed(fetcher: Fetcher) -> None:
    index = (f'<html><body><h1>Data dictionaries</h1><ul>'
             f'<li><a href="../">Parent folder</a></li>'
             f'<li><a href="#top">Top</a></li>'
             f'<li><a href="{OUI.name}">OUI initial claims</a></li>'
             f'<li><a href="/dictionaries/data-dictionary.csv">QCEW nonprofit</a></li>'
             f'<li><a href="{OUI.name}#fields">OUI again</a></li>'
             f'<li><a href="mailto:data@example.gov">Contact</a></li>'
             f'<li><a href="notes.pdf">Notes</a></li></ul></body></html>')
    routes = {"/catalog/": (200, {"Content-Type": HTML_TYPE}, index),
              f"/catalog/{OUI.name}": served(OUI, "text/markdown"),
              "/dictionaries/data-dictionary.csv": served(BLS, CSV_TYPE),
              "/empty/": (200, {"Content-Type": HTML_TYPE}, MAINTENANCE)}
    with ReplayServer(routes) as server:
        items, error = run(web.harvest(f"{server.url}/catalog/", fetcher=fetcher,
                                       options={"index": True}))
        assert error is None
        assert list(datasets(items)) == ["2013-01-30-oui-inital-claims", "data-dictionary"]
        assert {item.total for item in items} == {2}
        assert "/catalog/notes.pdf" not in [path for _, path, _, _ in server.log]
        _, error = run(web.harvest(f"{server.url}/missing/", fetcher=fetcher,
                                   options={"index": True}))
        assert error is not None and error.status == 404  # the index page: the run fails
        _, error = run(web.harvest(f"{server.url}/empty/", fetcher=fetcher,
                                   options={"index": True}))
        assert error.problem.startswith("the index page has no links to dictionaries")


# --------------------------------------------------------------------------------- folders


def test_web_folder_harvest_reads_every_file(fetcher: Fetcher, tmp_path: Path) -> None:
    folder = tmp_path / "files"
    shutil.copytree(FILES, folder)
    (folder / ".hidden.csv").write_text("Field name,Description\nx,hidden\n", "utf-8")
    (folder / "broken.csv").write_text("nothing,to\nsee,here\n", "utf-8")
    items, error = run(web.harvest(str(folder), fetcher=fetcher, options={}))
    assert error is None
    files = list(iter_files([folder]))
    assert len(files) == 7 and not any(p.name.startswith(".") for p in files)
    assert {item.total for item in items} == {7}
    on_disk = [record for path in files if path.name != "broken.csv"
               for record in from_disk(path)]
    assert [item.dataset for item in items if item.dataset] == on_disk  # parsed in place
    assert sorted(datasets(items)) == sorted([
        "2013-01-30-oui-inital-claims", "2013-01-30-bls-current-employment-statistics-ces",
        "data-dictionary", "calworks_ca237cw_data_dictionary", "student-enrollment",
        "chronic-absenteeism-by-grade"])
    [broken] = errors(items)
    assert broken.identifier == "broken"
    assert broken.error.startswith(f"document {folder / 'broken.csv'}: no header row")
    again, _ = run(web.harvest(folder.as_uri(), fetcher=fetcher, options={}))  # file:// URL
    assert [(i.identifier, i.dataset, i.error) for i in again] == [
        (i.identifier, i.dataset, i.error) for i in items]


def test_web_folder_that_cannot_be_read_ends_the_run(fetcher: Fetcher, tmp_path: Path) -> None:
    _, error = run(web.harvest(str(tmp_path / "missing"), fetcher=fetcher, options={}))
    assert error is not None and "no such file or folder" in error.problem
    _, error = run(web.harvest(str(tmp_path), fetcher=fetcher, options={}))
    assert error is not None and error.problem == "no files in the folder"
    (tmp_path / "a.csv").write_text("nothing,to\nsee,here\n", "utf-8")
    (tmp_path / "b.txt").write_text("just notes\n", "utf-8")
    items, error = run(web.harvest(str(tmp_path), fetcher=fetcher, options={}))
    assert len(errors(items)) == 2
    assert error is not None and error.problem == "none of the 2 files could be read"


# ------------------------------------------------------------------------ DCAT describedBy


def dcat_catalog(server_url: str) -> dict[str, Any]:
    """The recorded CFTC data.json, with describedBy links to dictionaries on the test server.

    cftc-dc1: a real CSV dictionary (text/csv); cftc-dc2: the Table Schema of a real data
    package (application/schema+json); cftc-dc3: an XLSX by suffix only; cftc-dc4: the same CSV
    as cftc-dc1; cftc-dc5..7 keep their real describedBy, an HTML page, which is not followed.
    """
    catalog = json.loads((RECORDED / "dcat_cftc_data.json").read_text("utf-8"))
    entries = {entry["identifier"]: entry for entry in catalog["dataset"]}
    entries["cftc-dc1"].update(describedBy=f"{server_url}/dictionaries/data-dictionary.csv",
                               describedByType="text/csv")
    entries["cftc-dc2"].update(describedBy=f"{server_url}/schemas/student-enrollment",
                               describedByType="application/schema+json")
    entries["cftc-dc3"].update(describedBy="/dictionaries/calworks.xlsx")  # relative
    entries["cftc-dc3"].pop("describedByType", None)
    entries["cftc-dc4"].update(describedBy=f"{server_url}/dictionaries/data-dictionary.csv",
                               describedByType="text/csv")
    return catalog


def dcat_routes(catalog_of: Any) -> dict[str, Any]:
    schema = package(ENROLLMENT)["resources"][0]["schema"]
    return {
        "/data.json": lambda request: (200, {}, catalog_of()),
        "/dictionaries/data-dictionary.csv": served(BLS, CSV_TYPE),
        "/schemas/student-enrollment": (200, {"Content-Type": "application/schema+json"},
                                        schema),
        "/dictionaries/calworks.xlsx": (200, {"Content-Type": XLSX_TYPE},
                                        workbook_of(CALWORKS)),
    }


def test_dcat_described_by_csv_xlsx_and_table_schema(fetcher: Fetcher) -> None:
    holder: dict[str, Any] = {}
    with ReplayServer() as server:
        holder["catalog"] = dcat_catalog(server.url)
        server.routes.update(dcat_routes(lambda: holder["catalog"]))
        items, error = run(dcat.harvest(f"{server.url}/data.json", fetcher=fetcher,
                                        options={}))
        assert server.hits("/dictionaries/data-dictionary.csv") == 1  # shared: fetched once
        assert server.hits("/schemas/student-enrollment") == 1
        assert len(server.log) == 4  # no request for the HTML describedBy pages
    assert error is None and errors(items) == []
    records = datasets(items)
    assert list(records) == [f"cftc-dc{n}" for n in range(1, 8)]
    [bls] = from_disk(BLS)
    assert records["cftc-dc1"]["fields"] == bls["fields"]
    assert records["cftc-dc4"]["fields"] == bls["fields"]
    assert [f["position"] for f in bls["fields"]] == list(range(1, 15))
    [enrollment] = from_disk(ENROLLMENT)
    schema_fields = records["cftc-dc2"]["fields"]
    assert schema_fields == enrollment["fields"]
    assert [(f["position"], f["name"], f["source_type"]) for f in schema_fields][:3] == [
        (1, "District", "string"), (2, "FIPS", "string"), (3, "Year", "string")]
    [calworks] = from_disk(CALWORKS)
    xlsx_fields = records["cftc-dc3"]["fields"]
    assert [f["name"] for f in xlsx_fields] == [f["name"] for f in calworks["fields"]]
    assert [f["position"] for f in xlsx_fields] == list(range(1, 150))
    for n in (5, 6, 7):
        assert records[f"cftc-dc{n}"]["fields"] == []
    # The rest of the record is the format module's, as when data.json is loaded from disk.
    dc1 = records["cftc-dc1"]
    assert dc1["extra"]["described_by"] == f"{server.url}/dictionaries/data-dictionary.csv"
    assert dc1["title"] and dc1["agency"]


def test_dcat_described_by_can_be_turned_off(fetcher: Fetcher) -> None:
    holder: dict[str, Any] = {}
    with ReplayServer() as server:
        holder["catalog"] = dcat_catalog(server.url)
        server.routes.update(dcat_routes(lambda: holder["catalog"]))
        items, error = run(dcat.harvest(f"{server.url}/data.json", fetcher=fetcher,
                                        options={"described_by": False}))
        assert [path for _, path, _, _ in server.log] == ["/data.json"]
    assert error is None
    assert all(record["fields"] == [] for record in datasets(items).values())


def test_dcat_described_by_failing_is_an_error_item_with_identifier(fetcher: Fetcher) -> None:
    holder: dict[str, Any] = {}
    with ReplayServer() as server:
        catalog = dcat_catalog(server.url)
        entries = {entry["identifier"]: entry for entry in catalog["dataset"]}
        entries["cftc-dc1"]["describedBy"] = f"{server.url}/dictionaries/broken.csv"
        entries["cftc-dc3"].update(describedBy=f"{server.url}/schemas/not-a-schema.json")
        entries["cftc-dc4"].update(describedBy=f"{server.url}/dictionaries/notes.csv")
        holder["catalog"] = catalog
        server.routes.update(dcat_routes(lambda: holder["catalog"]))
        server.routes["/dictionaries/broken.csv"] = ERROR_500
        server.routes["/schemas/not-a-schema.json"] = (200, {}, {"$schema": "x", "type": "object"})
        server.routes["/dictionaries/notes.csv"] = (200, {"Content-Type": CSV_TYPE}, "a,b\n1,2\n")
        items, error = run(dcat.harvest(f"{server.url}/data.json", fetcher=fetcher,
                                        options={}))
        assert server.hits("/dictionaries/broken.csv") == 3  # retried, then given up
    assert error is None
    by_id = {item.identifier: item for item in items}
    assert list(by_id) == [f"cftc-dc{n}" for n in range(1, 8)]
    broken = by_id["cftc-dc1"]
    assert broken.dataset is None and broken.total == 7
    assert broken.error == (
        f"dataset 'cftc-dc1': data dictionary (describedBy {server.url}/dictionaries/broken.csv)"
        " not read: gave up after 3 attempts: HTTP 500 Internal Server Error: "
        "«<h1>Internal Server Error</h1>»")
    assert by_id["cftc-dc3"].dataset["fields"] == []  # JSON, but not a Table Schema: no fields
    assert "not read: no header row with a field-name column" in by_id["cftc-dc4"].error
    assert by_id["cftc-dc2"].dataset["fields"]  # the others are read as before
    assert [n for n, item in by_id.items() if item.dataset] == [
        "cftc-dc2", "cftc-dc3", "cftc-dc5", "cftc-dc6", "cftc-dc7"]


def test_web_copybook_and_spss_files_keep_their_names(fetcher: Fetcher) -> None:
    copybook = ("       01  WAGE-REC.\n           05  WR-SSN      PIC 9(9).\n"
                "           05  WR-WAGES    PIC S9(7)V99 COMP-3.\n")
    syntax = ("DATA LIST FIXED /AGE 1-3 SEX 4 (A).\nVARIABLE LABELS AGE 'Age in years'.\n"
              "EXECUTE.\n")
    routes = {"/layouts/uiwage.cpy": (200, {"Content-Type": "text/plain"}, copybook),
              "/layouts/survey.sps": (200, {"Content-Type": "text/plain"}, syntax)}
    with ReplayServer(routes) as server:
        items, error = run(web.harvest(server.url, fetcher=fetcher, options={
            "urls": ["/layouts/uiwage.cpy", "/layouts/survey.sps"]}))
    assert error is None and [i.error for i in items] == [None, None]
    found = datasets(items)
    assert set(found) == {"uiwage", "survey"}
    assert [f["name"] for f in found["uiwage"]["fields"]] == ["WR-SSN", "WR-WAGES"]
    assert found["uiwage"]["fields"][1]["width"] == 5
    assert found["survey"]["fields"][0]["label"] == "Age in years"


@pytest.mark.parametrize("suffix", [".copy", ".cobol", ".cpb"])
def test_web_copybook_suffixes_give_the_identifier_of_a_load_from_disk(
        fetcher: Fetcher, tmp_path: Path, suffix: str) -> None:
    copybook = ("       01  WAGE-REC.\n           05  WR-SSN      PIC 9(9).\n"
                "           05  WR-WAGES    PIC S9(7)V99 COMP-3.\n")
    on_disk = tmp_path / f"rec{suffix}"
    on_disk.write_text(copybook)
    [disk] = from_disk(on_disk)
    assert disk["identifier"] == "rec"
    path = f"/layouts/rec{suffix}"
    with ReplayServer({path: (200, {"Content-Type": "text/plain"}, copybook)}) as server:
        items, error = run(web.harvest(server.url + path, fetcher=fetcher, options={}))
    assert error is None
    [item] = items
    assert item.identifier == "rec"  # not rec.copy: the suffix is kept, no .txt added
    assert item.dataset["extra"]["document_url"] == server.url + path
    assert without_url(item.dataset) == disk
