"""The recorded sources: every kind of portal, served over real HTTP from tests/recorded/.

:class:`RecordedPortals` serves, on one local :class:`tests.replay_server.ReplayServer`,

* a CKAN portal (``/ckan``): ``package_search`` with paging and ``datastore_search``;
* a Socrata domain (``/socrata``): the Discovery API;
* two DCAT-US catalogs (``/cftc/data.json``, ``/sonyma/data.json``);
* Frictionless data packages (``/ctdata/...datapackage.json``);
* pages and files of data dictionaries (``/dol/...``, ``/bls/...``).

Its content is plain data that a test may change between runs (drop a dataset, rename a
field, edit a description), and ``faults`` maps a path to a response (or a handler) served
instead of the recorded one: a 500, a truncated body, HTML where JSON was expected.
:meth:`RecordedPortals.sources` gives the matching source definitions.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.replay_server import ReplayServer, Request

RECORDED = Path(__file__).parent / "recorded"
FILES = RECORDED / "harvest_files"


def _json(name: str) -> Any:
    return json.loads((RECORDED / name).read_text("utf-8"))


class RecordedPortals:
    """Recorded portals on a local HTTP server, with content and faults a test can change."""

    def __init__(self) -> None:
        self.ckan_packages: list[dict[str, Any]] = _json("ckan_package_search.json")[
            "result"]["results"]
        self.ckan_dictionaries: dict[str, Any] = {
            path.name.removeprefix("ckan_datastore_search_").removesuffix(".json"):
                json.loads(path.read_text("utf-8"))
            for path in RECORDED.glob("ckan_datastore_search_*.json")
        }
        self.socrata: dict[str, Any] = _json("socrata_catalog_chicago.json")
        self.dcat: dict[str, Any] = {
            "/cftc/data.json": _json("dcat_cftc_data.json"),
            "/sonyma/data.json": _json("dcat_ny_sonyma_sample.data.json"),
        }
        self.files: dict[str, tuple[str, bytes]] = {
            "/ctdata/student-enrollment.datapackage.json": (
                "application/json", (FILES / "ctdata/student-enrollment.datapackage.json")
                .read_bytes()),
            "/ctdata/chronic-absenteeism-by-grade.datapackage.json": (
                "application/json",
                (FILES / "ctdata/chronic-absenteeism-by-grade.datapackage.json").read_bytes()),
            "/dol/2013-01-30-oui-inital-claims.md": (
                "text/markdown; charset=utf-8",
                (FILES / "dol_developer_portal/2013-01-30-oui-inital-claims.md").read_bytes()),
            "/bls/data-dictionary.csv": (
                "text/csv; charset=utf-8",
                (FILES / "bls_qcew_nonprofit/data-dictionary.csv").read_bytes()),
        }
        self.faults: dict[str, Any] = {}
        self.server = ReplayServer()
        self.server.routes.update({
            "/ckan/api/action/package_search": self._route(self._package_search),
            "/ckan/api/action/datastore_search": self._route(self._datastore),
            "/socrata/api/catalog/v1": self._route(self._discovery),
            **{path: self._route(self._dcat) for path in self.dcat},
            **{path: self._route(self._file) for path in self.files},
        })

    # --------------------------------------------------------------------------- serving

    def _route(self, handler: Any) -> Any:
        def serve(request: Request) -> Any:
            fault = self.faults.get(request.path)
            if fault is not None:
                return fault(request) if callable(fault) else fault
            return handler(request)
        return serve

    def _package_search(self, request: Request) -> Any:
        start, rows = int(request.query.get("start", 0)), int(request.query.get("rows", 10))
        page = copy.deepcopy(self.ckan_packages[start:start + rows])
        return 200, {}, {"help": "package_search", "success": True,
                         "result": {"count": len(self.ckan_packages), "results": page}}

    def _datastore(self, request: Request) -> Any:
        found = self.ckan_dictionaries.get(request.query.get("resource_id", ""))
        if found is None:
            return 404, {}, {"success": False, "error": {"__type": "Not Found Error",
                                                         "message": "Resource not found"}}
        return 200, {}, found

    def _discovery(self, request: Request) -> Any:
        offset, limit = int(request.query.get("offset", 0)), int(request.query.get("limit", 10))
        body = copy.deepcopy(self.socrata)
        body["resultSetSize"] = len(self.socrata["results"])
        body["results"] = body["results"][offset:offset + limit]
        return 200, {}, body

    def _dcat(self, request: Request) -> Any:
        return 200, {}, self.dcat[request.path]

    def _file(self, request: Request) -> Any:
        content_type, body = self.files[request.path]
        return 200, {"Content-Type": content_type}, body

    def serve_json(self, path: str, document: Any) -> None:
        """Serve a data.json (or any JSON document) at ``path``, faults applying."""
        self.dcat[path] = document
        self.server.routes[path] = self._route(self._dcat)

    def serve_file(self, path: str, content_type: str, body: bytes) -> None:
        """Serve a document (a page, a dictionary, a data package) at ``path``."""
        self.files[path] = (content_type, body)
        self.server.routes[path] = self._route(self._file)

    # ----------------------------------------------------------------------- sources

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self.server.url

    def sources(self) -> list[dict[str, Any]]:
        """Source definitions (as ``catalog source add`` takes them) for every portal."""
        base = self.url
        return [
            {"name": "barcelona-ckan", "type": "ckan", "url": f"{base}/ckan",
             "options": {"rows": 1}},
            {"name": "chicago", "type": "socrata", "url": f"{base}/socrata",
             "options": {"domain": "data.cityofchicago.org", "limit": 2}},
            {"name": "cftc", "type": "dcat", "url": f"{base}/cftc/data.json",
             "agency": "Commodity Futures Trading Commission"},
            {"name": "sonyma", "type": "dcat", "url": f"{base}/sonyma/data.json"},
            {"name": "ctdata", "type": "frictionless",
             "url": f"{base}/ctdata/student-enrollment.datapackage.json",
             "agency": "CTData Collaborative",
             "options": {"packages": [
                 f"{base}/ctdata/student-enrollment.datapackage.json",
                 f"{base}/ctdata/chronic-absenteeism-by-grade.datapackage.json"]}},
            {"name": "dol-pages", "type": "web", "url": f"{base}/dol/",
             "agency": "U.S. Department of Labor",
             "options": {"urls": [f"{base}/dol/2013-01-30-oui-inital-claims.md",
                                  f"{base}/bls/data-dictionary.csv"]}},
        ]

    def __enter__(self) -> RecordedPortals:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)


# ------------------------------------------------------- faults a portal can answer with


def truncated_json(request: Request) -> Any:
    """A JSON body cut off in the middle of a value."""
    return 200, {}, b'{"help": "x", "success": true, "result": {"count": 2, "results": [{"na'


def html_page(request: Request) -> Any:
    """A maintenance page where JSON was expected."""
    return 200, {"Content-Type": "text/html"}, "<html><body>Maintenance</body></html>"


def garbage_after_first_page(request: Request) -> Any:
    """Bytes that are not JSON (nor UTF-8) from the second CKAN page on; None: served as is."""
    if int(request.query.get("start", 0)) == 0:
        return None
    return 200, {}, b"\x00\xff garbage \xfe"


def huge_body(request: Request) -> Any:
    """A 200 MB body, generated while it is streamed (never held in memory)."""
    def chunks() -> Iterator[bytes]:
        yield b'{"result": {"results": ["'
        for _ in range(200):
            yield b"x" * (1024 * 1024)
    return 200, {}, chunks()


def stalled(seconds: float) -> Callable[[Request], Any]:
    """A server that answers nothing for ``seconds`` (past the client's read timeout)."""
    def answer(request: Request) -> Any:
        time.sleep(seconds)
        return 200, {}, {}
    return answer
