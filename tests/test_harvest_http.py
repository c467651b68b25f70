"""Harvesters and the Fetcher over real HTTP, against a local server replaying recorded responses.

The recorded responses (tests/recorded/, see its README) are derived from the real files in
../shared/corpus; the fault cases are built from them here. No mocks: every request is a real
HTTP request to 127.0.0.1. Timeouts and retry waits are small so every test takes seconds.
"""

from __future__ import annotations

import copy
import itertools
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from indexer.harvesters import HarvestItem, ckan, dcat, harvester, socrata
from indexer.http import Fetcher, FetchError, PagingError
from tests.replay_server import ReplayServer, Request

RECORDED = Path(__file__).parent / "recorded"
SEARCH = "/api/action/package_search"
DATASTORE = "/api/action/datastore_search"
DISCOVERY = "/api/catalog/v1"
BARCELONA = "6633bb2c-8f85-4ac6-8c9b-c4ab740e1595"
RESOURCE_1 = "a6a23cd9-f2b7-4ed2-a4b8-a7ab593b01d7"
RESOURCE_2 = "a6a23cd9-f2b7-4ed2-a4b8-a7ab593b01d8"
MB = 1024 * 1024


def recorded(name: str) -> Any:
    """A recorded response body, decoded (a fresh copy each time)."""
    return json.loads((RECORDED / name).read_text("utf-8"))


def make_fetcher(**overrides: Any) -> Fetcher:
    """A Fetcher with short timeouts and waits, so that fault cases end in seconds."""
    settings: dict[str, Any] = {
        "connect_timeout": 1.0, "read_timeout": 0.4, "retries": 2, "backoff_factor": 0.01,
        "max_backoff": 0.1, "max_retry_after": 1.5,
    }
    settings.update(overrides)
    return Fetcher(**settings)


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with make_fetcher() as client:
        yield client


def run(items: Iterator[HarvestItem]) -> tuple[list[HarvestItem], FetchError | None]:
    """Drain a harvest: (items yielded, the FetchError that ended it, if any)."""
    got: list[HarvestItem] = []
    try:
        for item in items:
            got.append(item)
    except FetchError as exc:
        return got, exc
    return got, None


def names(items: list[HarvestItem]) -> list[str]:
    return [item.dataset["identifier"] for item in items if item.dataset]


# ------------------------------------------------------------------------------- CKAN routes


def ckan_search(packages: list[dict[str, Any]] | None = None):
    """package_search over ``packages`` (default: the recorded two), honouring rows/start/fq."""
    def handler(request: Request):
        body = recorded("ckan_package_search.json")
        found = packages if packages is not None else body["result"]["results"]
        start, rows = int(request.query.get("start", 0)), int(request.query.get("rows", 10))
        body["result"]["count"] = len(found)
        body["result"]["results"] = found[start:start + rows]
        return 200, {}, body
    return handler


def ckan_datastore(dictionaries: dict[str, Any] | None = None):
    """datastore_search answering from the recorded dictionaries (or ``dictionaries``)."""
    def handler(request: Request):
        resource_id = request.query.get("resource_id", "")
        if dictionaries is not None and resource_id in dictionaries:
            return dictionaries[resource_id]
        path = RECORDED / f"ckan_datastore_search_{resource_id}.json"
        if not path.exists():
            return 404, {}, {"success": False, "error": {"__type": "Not Found Error",
                                                         "message": "Resource not found"}}
        return 200, {}, recorded(path.name)
    return handler


def packages() -> list[dict[str, Any]]:
    return recorded("ckan_package_search.json")["result"]["results"]


# ------------------------------------------------------------------------- the harvesters


