"""Access levels fail closed in every format and harvester (issue 11): never public by accident.

One table per format: each access marker shape a source may send (plain words, lists, objects,
blanks, nulls, numbers, unknown words) written into a real file of that format, read by the
format's own ``parse`` and validated as ``catalog load`` validates it. The harvesters are run
over real HTTP against the replay server with the same shapes. The outcome is the access level
stored, or "rejected" when validation refuses the dataset naming the value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from indexer.formats import (
    ckan_package,
    datapackage,
    dcat_json,
    ddi_codebook,
    socrata_discovery,
    socrata_view,
)
from indexer.harvesters import HarvestItem, ckan, dcat, frictionless, socrata
from indexer.http import Fetcher
from indexer.load import validate_dataset
from tests.catalog_fixtures import CORPUS
from tests.replay_server import ReplayServer, Request

ABSENT = object()  # the key is left out of the record


def outcome(raw: dict[str, Any]) -> str:
    """The access level a raw dataset is stored with, or "rejected" (the error names it)."""
    record, errors = validate_dataset(raw, 0)
    if record is None:
        assert any("access_level" in error for error in errors), errors
        return "rejected"
    return record["access_level"]


def put(record: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """``record`` with ``key`` set to ``value`` (left out for ABSENT)."""
    if value is not ABSENT:
        record[key] = value
    return record


def write_json(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------- DCAT-US

DCAT_CASES = [
    (ABSENT, "public"),
    ("public", "public"),
    ("Public", "public"),
    (" PUBLIC ", "public"),
    ("restricted public", "restricted"),
    ("restricted_public", "restricted"),
    ("non-public", "internal"),
    ("Non-Public", "internal"),
    ("nonpublic", "internal"),
    (["non-public"], "internal"),
    (["public"], "restricted"),
    (["public", "non-public"], "internal"),
    ([], "restricted"),
    ({"@value": "non-public"}, "internal"),
    ({"@value": "public"}, "restricted"),
    ({}, "restricted"),
    ("", "restricted"),
    ("   ", "restricted"),
    (None, "restricted"),
    (True, "restricted"),
    (0, "restricted"),
    (1, "restricted"),
    ("secretish", "rejected"),
    ("private", "rejected"),
]


@pytest.mark.parametrize(("marker", "expected"), DCAT_CASES, ids=repr)
def test_dcat_access_level(tmp_path: Path, marker: Any, expected: str) -> None:
    entry = put({"identifier": "d-1", "title": "D", "publisher": {"name": "A"}},
                "accessLevel", marker)
    path = write_json(tmp_path, "data.json", {
        "conformsTo": "https://project-open-data.cio.gov/v1.1/schema", "dataset": [entry]})
    [raw] = dcat_json.parse(path).datasets
    assert outcome(raw) == expected
    if expected not in ("public", "rejected") and not isinstance(marker, str):
        assert "accessLevel" in raw["extra"]["access_note"]


# ------------------------------------------------------------------------------- CKAN

CKAN_CASES = [
    ({}, "public"),
    ({"private": False}, "public"),
    ({"private": True}, "internal"),
    ({"private": "true"}, "internal"),
    ({"private": "True"}, "internal"),
    ({"private": "yes"}, "internal"),
    ({"private": 1}, "internal"),
    ({"private": 2.5}, "internal"),
    ({"private": "false"}, "restricted"),
    ({"private": 0}, "restricted"),
    ({"private": ""}, "restricted"),
    ({"private": None}, "restricted"),
    ({"private": ["true"]}, "restricted"),
    ({"private": {"value": False}}, "restricted"),
    ({"private": False, "extras": [{"key": "accessLevel", "value": "public"}]}, "public"),
    ({"private": False, "extras": [{"key": "accessLevel", "value": "non-public"}]}, "internal"),
    ({"private": False, "extras": [{"key": "access_level", "value": ""}]}, "restricted"),
    ({"private": False, "extras": {"accessLevel": "restricted public"}}, "restricted"),
    ({"private": True, "extras": [{"key": "accessLevel", "value": "public"}]}, "internal"),
    ({"private": False, "extras": [{"key": "accessLevel", "value": "bogus"}]}, "rejected"),
]


@pytest.mark.parametrize(("markers", "expected"), CKAN_CASES, ids=repr)
def test_ckan_access_level(tmp_path: Path, markers: dict[str, Any], expected: str) -> None:
    package = {"name": "pkg", "title": "P", "notes": "n", "num_resources": 0, "resources": [],
               **markers}
    path = write_json(tmp_path, "package.json", {"help": "x", "success": True,
                                                  "result": package})
    [raw] = ckan_package.parse(path).datasets
    assert outcome(raw) == expected


# ------------------------------------------------------------------------------- Socrata

PUBLIC_GRANT = [{"inherited": False, "type": "viewer", "flags": ["public"]}]
VIEW_CASES = [
    ({}, "public"),
    ({"grants": PUBLIC_GRANT, "publicationStage": "published"}, "public"),
    ({"grants": PUBLIC_GRANT, "approvals": [{"state": "approved"}]}, "public"),
    ({"grants": PUBLIC_GRANT, "approvals": []}, "public"),
    ({"grants": [{"type": "viewer", "flags": []}]}, "internal"),
    ({"grants": []}, "internal"),
    ({"grants": {"flags": ["public"]}}, "restricted"),
    ({"grants": "public"}, "restricted"),
    ({"grants": None}, "restricted"),
    ({"grants": PUBLIC_GRANT, "publicationStage": "unpublished"}, "internal"),
    ({"grants": PUBLIC_GRANT, "publicationStage": ""}, "restricted"),
    ({"grants": PUBLIC_GRANT, "publicationStage": ["published"]}, "restricted"),
    ({"grants": PUBLIC_GRANT, "publicationStage": "snapshotted"}, "restricted"),
    ({"grants": PUBLIC_GRANT, "approvals": [{"state": "pending"}]}, "internal"),
    ({"grants": PUBLIC_GRANT, "approvals": [{"state": "approved"}, {"state": "rejected"}]},
     "internal"),
    ({"grants": PUBLIC_GRANT, "approvals": [{"state": "maybe"}]}, "restricted"),
    ({"grants": PUBLIC_GRANT, "approvals": "approved"}, "restricted"),
    ({"grants": PUBLIC_GRANT, "approvals": ["approved"]}, "restricted"),
]


@pytest.mark.parametrize(("markers", "expected"), VIEW_CASES, ids=repr)
def test_socrata_view_access_level(tmp_path: Path, markers: dict[str, Any],
                                   expected: str) -> None:
    view = {"id": "abcd-1234", "name": "V", "viewType": "tabular", "columns": [], **markers}
    [raw] = socrata_view.parse(write_json(tmp_path, "v.view.json", view)).datasets
    assert outcome(raw) == expected


DISCOVERY_CASES = [
    ({"domain": "data.example.gov"}, "public"),
    ({"domain": "d", "visible_to_anonymous": True, "is_public": True, "is_published": True,
      "moderation_status": "approved", "routing_status": "approved"}, "public"),
    ({"domain": "d", "visible_to_anonymous": False}, "internal"),
    ({"domain": "d", "is_public": False, "visible_to_anonymous": True}, "internal"),
    ({"domain": "d", "is_published": False}, "internal"),
    ({"domain": "d", "is_moderation_approved": False}, "internal"),
    ({"domain": "d", "visible_to_anonymous": "true"}, "restricted"),
    ({"domain": "d", "visible_to_anonymous": None}, "restricted"),
    ({"domain": "d", "is_public": 1}, "restricted"),
    ({"domain": "d", "routing_status": "pending"}, "internal"),
    ({"domain": "d", "moderation_status": "rejected"}, "internal"),
    ({"domain": "d", "datalens_status": "unknown"}, "restricted"),
    ({"domain": "d", "moderation_status": ["approved"]}, "restricted"),
]


def discovery_result(metadata: dict[str, Any], identifier: str = "abcd-1234") -> dict[str, Any]:
    return {"resource": {"id": identifier, "name": "R", "columns_field_name": ["a"]},
            "classification": {}, "metadata": metadata, "permalink": "https://d/d/x"}


@pytest.mark.parametrize(("metadata", "expected"), DISCOVERY_CASES, ids=repr)
def test_socrata_discovery_access_level(tmp_path: Path, metadata: dict[str, Any],
                                        expected: str) -> None:
    body = {"results": [discovery_result(metadata)], "resultSetSize": 1}
    [raw] = socrata_discovery.parse(write_json(tmp_path, "catalog.json", body)).datasets
    assert outcome(raw) == expected


# ------------------------------------------------------------------------------- data packages

PACKAGE_CASES = [
    ({}, "public"),
    ({"private": False}, "public"),
    ({"private": True}, "internal"),
    ({"private": "true"}, "internal"),
    ({"private": "no"}, "restricted"),
    ({"accessLevel": "public"}, "public"),
    ({"accessLevel": "non-public"}, "internal"),
    ({"access_level": ["non-public"]}, "internal"),
    ({"accessLevel": ""}, "restricted"),
    ({"accessLevel": "secretish"}, "rejected"),
    ({"ckan_extras": {"accessLevel": {"ckan_name": "accessLevel", "value": "public"}}}, "public"),
    ({"ckan_extras": {"accessLevel": {"ckan_name": "accessLevel", "value": "restricted public"}}},
     "restricted"),
    ({"ckan_extras": {"private": {"ckan_name": "private", "value": "True"}}}, "internal"),
    ({"ckan_extras": {"accessLevel": {"value": None}}}, "restricted"),
]


@pytest.mark.parametrize(("markers", "expected"), PACKAGE_CASES, ids=repr)
def test_datapackage_access_level(tmp_path: Path, markers: dict[str, Any],
                                  expected: str) -> None:
    package = {"name": "pkg", "title": "P", "resources": [{"path": "x.csv", "schema": {
        "fields": [{"name": "a", "type": "string"}]}}], **markers}
    [raw] = datapackage.parse(write_json(tmp_path, "datapackage.json", package)).datasets
    assert outcome(raw) == expected


# ------------------------------------------------------------------------------- DDI

DDI_CASES = [
    ("", "public"),
    ("<useStmt><confDec required='no'>None</confDec><citReq>Cite us.</citReq>"
     "<conditions>Agree to the conditions of use.</conditions></useStmt>", "public"),
    ("<useStmt><restrctn>None</restrctn></useStmt>", "public"),
    ("<useStmt><restrctn>No restrictions.</restrctn></useStmt>", "public"),
    ("<setAvail><accsPlac URI='https://example.org'>Example archive</accsPlac></setAvail>",
     "public"),
    ("<useStmt><restrctn>Internal use only</restrctn></useStmt>", "data restricted"),
    ("<useStmt><restrctn/></useStmt>", "data restricted"),
    ("<useStmt><restrctn>  </restrctn></useStmt>", "data restricted"),
    ("<useStmt><confDec required='yes'>Sign the agreement.</confDec></useStmt>",
     "data restricted"),
    ("<useStmt><specPerm required='yes'>Apply to the agency.</specPerm></useStmt>",
     "data restricted"),
]


@pytest.mark.parametrize(("access", "expected"), DDI_CASES, ids=repr)
def test_ddi_access_level(tmp_path: Path, access: str, expected: str) -> None:
    path = tmp_path / "codebook.xml"
    path.write_text(
        '<?xml version="1.0"?><codeBook xmlns="ddi:codebook:2_5"><stdyDscr><citation>'
        f"<titlStmt><titl>T</titl></titlStmt></citation><dataAccs>{access}</dataAccs>"
        '</stdyDscr><dataDscr><var name="A"><location StartPos="1" EndPos="2"/></var>'
        "</dataDscr></codeBook>", encoding="utf-8")
    [raw] = ddi_codebook.parse(path).datasets
    # DDI's dataAccs restricts the data, not the codebook: the metadata stays public, and
    # the terms are kept for requesters.
    assert outcome(raw) == "public"
    if expected == "data restricted":
        assert "line 1" in raw["extra"]["data_access"]
    else:
        assert "data_access" not in raw["extra"]


def test_the_corpus_ipums_international_codebook_notes_its_data_terms() -> None:
    """Its data require a signed confidentiality declaration; its codebook is published."""
    path = CORPUS / "ddi" / "ipums_international_00987.xml"
    [raw] = ddi_codebook.parse(path).datasets
    assert raw["access_level"] == "public"
    assert 'confDec required="yes"' in raw["extra"]["data_access"]


# ------------------------------------------------------------------------------- harvesters


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(connect_timeout=1.0, read_timeout=2.0, retries=0) as client:
        yield client


def levels(items: list[HarvestItem]) -> dict[str, str]:
    """identifier -> stored level (or "rejected") of every dataset a harvest yielded."""
    assert not [item.error for item in items if item.error]
    return {item.dataset["identifier"]: outcome(item.dataset) for item in items if item.dataset}


def test_ckan_harvest_fails_closed(fetcher: Fetcher) -> None:
    cases = {f"pkg-{i}": (markers, expected) for i, (markers, expected) in enumerate(CKAN_CASES)}

    def search(request: Request):
        found = [{"name": name, "title": name, "num_resources": 0, "resources": [], **markers}
                 for name, (markers, _) in cases.items()]
        return 200, {}, {"help": "h", "success": True,
                         "result": {"count": len(found), "results": found}}

    with ReplayServer({"/api/action/package_search": search}) as server:
        items = list(ckan.harvest(server.url, fetcher=fetcher, options={"rows": 100}))
    assert levels(items) == {name: expected for name, (_, expected) in cases.items()}


def test_socrata_harvest_fails_closed(fetcher: Fetcher) -> None:
    cases = {f"ab{i:02d}-cdef": case for i, case in enumerate(DISCOVERY_CASES)}

    def discovery(request: Request):
        results = [discovery_result(metadata, name) for name, (metadata, _) in cases.items()]
        return 200, {}, {"results": results, "resultSetSize": len(results)}

    with ReplayServer({"/api/catalog/v1": discovery}) as server:
        items = list(socrata.harvest(server.url, fetcher=fetcher,
                                     options={"domain": "d", "limit": 100}))
    assert levels(items) == {name: expected for name, (_, expected) in cases.items()}


def test_dcat_harvest_fails_closed(fetcher: Fetcher) -> None:
    cases = {f"d-{i}": case for i, case in enumerate(DCAT_CASES)}
    entries = [put({"identifier": name, "title": name}, "accessLevel", marker)
               for name, (marker, _) in cases.items()]
    body = {"conformsTo": "https://project-open-data.cio.gov/v1.1/schema", "dataset": entries}
    with ReplayServer({"/data.json": (200, {}, body)}) as server:
        items = list(dcat.harvest(f"{server.url}/data.json", fetcher=fetcher, options={}))
    assert levels(items) == {name: expected for name, (_, expected) in cases.items()}


def test_frictionless_harvest_fails_closed(fetcher: Fetcher) -> None:
    routes = {}
    for i, (markers, _) in enumerate(PACKAGE_CASES):
        routes[f"/p{i}/datapackage.json"] = (200, {}, {
            "name": f"p{i}", "resources": [{"path": "x.csv", "schema": {"fields": [
                {"name": "a"}]}}], **markers})
    with ReplayServer(routes) as server:
        urls = [f"{server.url}/p{i}/datapackage.json" for i in range(len(PACKAGE_CASES))]
        items = list(frictionless.harvest(urls[0], fetcher=fetcher, options={"packages": urls}))
    assert levels(items) == {f"p{i}": expected for i, (_, expected) in enumerate(PACKAGE_CASES)}
