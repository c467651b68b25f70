"""schema.org ``Dataset`` JSON-LD on public dataset pages, for dataset search engines.

:func:`dataset_jsonld` gives the ``<script type="application/ld+json">`` block that
``dataset.html`` puts in its ``<head>``: name, description, identifier, url, publisher,
keywords, temporalCoverage (when the source gave one), dateModified, license (a URL, when
known), distribution (the data dictionary downloads), and ``variableMeasured`` with one
``PropertyValue`` per field (name, description, and unitText when the field's format names
a unit). Only public datasets carry it: a page a steward sees of a restricted dataset must not
invite indexing.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint
from markupsafe import Markup

from catalog.models import Dataset, Field
from web.dcat import modified
from web.urls import external_url

bp = Blueprint("jsonld", __name__)


def _unit(field: Field) -> str | None:
    """A unit the field's source states (a format such as ``DOLLAR12.2`` is dollars)."""
    fmt = (field.format or "").upper()
    if fmt.startswith("DOLLAR"):
        return "USD"
    if fmt.startswith("PERCENT"):
        return "percent"
    return None


def property_value(field: Field) -> dict[str, Any]:
    """A field as a schema.org PropertyValue."""
    out: dict[str, Any] = {
        "@type": "PropertyValue",
        "name": field.name,
        "url": external_url("browse.field", field_id=field.id),
    }
    if field.label:
        out["alternateName"] = field.label
    description = field.description or field.label
    if description:
        out["description"] = description
    if _unit(field):
        out["unitText"] = _unit(field)
    return out


def dataset_data(dataset: Dataset) -> dict[str, Any]:
    """A dataset as a schema.org Dataset."""
    extra = dataset.extra or {}
    page = external_url("browse.dataset", dataset_id=dataset.id)
    data: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": page,
        "name": dataset.title,
        "description": dataset.description or dataset.title,
        "identifier": dataset.identifier,
        "url": page,
        "publisher": {
            "@type": "Organization",
            "name": dataset.agency.name,
            "url": external_url("browse.agency", slug=dataset.agency.slug),
        },
        "keywords": list(dataset.keywords or []),
        "dateModified": modified(dataset),
        "includedInDataCatalog": {
            "@type": "DataCatalog",
            "name": "State Data Catalog",
            "url": external_url("search.home"),
        },
        "distribution": [
            {
                "@type": "DataDownload",
                "name": "Data dictionary (CSV)",
                "encodingFormat": "text/csv",
                "contentUrl": external_url("exports.fields_csv", dataset_id=dataset.id),
            },
            {
                "@type": "DataDownload",
                "name": "Table Schema",
                "encodingFormat": "application/schema+json",
                "contentUrl": external_url("exports.table_schema", dataset_id=dataset.id),
            },
        ],
        "variableMeasured": [property_value(f) for f in dataset.fields],
    }
    if isinstance(extra.get("temporal"), str) and extra["temporal"].strip():
        data["temporalCoverage"] = extra["temporal"].strip()
    license_url = extra.get("license")
    if isinstance(license_url, str) and license_url.startswith(("http://", "https://")):
        data["license"] = license_url
    if dataset.landing_page and dataset.landing_page.startswith(("http://", "https://")):
        data["sameAs"] = dataset.landing_page
    return data


@bp.app_template_global()
def dataset_jsonld(dataset: Dataset) -> Markup:
    """The JSON-LD ``<script>`` of a public dataset's page (nothing for any other)."""
    if dataset.access_level != "public":
        return Markup("")
    text = json.dumps(dataset_data(dataset), ensure_ascii=False)
    # Inside <script>, "<", ">" and "&" are escaped so that no text can close the element.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup('<script type="application/ld+json">{}</script>').format(Markup(text))