def test_ckan_harvest_reads_packages_and_data_dictionaries(fetcher: Fetcher) -> None:
    routes = {SEARCH: ckan_search(), DATASTORE: ckan_datastore()}
    with ReplayServer(routes) as server:
        items, error = run(ckan.harvest(server.url, fetcher=fetcher, options={"rows": 1}))
    assert error is None
    assert [item.error for item in items] == [None, None]
    assert [item.total for item in items] == [2, 2]
    by_name = {item.dataset["identifier"]: item.dataset for item in items if item.dataset}
    barcelona = by_name["nombres-masculinos-mas-frecuentes-en-la-provincia-de-barcelona"]
    assert barcelona["extra"]["ckan_id"] == BARCELONA
    fields = barcelona["fields"]
    assert [f["name"] for f in fields] == ["nom", "freq", "any", "municipi"]  # _id skipped
    assert fields[1]["label"] == "Freqüència"
    assert fields[1]["source_type"] == "int"  # info.type_override wins over the column type
    assert fields[0]["description"].startswith("[Nombres masculinos")  # two dictionaries
    assert barcelona["agency"] == "EURODATA_Galdric"
    assert barcelona["landing_page"] == f"{server.url}/dataset/{barcelona['identifier']}"
    other = next(d for d in by_name.values() if d is not barcelona)
    assert other["fields"] == []  # no datastore-active resource: no datastore_search call
    # Paging: rows=1 gives two package_search pages; one datastore_search per active resource.
    searches = [q for _, path, q, _ in server.log if path == SEARCH]
    assert [(q["rows"], q["start"], q["sort"]) for q in searches] == [
        ("1", "0", "name asc"), ("1", "1", "name asc")]
    lookups = sorted(q["resource_id"] for _, path, q, _ in server.log if path == DATASTORE)
    assert lookups == [RESOURCE_1, RESOURCE_2]
    assert all(q["limit"] == "0" for _, path, q, _ in server.log if path == DATASTORE)
    assert all(h["user-agent"].startswith("metadata-catalog/") for *_, h in server.log)


def test_ckan_organization_filter_is_sent(fetcher: Fetcher) -> None:
    routes = {SEARCH: ckan_search(), DATASTORE: ckan_datastore()}
    with ReplayServer(routes) as server:
        items, error = run(ckan.harvest(server.url, fetcher=fetcher,
                                        options={"organization": "eurodata_galdric"}))
    assert error is None and len(items) == 2
    assert server.log[0][2]["fq"] == "organization:eurodata_galdric"


def test_socrata_harvest_pages_with_app_token(fetcher: Fetcher) -> None:
    def discovery(request: Request):
        body = recorded("socrata_catalog_chicago.json")
        offset, limit = int(request.query["offset"]), int(request.query["limit"])
        body["results"] = body["results"][offset:offset + limit]
        return 200, {}, body

    with ReplayServer({DISCOVERY: discovery}) as server:
        options = {"domain": "data.cityofchicago.org", "limit": 2, "app_token": "tok123"}
        items, error = run(socrata.harvest(server.url, fetcher=fetcher, options=options))
    assert error is None
    assert names(items) == ["i6bp-fvbx", "ygr5-vcbg", "6iiy-9s97", "4i42-qv3h", "n4j6-wkkf"]
    assert {item.total for item in items} == {5}
    assert all(item.dataset["fields"] for item in items)
    queries = [q for _, _, q, _ in server.log]
    assert [q["offset"] for q in queries] == ["0", "2", "4"]
    assert {(q["domains"], q["only"], q["limit"]) for q in queries} == {
        ("data.cityofchicago.org", "dataset", "2")}
    assert {h["x-app-token"] for *_, h in server.log} == {"tok123"}


def test_dcat_harvest_keeps_good_datasets_beside_bad_ones(fetcher: Fetcher) -> None:
    catalog = recorded("dcat_cftc_data.json")
    catalog["dataset"].insert(2, {"title": "No identifier here", "accessLevel": "public"})
    with ReplayServer({"/data.json": (200, {}, catalog)}) as server:
        items, error = run(dcat.harvest(f"{server.url}/data.json", fetcher=fetcher, options={}))
    assert error is None
    assert names(items) == [f"cftc-dc{n}" for n in range(1, 8)]
    assert [item.error for item in items if item.error] == [
        "dataset #3 ('No identifier here'): no 'identifier', skipped"]
    assert {item.total for item in items} == {8}


def test_harvester_lookup() -> None:
    assert harvester("socrata") is socrata
    with pytest.raises(ValueError, match="unknown source type 'ftp'"):
        harvester("ftp")


# --------------------------------------------------------------------------- fault cases


def test_http_500_then_success_is_retried(fetcher: Fetcher) -> None:
    search = ckan_search()

    def flaky(request: Request):
        if request.hits == 0:
            return 500, {"Content-Type": "text/html"}, "<h1>Internal Server Error</h1>"
        return search(request)

    with ReplayServer({SEARCH: flaky, DATASTORE: ckan_datastore()}) as server:
        items, error = run(ckan.harvest(server.url, fetcher=fetcher, options={}))
        assert server.hits(SEARCH) == 2
    assert error is None and len(names(items)) == 2


