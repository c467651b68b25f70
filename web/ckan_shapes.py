"""Catalog records in CKAN's shapes: packages, resources, organisations, DataStore fields.

What CKAN 2.11 returns from its Action API, built from what the catalog holds:

* a dataset is a *package*: ``name`` is the dataset identifier (what our own CKAN harvester
  reads back as the identifier), ``id`` the catalog's number, ``notes`` the description,
  ``tags`` the keywords, ``organization`` its agency, ``private`` true unless public, with
  the DCAT-US ``accessLevel`` as an extra (so a harvester fails closed either way);
* its data dictionary is one *resource* (``<id>-dictionary``), ``datastore_active`` when it
  has fields, whose URL is the dataset's Table Schema export;
* the fields are a DataStore data dictionary: ``id`` (the name), ``type`` (a PostgreSQL
  type, as the DataStore stores columns) and ``info`` with ``label``, ``notes`` and
  ``type_override``.

Which datasets are shaped is decided by the caller through :mod:`web.access`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from catalog.models import Agency, Dataset, Field
from web.urls import external_url

#: Our data types -> DataStore column types.
DATASTORE_TYPES = {
    "string": "text",
    "code": "text",
    "integer": "int8",
    "number": "numeric",
    "boolean": "bool",
    "date": "date",
    "datetime": "timestamp",
    "time": "time",
    "geometry": "json",
}
#: Our access levels -> DCAT-US ``accessLevel``.
DCAT_ACCESS = {"public": "public", "restricted": "restricted public", "internal": "non-public"}
RESOURCE_SUFFIX = "-dictionary"


def ckan_time(value: datetime | None) -> str | None:
    """A time as CKAN writes it: naive UTC ISO 8601 with microseconds."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


def organization_dict(agency: Agency, package_count: int | None = None) -> dict[str, Any]:
    """An agency as a CKAN organisation."""
    out: dict[str, Any] = {
        "id": agency.slug,
        "name": agency.slug,
        "title": agency.name,
        "display_name": agency.name,
        "description": agency.description or "",
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
    }
    if agency.abbreviation:
        out["abbreviation"] = agency.abbreviation
    if package_count is not None:
        out["package_count"] = package_count
    return out


def datastore_field(field: Field) -> dict[str, Any]:
    """A field as a column of a DataStore data dictionary."""
    info: dict[str, Any] = {
        "label": field.label or "",
        "notes": field.description or "",
        "type_override": "",
    }
    if field.source_type:
        info["source_type"] = field.source_type
    return {
        "id": field.name,
        "type": DATASTORE_TYPES.get(field.data_type or "", "text"),
        "info": info,
    }


def resource_id(dataset: Dataset) -> str:
    """The id of the dataset's data dictionary resource."""
    return f"{dataset.id}{RESOURCE_SUFFIX}"


def dataset_id_of_resource(value: str) -> int | None:
    """The dataset number in a resource id, or None when it is not one of ours."""
    number = value.removesuffix(RESOURCE_SUFFIX)
    if not value.endswith(RESOURCE_SUFFIX) or not number.isdigit() or len(number) > 18:
        return None
    return int(number)


def resource_dict(dataset: Dataset, field_count: int, *, with_fields: bool) -> dict[str, Any]:
    """The dataset's data dictionary as a CKAN resource."""
    out: dict[str, Any] = {
        "id": resource_id(dataset),
        "package_id": str(dataset.id),
        "position": 0,
        "name": "Data dictionary",
        "description": f"The {field_count} fields of {dataset.title}, as a Table Schema.",
        "format": "JSON",
        "mimetype": "application/schema+json",
        "url": external_url("exports.table_schema", dataset_id=dataset.id),
        "datastore_active": field_count > 0,
        "state": "active",
        "created": ckan_time(dataset.created_at),
        "last_modified": ckan_time(dataset.updated_at),
    }
    if with_fields:
        out["fields"] = [datastore_field(f) for f in dataset.fields]
    return out


def _extras(dataset: Dataset) -> list[dict[str, str]]:
    extra = dataset.extra or {}
    pairs: dict[str, Any] = {
        "accessLevel": DCAT_ACCESS.get(dataset.access_level, "non-public"),
        "identifier": dataset.identifier,
        "update_frequency": dataset.update_frequency,
        "modified": dataset.last_modified,
        "layout": "true" if dataset.layout else None,
        "record_length": extra.get("record_length") if dataset.layout else None,
        "format": dataset.format,
        "contact": dataset.contact,
    }
    return [{"key": k, "value": str(v)} for k, v in pairs.items() if v not in (None, "")]


def package_dict(
    dataset: Dataset, field_count: int, *, with_fields: bool = False
) -> dict[str, Any]:
    """A dataset as a CKAN package (with its data dictionary's columns when asked)."""
    extra = dataset.extra or {}
    license_name = extra.get("license") if isinstance(extra.get("license"), str) else None
    tags = [
        {"name": k, "display_name": k, "state": "active", "vocabulary_id": None}
        for k in dataset.keywords or []
    ]
    return {
        "id": str(dataset.id),
        "name": dataset.identifier,
        "title": dataset.title,
        "type": "dataset",
        "state": "active" if dataset.status == "active" else "deleted",
        "private": dataset.access_level != "public",
        "notes": dataset.description or "",
        "url": dataset.landing_page or "",
        "author": dataset.agency.name,
        "author_email": None,
        "maintainer": dataset.contact or dataset.agency.contact,
        "maintainer_email": None,
        "license_id": license_name or "",
        "license_title": license_name or "",
        "metadata_created": ckan_time(dataset.created_at),
        "metadata_modified": ckan_time(dataset.updated_at),
        "owner_org": dataset.agency.slug,
        "organization": organization_dict(dataset.agency),
        "num_tags": len(tags),
        "tags": tags,
        "groups": [],
        "num_resources": 1,
        "resources": [resource_dict(dataset, field_count, with_fields=with_fields)],
        "extras": _extras(dataset),
        "catalog_url": external_url("browse.dataset", dataset_id=dataset.id),
    }
