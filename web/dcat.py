"""The catalog for other catalogs: DCAT-US 1.1 ``/data.json`` and DCAT RDF (Turtle, JSON-LD).

``/data.json``
    A Project Open Data v1.1 catalog of the datasets the visitor may see (anonymous: the
    public ones, which is what harvesters such as data.gov's or ckanext-dcat see). Each entry's
    ``describedBy`` is the dataset's Table Schema export (``describedByType``
    ``application/schema+json``), which our own DCAT harvester (and any Frictionless tool)
    reads back as its fields; ``landingPage`` is its page here. ``accessLevel`` says public,
    restricted public or non-public; ``accrualPeriodicity`` is ISO 8601 when the frequency has
    a known equivalent. The contact point is the agency's e-mail address when it has one,
    else ``CATALOG_CONTACT_EMAIL``. The federal-only ``bureauCode`` and ``programCode`` are
    left out (the schema's documentation says non-federal catalogs need not give them).
``/catalog.ttl`` and ``/catalog.jsonld``
    The same datasets as a DCAT graph built with rdflib, in Turtle and JSON-LD.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from catalog.models import Dataset
from web.access import visible_dataset_list
from web.ckan_shapes import DCAT_ACCESS
from web.urls import external_url

bp = Blueprint("dcat", __name__)

POD_SCHEMA = "https://project-open-data.cio.gov/v1.1/schema"
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+")
ISO_DATE = re.compile(
    r"^\d{4}(-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?)?)?$"
)
#: Update frequencies in words -> ISO 8601 repeating durations (DCAT-US accrualPeriodicity).
PERIODICITY = {
    "decennial": "R/P10Y", "quadrennial": "R/P4Y", "triennial": "R/P3Y", "biennial": "R/P2Y",
    "annual": "R/P1Y", "annually": "R/P1Y", "yearly": "R/P1Y", "semiannual": "R/P6M",
    "semiannually": "R/P6M", "quarterly": "R/P3M", "bimonthly": "R/P2M", "monthly": "R/P1M",
    "semimonthly": "R/P0.5M", "biweekly": "R/P2W", "weekly": "R/P1W", "daily": "R/P1D",
    "hourly": "R/PT1H", "continuous": "R/PT1S", "irregular": "irregular",
}


def _email(*texts: str | None) -> str | None:
    for value in texts:
        match = EMAIL.search(value or "")
        if match:
            return match.group(0)
    return None


def contact_email(dataset: Dataset) -> str | None:
    """The e-mail address to ask about a dataset: its own, its agency's, else the catalog's."""
    agency = dataset.agency
    return _email(dataset.contact, agency.contact, agency.data_officer,
                  current_app.config["CATALOG_SETTINGS"].contact_email)


def modified(dataset: Dataset) -> str:
    """When the dataset last changed: the source's date when it is ISO 8601, else ours."""
    given = (dataset.last_modified or "").strip()
    if ISO_DATE.match(given):
        # "2019-06-27 12:41" is ISO 8601's date and time with a space: written with the
        # "T" (and seconds) that xsd:dateTime and DCAT-US readers require.
        date, sep, time = given.partition(" ") if " " in given else given.partition("T")
        if sep:
            clock = time if time.count(":") >= 2 else f"{time[:5]}:00{time[5:]}"
            return f"{date}T{clock}"
        return given
    return (dataset.updated_at or dataset.created_at).date().isoformat()


def date_literal(text: str) -> Literal:
    """An ISO 8601 date of :func:`modified` typed as RDF wants it: xsd:dateTime, xsd:date,
    xsd:gYearMonth or xsd:gYear by how much it says."""
    if "T" in text:
        kind = XSD.dateTime
    elif len(text) == 4:
        kind = XSD.gYear
    elif len(text) == 7:
        kind = XSD.gYearMonth
    else:
        kind = XSD.date
    return Literal(text, datatype=kind)


def periodicity(dataset: Dataset) -> str | None:
    """``accrualPeriodicity`` for the dataset's update frequency, when it has one."""
    words = (dataset.update_frequency or "").strip().lower()
    if re.fullmatch(r"R/P[\dYMWDTHS.]+", (dataset.update_frequency or "").strip()):
        return dataset.update_frequency.strip()
    return PERIODICITY.get(words)


def _license(dataset: Dataset) -> str | None:
    value = (dataset.extra or {}).get("license")
    return value if isinstance(value, str) and re.match(r"https?://\S+$", value) else None