def test_http_500_every_time_gives_up(fetcher: Fetcher) -> None:
    route = (500, {"Content-Type": "text/html"}, "<h1>Internal Server Error</h1>")
    with ReplayServer({SEARCH: route}) as server:
        items, error = run(ckan.harvest(server.url, fetcher=fetcher, options={}))
        assert server.hits(SEARCH) == 3  # retries=2: three attempts
    assert items == []
    assert error is not None
    assert error.url.startswith(f"{server.url}{SEARCH}?")
    assert error.problem == ("gave up after 3 attempts: HTTP 500 Internal Server Error: "
                             "«<h1>Internal Server Error</h1>»")
    assert error.status == 500


def test_http_404_names_status_and_body(fetcher: Fetcher) -> None:
    route = (404, {"Content-Type": "text/plain"}, "no such catalog\n")
    with ReplayServer({"/data.json": route}) as server:
        _, error = run(dcat.harvest(f"{server.url}/data.json", fetcher=fetcher, options={}))
    assert str(error) == f"{server.url}/data.json: HTTP 404 Not Found: «no such catalog»"
    assert error.status == 404


def test_429_retry_after_is_honoured(fetcher: Fetcher) -> None:
    body = recorded("dcat_ny_sonyma_sample.data.json")

    def limited(request: Request):
        if request.hits == 0:
            return 429, {"Retry-After": "1", "Content-Type": "text/plain"}, "slow down"
        return 200, {}, body

    with ReplayServer({"/data.json": limited}) as server:
        items, error = run(dcat.harvest(f"{server.url}/data.json", fetcher=fetcher, options={}))
        first, second = (entry[0] for entry in server.log)
    assert error is None and names(items) == ["https://data.ny.gov/api/views/22ew-dxez"]
    assert second - first >= 0.9  # waited the server's Retry-After, not the 0.01 s backoff


def test_retry_after_is_capped() -> None:
    def limited(request: Request):
        if request.hits == 0:
            return 503, {"Retry-After": "3600"}, {"error": "maintenance"}
        return 200, {}, recorded("dcat_ny_sonyma_sample.data.json")

    with make_fetcher(max_retry_after=0.2) as client, \
            ReplayServer({"/data.json": limited}) as server:
        items, error = run(dcat.harvest(f"{server.url}/data.json", fetcher=client, options={}))
        first, second = (entry[0] for entry in server.log)
    assert error is None and len(items) == 1
    assert second - first < 3  # capped at 0.2 s, not an hour


def test_delay_longer_than_timeout_gives_up(fetcher: Fetcher) -> None:
    def slow(request: Request):
        time.sleep(1.0)  # the client's read timeout is 0.4 s
        return 200, {}, recorded("dcat_ny_sonyma_sample.data.json")

    with ReplayServer({"/data.json": slow}) as server:
        _, error = run(dcat.harvest(f"{server.url}/data.json", fetcher=fetcher, options={}))
        assert server.hits("/data.json") == 3
    assert error is not None and error.url == f"{server.url}/data.json"
    assert error.problem.startswith("gave up after 3 attempts (")
    assert "Read timed out. (read timeout=0.4)" in error.problem


def test_one_slow_response_is_retried(fetcher: Fetcher) -> None:
    def slow_once(request: Request):
        if request.hits == 0:
            time.sleep(1.0)
        return 200, {}, recorded("dcat_ny_sonyma_sample.data.json")

    with ReplayServer({"/data.json": slow_once}) as server:
        items, error = run(dcat.harvest(f"{server.url}/data.json", fetcher=fetcher, options={}))
    assert error is None and len(items) == 1


