"""How catalog objects are shown: display labels, links, and plain dicts for the API."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import url_for

from catalog.models import Agency, Dataset, Field
from catalog.search.query import Hit

FACET_TITLES = {
    "kind": "Result type",
    "agency": "Agency",
    "data_type": "Data type",
    "sensitivity": "Sensitivity",
    "access_level": "Access level",
}
KIND_LABELS = {"dataset": "Dataset", "field": "Field"}
SENSITIVITY_HELP = {
    "public": "Public data: may be released to anyone.",
    "protected": "Protected data: released only under conditions set by the agency.",
    "personal": "Personal data: about an individual, released only with safeguards.",
    "private": "Private data: may not be released by law or regulation.",
}
ACCESS_HELP = {
    "public": "Metadata anyone can see.",
    "restricted": "Metadata visible to approved users only.",
    "internal": "Metadata visible to agency staff only.",
}


def facet_label(facet: str, value: str, agency_names: dict[str, str] | None = None) -> str:
    """Human-readable label of a facet value."""
    if facet == "agency" and agency_names:
        return agency_names.get(value, value)
    if facet == "kind":
        return KIND_LABELS.get(value, value) + "s"
    return value.replace("_", " ").capitalize()


def safe_href(url: str | None) -> str | None:
    """The URL when it is an absolute http(s) link, else None (no ``javascript:`` links)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url.strip()
    return None


def hit_url(hit: Hit, *, external: bool = False) -> str:
    """Link to the page of a search hit."""
    payload = hit.payload
    if hit.kind == "field" and payload.get("field_id") is not None:
        return url_for("browse.field", field_id=payload["field_id"], _external=external)
    return url_for("browse.dataset", dataset_id=payload["dataset_id"], _external=external)


def hit_dict(hit: Hit) -> dict[str, Any]:
    """A hit as plain data for :class:`SearchHitSchema`."""
    data = hit.to_dict()
    data["url"] = hit_url(hit, external=True)
    return data


def field_dict(field: Field, dataset: Dataset | None = None) -> dict[str, Any]:
    """A field as plain data for :class:`FieldOutSchema`."""
    dataset = dataset or field.dataset
    data = {c.key: getattr(field, c.key) for c in Field.__table__.columns}
    data.update(
        dataset_identifier=dataset.identifier,
        agency_slug=dataset.agency.slug,
        value_labels=field.value_labels or [],
        pii=field.pii or [],
        url=url_for("browse.field", field_id=field.id, _external=True),
    )
    return data


def dataset_dict(
    dataset: Dataset, *, with_fields: bool = True, field_count: int | None = None
) -> dict[str, Any]:
    """A dataset as plain data for :class:`DatasetOutSchema`."""
    data = {c.key: getattr(dataset, c.key) for c in Dataset.__table__.columns}
    data.update(
        agency=dataset.agency,
        keywords=dataset.keywords or [],
        provenance=dataset.provenance or {},
        source_name=dataset.source.name if dataset.source is not None else None,
        url=url_for("browse.dataset", dataset_id=dataset.id, _external=True),
    )
    if with_fields:
        data["fields_"] = [field_dict(f, dataset) for f in dataset.fields]
        data["field_count"] = len(dataset.fields)
    else:
        data["field_count"] = field_count
    return data


def agency_dict(agency: Agency, dataset_count: int, field_count: int) -> dict[str, Any]:
    """An agency as plain data for :class:`AgencyOutSchema`."""
    data = {c.key: getattr(agency, c.key) for c in Agency.__table__.columns}
    data.update(dataset_count=dataset_count, field_count=field_count)
    return data