def pod_dataset(dataset: Dataset) -> dict[str, Any]:
    """One dataset as a DCAT-US 1.1 entry."""
    page = external_url("browse.dataset", dataset_id=dataset.id)
    contact: dict[str, Any] = {"@type": "vcard:Contact",
                               "fn": dataset.contact or dataset.agency.contact
                               or dataset.agency.name}
    email = contact_email(dataset)
    if email:
        contact["hasEmail"] = f"mailto:{email}"
    entry: dict[str, Any] = {
        "@type": "dcat:Dataset",
        "identifier": dataset.identifier,
        "title": dataset.title,
        "description": dataset.description or dataset.title,
        "keyword": list(dataset.keywords or []) or [dataset.agency.name],
        "modified": modified(dataset),
        "publisher": {"@type": "org:Organization", "name": dataset.agency.name},
        "contactPoint": contact,
        "accessLevel": DCAT_ACCESS.get(dataset.access_level, "non-public"),
        "landingPage": page,
        "describedBy": external_url("exports.table_schema", dataset_id=dataset.id),
        "describedByType": "application/schema+json",
        "distribution": [{
            "@type": "dcat:Distribution", "title": "Data dictionary (CSV)",
            "description": "One row per field: name, label, description, type, positions, "
                           "value labels and sensitivity.",
            "downloadURL": external_url("exports.fields_csv", dataset_id=dataset.id),
            "mediaType": "text/csv", "format": "CSV",
            "describedBy": external_url("exports.table_schema", dataset_id=dataset.id),
            "describedByType": "application/schema+json",
        }],
    }
    if periodicity(dataset):
        entry["accrualPeriodicity"] = periodicity(dataset)
    if _license(dataset):
        entry["license"] = _license(dataset)
    if dataset.landing_page and re.match(r"https?://\S+$", dataset.landing_page):
        entry["references"] = [dataset.landing_page]
    return entry


def data_json() -> dict[str, Any]:
    """The visible datasets as a DCAT-US 1.1 catalog."""
    return {
        "@context": f"{POD_SCHEMA}/catalog.jsonld",
        "@id": external_url("dcat.data_json_view"),
        "@type": "dcat:Catalog",
        "conformsTo": POD_SCHEMA,
        "describedBy": f"{POD_SCHEMA}/catalog.json",
        "dataset": [pod_dataset(d) for d in visible_dataset_list()],
    }


@bp.get("/data.json")
def data_json_view() -> Response:
    """DCAT-US 1.1 (Project Open Data) catalog of the datasets the visitor may see."""
    return jsonify(data_json())


def dcat_graph() -> Graph:
    """The visible datasets as a DCAT graph."""
    graph = Graph()
    graph.bind("dcat", DCAT)
    graph.bind("dct", DCTERMS)
    graph.bind("foaf", FOAF)
    graph.bind("vcard", VCARD)
    catalog = URIRef(external_url("dcat.turtle"))
    graph.add((catalog, RDF.type, DCAT.Catalog))
    graph.add((catalog, DCTERMS.title, Literal("State Data Catalog")))
    graph.add((catalog, FOAF.homepage, URIRef(external_url("search.home"))))
    publishers: dict[str, URIRef] = {}
    for dataset in visible_dataset_list():
        entry = pod_dataset(dataset)
        node = URIRef(entry["landingPage"])
        graph.add((catalog, DCAT.dataset, node))
        graph.add((node, RDF.type, DCAT.Dataset))
        graph.add((node, DCTERMS.identifier, Literal(entry["identifier"])))
        graph.add((node, DCTERMS.title, Literal(entry["title"])))
        graph.add((node, DCTERMS.description, Literal(entry["description"])))
        graph.add((node, DCAT.landingPage, node))
        graph.add((node, DCTERMS.modified, date_literal(entry["modified"])))
        graph.add((node, DCTERMS.accessRights, Literal(entry["accessLevel"])))
        for word in dataset.keywords or []:
            graph.add((node, DCAT.keyword, Literal(word)))
        slug = dataset.agency.slug
        if slug not in publishers:
            publishers[slug] = URIRef(external_url("browse.agency", slug=slug))
            graph.add((publishers[slug], RDF.type, FOAF.Organization))
            graph.add((publishers[slug], FOAF.name, Literal(dataset.agency.name)))
        graph.add((node, DCTERMS.publisher, publishers[slug]))
        contact = BNode()
        graph.add((node, DCAT.contactPoint, contact))
        graph.add((contact, RDF.type, VCARD.Kind))
        graph.add((contact, VCARD.fn, Literal(entry["contactPoint"]["fn"])))
        if "hasEmail" in entry["contactPoint"]:
            graph.add((contact, VCARD.hasEmail, URIRef(entry["contactPoint"]["hasEmail"])))
        schema = URIRef(entry["describedBy"])
        graph.add((node, DCTERMS.conformsTo, schema))
        for item in entry["distribution"]:
            dist = URIRef(item["downloadURL"])
            graph.add((node, DCAT.distribution, dist))
            graph.add((dist, RDF.type, DCAT.Distribution))
            graph.add((dist, DCTERMS.title, Literal(item["title"])))
            graph.add((dist, DCAT.downloadURL, dist))
            graph.add((dist, DCAT.mediaType, Literal(item["mediaType"])))
            graph.add((dist, DCTERMS.conformsTo, schema))
        if "accrualPeriodicity" in entry:
            graph.add((node, DCTERMS.accrualPeriodicity, Literal(entry["accrualPeriodicity"])))
    return graph


@bp.get("/catalog.ttl")
def turtle() -> Response:
    """The DCAT graph in Turtle."""
    return Response(dcat_graph().serialize(format="turtle"), mimetype="text/turtle")


@bp.get("/catalog.jsonld")
def json_ld() -> Response:
    """The DCAT graph in JSON-LD."""
    return Response(dcat_graph().serialize(format="json-ld"), mimetype="application/ld+json")