def test_connection_refused_gives_up(fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("CATALOG_HARVEST_ALLOWED_HOSTS", f"127.0.0.1:{port}")
    url = f"http://127.0.0.1:{port}/data.json"
    _, error = run(dcat.harvest(url, fetcher=fetcher, options={}))
    assert error is not None and error.url == url
    assert error.problem.startswith("gave up after 3 attempts (")
    assert "Connection refused" in error.problem


def test_truncated_json_names_line_and_column(fetcher: Fetcher) -> None:
    text = (RECORDED / "socrata_catalog_chicago.json").read_text("utf-8")
    cut = text[: len(text) // 2].rstrip()
    line = cut.count("\n") + 1
    column = len(cut.rsplit("\n", 1)[-1]) + 1  # just past the last character sent
    with ReplayServer({DISCOVERY: (200, {}, cut)}) as server:
        items, error = run(socrata.harvest(server.url, fetcher=fetcher,
                                           options={"domain": "data.cityofchicago.org"}))
    assert items == []
    assert error is not None and error.url.startswith(f"{server.url}{DISCOVERY}?domains=")
    assert error.problem == (f"truncated JSON at line {line} column {column}: the body ends "
                             f"after {len(cut.encode())} bytes inside an unfinished value")


def test_truncated_data_dictionary_is_a_per_record_error(fetcher: Fetcher) -> None:
    whole = (RECORDED / f"ckan_datastore_search_{RESOURCE_2}.json").read_text("utf-8")
    broken = {RESOURCE_2: (200, {}, whole[:150])}
    with ReplayServer({SEARCH: ckan_search(), DATASTORE: ckan_datastore(broken)}) as server:
        items, error = run(ckan.harvest(server.url, fetcher=fetcher, options={}))
    assert error is None
    [bad] = [item for item in items if item.error]
    [good] = [item for item in items if item.dataset]
    assert bad.identifier == "nombres-masculinos-mas-frecuentes-en-la-provincia-de-barcelona"
    assert f"data dictionary of resource '{RESOURCE_2}' not read" in bad.error
    cut = whole[:150]
    line, column = cut.count("\n") + 1, len(cut.rsplit("\n", 1)[-1]) + 1
    assert bad.error.endswith(f"truncated JSON at line {line} column {column}: the body ends "
                              f"after {len(cut.encode())} bytes inside an unfinished value")
    assert good.dataset["extra"]["ckan_id"] != BARCELONA  # the other package still came


def test_html_where_json_was_expected(fetcher: Fetcher) -> None:
    page = "<!DOCTYPE html>\n<html><head><title>Portal maintenance</title></head></html>"
    route = (200, {"Content-Type": "text/html; charset=utf-8"}, page)
    with ReplayServer({"/data.json": route}) as server:
        _, error = run(dcat.harvest(f"{server.url}/data.json", fetcher=fetcher, options={}))
    assert str(error) == (f"{server.url}/data.json: expected JSON but got text/html: "
                          "«<!DOCTYPE html> <html><head><title>Portal maintenance</title>"
                          "</head></html>»")


def test_html_through_ckanapi_is_reported_the_same_way(fetcher: Fetcher) -> None:
    route = (200, {"Content-Type": "text/html"}, "<html><body>Login</body></html>")
    with ReplayServer({SEARCH: route}) as server:
        _, error = run(ckan.harvest(server.url, fetcher=fetcher, options={}))
    assert error is not None
    assert error.problem == "expected JSON but got text/html: «<html><body>Login</body></html>»"


def test_body_that_stalls_midway_is_reported(fetcher: Fetcher) -> None:
    def stalling() -> Iterator[bytes]:
        yield b'{"dataset": ['
        time.sleep(1.0)  # longer than the 0.4 s read timeout, after the headers were sent
        yield b"]}"

    with ReplayServer({"/data.json": lambda r: (200, {}, stalling())}) as server:
        _, error = run(dcat.harvest(f"{server.url}/data.json", fetcher=fetcher, options={}))
    assert error is not None and error.url == f"{server.url}/data.json"
    assert error.problem.startswith("connection failed while reading the body after 13 bytes (")
    assert "Read timed out" in error.problem


def _stream(total: int, produced: list[int]) -> Iterator[bytes]:
    """``total`` bytes of a JSON array, generated chunk by chunk; counts what was produced."""
    chunk = b'{"identifier": "x", "title": "padding padding padding"},' * 1024
    yield b'{"dataset": ['
    produced[0] += 13
    while produced[0] < total:
        produced[0] += len(chunk)
        yield chunk


def test_200_mb_streamed_response_is_stopped_early(fetcher: Fetcher) -> None:
    produced = [0]
    with ReplayServer({"/data.json": lambda r: (200, {}, _stream(200 * MB, produced))}) \
            as server:
        _, error = run(dcat.harvest(f"{server.url}/data.json", fetcher=fetcher, options={}))
    assert error is not None and error.url == f"{server.url}/data.json"
    assert error.problem.startswith("response larger than 52428800 bytes (stopped reading at ")
    assert produced[0] < 100 * MB  # the server was cut off long before 200 MB


def test_200_mb_declared_length_is_refused_before_reading() -> None:
    produced = [0]
    headers = {"Content-Length": str(200 * MB)}
    with make_fetcher(max_bytes=5 * MB) as client, \
            ReplayServer({"/data.json": lambda r: (200, headers, _stream(200 * MB, produced))}) \
            as server:
        _, error = run(dcat.harvest(f"{server.url}/data.json", fetcher=client, options={}))
    assert error.problem == "response larger than 5242880 bytes (Content-Length 209715200)"
    assert produced[0] < 100 * MB


def test_paging_loop_repeating_a_page_is_stopped(fetcher: Fetcher) -> None:
    body = recorded("socrata_catalog_chicago.json")
    body["resultSetSize"] = 1000  # claims more, but ignores offset: the same page forever
    with ReplayServer({DISCOVERY: (200, {}, body)}) as server:
        items, error = run(socrata.harvest(server.url, fetcher=fetcher,
                                           options={"domain": "data.cityofchicago.org"}))
        assert server.hits(DISCOVERY) == 2
    assert isinstance(error, PagingError)
    assert str(error) == f"{server.url}{DISCOVERY}: paging stopped: page 2 repeats page 1"
    assert len(names(items)) == 5  # the first page's datasets came through


def test_paging_past_max_pages_is_stopped(fetcher: Fetcher) -> None:
    template = recorded("ckan_package_search.json")["result"]["results"][0]
    counter = itertools.count()

    def endless(request: Request):  # always new packages, count never reached
        package = copy.deepcopy(template)
        package["resources"] = []
        n = next(counter)
        package["id"], package["name"] = f"id-{n}", f"package-{n}"
        return 200, {}, {"success": True, "result": {"count": 10**6, "results": [package]}}

    with ReplayServer({SEARCH: endless}) as server:
        items, error = run(ckan.harvest(server.url, fetcher=fetcher,
                                        options={"rows": 1, "max_pages": 3}))
        assert server.hits(SEARCH) == 4
    assert isinstance(error, PagingError)
    assert error.problem == "paging stopped: more than 3 pages"
    assert names(items) == ["package-0", "package-1", "package-2"]


def test_dataset_that_disappears_between_two_runs(fetcher: Fetcher) -> None:
    everything = packages()
    with ReplayServer({SEARCH: ckan_search(everything), DATASTORE: ckan_datastore()}) as server:
        first, error1 = run(ckan.harvest(server.url, fetcher=fetcher, options={}))
        server.routes[SEARCH] = ckan_search(everything[1:])
        second, error2 = run(ckan.harvest(server.url, fetcher=fetcher, options={}))
    assert error1 is None and error2 is None  # both runs complete: the absence is real
    assert names(first) == [p["name"] for p in everything]
    assert names(second) == [everything[1]["name"]]
    assert {item.total for item in second} == {1}


def test_resource_gone_between_search_and_dictionary(fetcher: Fetcher) -> None:
    gone = {RESOURCE_1: (404, {}, {"success": False, "error": {
        "__type": "Not Found Error", "message": "Not found: Resource was not found."}})}
    with ReplayServer({SEARCH: ckan_search(), DATASTORE: ckan_datastore(gone)}) as server:
        items, error = run(ckan.harvest(server.url, fetcher=fetcher, options={}))
    assert error is None
    [bad] = [item.error for item in items if item.error]
    assert f"data dictionary of resource '{RESOURCE_1}' not read" in bad
    assert "HTTP 404 Not Found: «{\"success\": false" in bad
    assert len(names(items)) == 1  # the other package is unaffected


def test_field_renamed_between_two_runs(fetcher: Fetcher) -> None:
    renamed = recorded(f"ckan_datastore_search_{RESOURCE_1}.json")
    for column in renamed["result"]["fields"]:
        if column["id"] == "freq":
            column["id"] = "frequencia"
    with ReplayServer({SEARCH: ckan_search(), DATASTORE: ckan_datastore()}) as server:
        first, _ = run(ckan.harvest(server.url, fetcher=fetcher, options={}))
        server.routes[DATASTORE] = ckan_datastore({RESOURCE_1: (200, {}, renamed)})
        second, _ = run(ckan.harvest(server.url, fetcher=fetcher, options={}))

    def barcelona(items: list[HarvestItem]) -> list[dict[str, Any]]:
        return next(i.dataset["fields"] for i in items
                    if i.dataset and i.dataset["extra"]["ckan_id"] == BARCELONA)

    before, after = barcelona(first), barcelona(second)
    assert [f["name"] for f in before] == ["nom", "freq", "any", "municipi"]
    assert [f["name"] for f in after] == ["nom", "frequencia", "any", "municipi"]
    assert after[1]["label"] == before[1]["label"] == "Freqüència"  # same column, new name


def test_ckan_failure_envelope_is_reported(fetcher: Fetcher) -> None:
    body = {"success": False, "error": {"__type": "Search Query Error", "message": "bad fq"}}
    with ReplayServer({SEARCH: (200, {}, body)}) as server:
        _, error = run(ckan.harvest(server.url, fetcher=fetcher, options={}))
    assert error is not None and error.problem.startswith("CKAN package_search failed: ")
    assert "bad fq" in error.problem
