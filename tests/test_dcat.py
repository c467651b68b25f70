"""``/data.json`` against the Project Open Data v1.1 schema, read back by our DCAT harvester;
the DCAT graph in Turtle and JSON-LD read back by rdflib."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft4Validator, FormatChecker
from rdflib import Graph
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from indexer.harvesters import dcat
from indexer.http import Fetcher
from tests.live_server import serving
from tests.webfixtures import HIDDEN_WORDS, RECORDS, WebCatalog
from web.app import create_app

SCHEMAS = Path(__file__).parent / "schemas" / "pod-v1.1"
PUBLIC = [r for r in RECORDS if r.get("access_level", "public") == "public"]
# Required of United States federal agencies only (see tests/schemas/pod-v1.1/README.md).
FEDERAL_ONLY = ("bureauCode", "programCode")


def pod_validator() -> Draft4Validator:
    """The vendored catalog schema, its references resolved to the vendored files."""
    schemas = {p.name: json.loads(p.read_text("utf-8")) for p in SCHEMAS.glob("*.json")}
    schemas["dataset.json"]["required"] = [
        r for r in schemas["dataset.json"]["required"] if r not in FEDERAL_ONLY]
    registry: Registry = Registry()
    for name, schema in schemas.items():
        resource = Resource.from_contents(schema, default_specification=DRAFT4)
        registry = registry.with_resources([(schema["id"].rstrip("#"), resource),
                                            (name, resource)])
    return Draft4Validator(schemas["catalog.json"], registry=registry,
                           format_checker=FormatChecker())


def schema_errors(document: Any) -> list[str]:
    """Every schema error, with where it is."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in pod_validator().iter_errors(document)]


CONTACT = "catalog-team@example.gov"


@pytest.fixture(scope="module")
def app(web_catalog: WebCatalog) -> Flask:
    """The test catalog's app with a catalog contact address (CATALOG_CONTACT_EMAIL)."""
    settings = replace(web_catalog.catalog.settings, contact_email=CONTACT)
    return create_app(web_catalog.catalog, settings=settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="module")
def live_url(app: Flask) -> Iterator[str]:
    with serving(app) as url:
        yield url


def test_data_json_has_the_public_datasets_and_no_schema_error(client: Any) -> None:
    answer = client.get("/data.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    document = answer.json
    assert [d["identifier"] for d in document["dataset"]] == [r["identifier"] for r in PUBLIC]
    body = answer.get_data(as_text=True).lower()
    assert not any(word in body for word in HIDDEN_WORDS)
    errors = schema_errors(document)
    print(f"\ndata.json: {len(document['dataset'])} datasets, {len(errors)} schema errors")
    assert errors == []
    foster = next(d for d in document["dataset"] if d["identifier"] == "foster-care-placements")
    assert foster["accrualPeriodicity"] == "R/P3M" and foster["modified"] == "2024-03-31"
    assert foster["describedBy"].endswith("/tableschema.json")
    assert foster["describedByType"] == "application/schema+json"
    assert foster["publisher"]["name"] == "Department of Children and Families"
    assert foster["keyword"] == ["foster care", "child welfare", "placements"]
    assert foster["contactPoint"]["hasEmail"] == f"mailto:{CONTACT}"


def test_the_schema_check_can_fail(client: Any) -> None:
    document = client.get("/data.json").json
    document["dataset"][0]["accessLevel"] = "secret"
    del document["dataset"][1]["contactPoint"]
    errors = schema_errors(document)
    assert any(e.startswith("dataset/0/accessLevel") for e in errors)
    assert any("contactPoint" in e for e in errors)


def test_without_any_contact_address_the_schema_says_so(web_catalog: WebCatalog) -> None:
    document = web_catalog.app.test_client().get("/data.json").json  # no CATALOG_CONTACT_EMAIL
    errors = schema_errors(document)
    assert errors and all(e.endswith("'hasEmail' is a required property") for e in errors)


def test_our_dcat_harvester_reads_our_data_json_back(live_url: str) -> None:
    with Fetcher(retries=0) as fetcher:
        items = list(dcat.harvest(f"{live_url}/data.json", fetcher=fetcher, options={}))
    assert [i.error for i in items] == [None] * len(PUBLIC)
    harvested = {i.dataset["identifier"]: i.dataset for i in items}
    assert set(harvested) == {r["identifier"] for r in PUBLIC}
    for record in PUBLIC:
        got = harvested[record["identifier"]]
        assert (got["title"], got["description"], got["agency"]) == \
            (record["title"], record["description"], record["agency"])
        assert got["keywords"] == record["keywords"]
        assert got["access_level"] == "public"
        fields = [(f["position"], f["name"], f.get("label"), f.get("description"))
                  for f in got["fields"]]
        assert fields == [(f["position"], f["name"], f.get("label"), f.get("description"))
                          for f in record["fields"]], record["identifier"]


@pytest.mark.parametrize(("path", "rdf_format"), [("/catalog.ttl", "turtle"),
                                                  ("/catalog.jsonld", "json-ld")])
def test_dcat_rdf_reads_back_with_rdflib(client: Any, path: str, rdf_format: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200
    graph = Graph().parse(data=answer.get_data(as_text=True), format=rdf_format)
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    identifiers = {str(graph.value(d, DCTERMS.identifier)) for d in datasets}
    assert identifiers == {r["identifier"] for r in PUBLIC}
    foster = next(d for d in datasets
                  if str(graph.value(d, DCTERMS.identifier)) == "foster-care-placements")
    assert {str(k) for k in graph.objects(foster, DCAT.keyword)} == \
        {"foster care", "child welfare", "placements"}
    publisher = graph.value(foster, DCTERMS.publisher)
    assert str(graph.value(publisher, FOAF.name)) == "Department of Children and Families"
    assert not any(w in answer.get_data(as_text=True).lower() for w in HIDDEN_WORDS)


@pytest.mark.parametrize(("given", "written", "kind"), [
    ("2019-06-27 12:41:27", "2019-06-27T12:41:27", "dateTime"),
    ("2019-06-27 12:41", "2019-06-27T12:41:00", "dateTime"),
    ("2019-06-27T12:41Z", "2019-06-27T12:41:00Z", "dateTime"),
    ("2019-06-27", "2019-06-27", "date"),
    ("2019-06", "2019-06", "gYearMonth"),
    ("2019", "2019", "gYear"),
])
def test_a_sources_date_is_written_as_a_valid_typed_literal(given: str, written: str,
                                                             kind: str) -> None:
    """A source's "2019-06-27 12:41:27" (ISO 8601 with a space) is no xsd:date: it is
    written with a "T" as xsd:dateTime, and each literal parses as its type."""
    import datetime
    import types

    from web.dcat import date_literal, modified

    dataset = types.SimpleNamespace(last_modified=given, updated_at=None,
                                    created_at=datetime.datetime(2020, 1, 1))
    text = modified(dataset)
    literal = date_literal(text)
    assert text == written and str(literal.datatype).endswith(f"#{kind}")
    assert literal.ill_typed is not True  # rdflib checks dates and times (not gYear*)
