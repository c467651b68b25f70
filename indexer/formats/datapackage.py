"""Frictionless Data Packages: ``datapackage.json``.

Accepted shape: a JSON object with a ``resources`` list, each resource possibly carrying an inline
Table Schema (``schema.fields``); ``name``, ``title``, ``description``, ``keywords``,
``licenses``, ``sources``, ``homepage`` and, as CT Data Collaborative packages have them,
``ckan_extras`` (``{key: {"ckan_name": ..., "value": ...}}``) and ``last_modified``.

One dataset per package: identifier = ``name`` exactly as given (else the file name before its
first dot, or the folder name for a plain ``datapackage.json``). Agency: a ``ckan_extras`` entry
named agency / publisher / organization, else a ``sources`` name or title that reads like an
organisation name (several words, capitalised), else None — slugs such as ``ctdol`` are not
agencies (the loader falls back to an agencies CSV by path); sources stay in ``extra``.
Update frequency from ``ckan_extras.frequency``; ``last_modified`` (``MM/DD/YYYY`` becomes ISO).
Fields: every resource's ``schema.fields`` — name, ``title`` -> label, description, ``type`` ->
source type and data type, ``format``, ``constraints.enum`` -> value labels (code = label =
value). When several resources carry schemas, each field's description names its resource.

Access: the Frictionless specification has no access marker, so a package is public unless it
carries one of the markers other tools add, read as they mean it and failing closed
(:func:`access`): a CKAN-style ``private`` flag (only ``false`` is public) and a DCAT-US
``accessLevel`` / ``access_level``, at the top or in ``ckan_extras``; the most closed wins.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from indexer.formats import dcat_json
from indexer.formats.base import DOCUMENT_MAX_BYTES, FormatError, ParsedFile
from indexer.formats.portal import (
    JSON_MEDIA_TYPES,
    JSON_SUFFIXES,
    Access,
    combine_access,
    dicts,
    expect_object,
    first_text,
    frequency_word,
    has_key,
    head_json,
    html_text,
    is_json_object_head,
    iso_date,
    key_count,
    load_json,
    obj,
    portal_dataset,
    portal_field,
    private_flag,
    string_list,
    text,
    with_access,
)

NAME = "datapackage"
SUFFIXES = JSON_SUFFIXES
MEDIA_TYPES = JSON_MEDIA_TYPES
MAX_BYTES = DOCUMENT_MAX_BYTES

_PACKAGE_MARKERS = ("datapackage_version", "profile", "licenses", "schema", "path", "ckan_extras")
_CKAN_MARKERS = ("num_resources", "owner_org", "metadata_modified", "package_id", "license_id")
# Table Schema types that base.normalise_type would not place; the rest go through it.
_TABLE_SCHEMA_TYPES = {"year": "date", "yearmonth": "date", "geopoint": "geometry",
                       "geojson": "geometry", "duration": "other", "any": "other"}
_AGENCY_KEYS = ("agency", "publisher", "organization", "organisation", "source_agency")
_ACCESS_KEYS = ("accessLevel", "access_level")


def detect(path: Path, head: str) -> bool:
    """True for a data package: ``resources`` plus package markers, and not a CKAN package."""
    whole = head_json(head)
    if whole is not None:
        return _looks_like_package(whole, path)
    if not is_json_object_head(head) or not has_key(head, "resources", "["):
        return False
    if key_count(head, _CKAN_MARKERS) >= 1:
        return False
    named = path.name.lower().endswith("datapackage.json")
    return named or key_count(head, _PACKAGE_MARKERS) >= 2


def _looks_like_package(data: Any, path: Path) -> bool:
    if not isinstance(data, dict) or not isinstance(data.get("resources"), list):
        return False
    if any(key in data for key in _CKAN_MARKERS) or "help" in data:
        return False
    if path.name.lower().endswith("datapackage.json"):
        return True
    resources = dicts(data["resources"])
    has_schema = any("schema" in r or "path" in r for r in resources)
    return has_schema or any(key in data for key in _PACKAGE_MARKERS[:3])


def parse(path: Path) -> ParsedFile:
    """Read a data package into one dataset record."""
    data = expect_object(load_json(path), "a JSON object with 'resources' (a data package)")
    if not isinstance(data.get("resources"), list):
        raise FormatError("expected a data package: a JSON object with a 'resources' list")
    parsed = ParsedFile(path=path, format=NAME)
    identifier = text(data.get("name")) or fallback_identifier(path)
    extras = _ckan_extras(data.get("ckan_extras"))
    fields = package_fields(data, parsed.warnings)
    parsed.datasets.append(with_access(
        portal_dataset(
            identifier,
            text(data.get("title")),
            description=text(data.get("description")),
            agency=_agency(data, extras),
            keywords=string_list(data.get("keywords")),
            update_frequency=frequency_word(extras.get("frequency")),
            last_modified=iso_date(data.get("last_modified") or data.get("modified")),
            landing_page=text(data.get("homepage")),
            extra=_extra(data, extras),
            fields=fields,
        ),
        access(data),
    ))
    return parsed


def access(data: dict[str, Any]) -> Access:
    """A package's access level from the markers other tools add (none: public)."""
    readings: list[Access] = [("public", None)]
    for where, holder in (("", data), ("ckan_extras.", obj(data.get("ckan_extras")))):
        if "private" in holder:
            readings.append(private_flag(_value(holder["private"]), f"{where}private"))
        for key in _ACCESS_KEYS:
            if key in holder:
                level, note = dcat_json.access(_value(holder[key]))
                readings.append((level, note and f"{where}{note}"))
    return combine_access(*readings)


def _value(entry: Any) -> Any:
    """A ``ckan_extras`` entry's ``value`` (``{"ckan_name": ..., "value": ...}``), else itself."""
    return entry["value"] if isinstance(entry, dict) and "value" in entry else entry


def fallback_identifier(path: Path) -> str:
    """The identifier of a package without a name, from its file (or folder) name.

    The file name before its first dot; the folder's name for a plain ``datapackage.json``.
    """
    stem = path.name.split(".", 1)[0]
    if stem.lower() == "datapackage" and path.parent.name:
        return path.parent.name
    return stem or path.stem


def _ckan_extras(value: Any) -> dict[str, Any]:
    """``ckan_extras`` flattened to ``{key: value}`` (entries are ``{"value": ...}`` objects)."""
    flat: dict[str, Any] = {}
    for key, entry in obj(value).items():
        flat[key] = entry.get("value") if isinstance(entry, dict) and "value" in entry else entry
    return flat


_AGENCY_NAME = re.compile(r"^[A-Z][\w.&'’,()-]*(?:\s+[\w.&'’,()-]+)+$")


def looks_like_agency(name: str | None) -> bool:
    """True for an organisation-like name (``CT Department of Labor``), not a slug (``ctdol``)."""
    return bool(name) and _AGENCY_NAME.match(name or "") is not None


def _agency(data: dict[str, Any], extras: dict[str, Any]) -> str | None:
    for key in _AGENCY_KEYS:
        name = text(extras.get(key))
        if name:
            return name
    for source in dicts(data.get("sources")):
        for key in ("title", "name"):
            name = text(source.get(key))
            if looks_like_agency(name):
                return name
    return None


def _extra(data: dict[str, Any], extras: dict[str, Any]) -> dict[str, Any]:
    full = html_text(extras.pop("full_description", None))
    return {
        "version": text(data.get("version")),
        "licenses": dicts(data.get("licenses")) or text(data.get("license")),
        "sources": dicts(data.get("sources")),
        "authors": [a for a in (text(x.get("name")) for x in dicts(data.get("author"))) if a],
        "full_description": full,
        "ckan_extras": {k: v for k, v in extras.items() if v not in (None, "", [], {})},
        "resources": [
            {k: r[k] for k in ("name", "path", "format") if text(r.get(k))}
            for r in dicts(data.get("resources"))
        ],
    }


def package_fields(data: dict[str, Any], warnings: list[str]) -> list[dict[str, Any]]:
    """Field records from every resource's inline Table Schema."""
    schemas: list[tuple[str, list[dict[str, Any]]]] = []
    for index, resource in enumerate(dicts(data.get("resources")), start=1):
        schema = resource.get("schema")
        label = first_text(resource.get("name"), resource.get("path")) or f"resource {index}"
        if isinstance(schema, str):
            warnings.append(f"{label}: schema is a reference ({schema}); its fields are not read")
        elif dicts(obj(schema).get("fields")):
            schemas.append((label, dicts(obj(schema).get("fields"))))
    several = len(schemas) > 1
    fields: list[dict[str, Any]] = []
    for label, columns in schemas:
        for column in columns:
            # ``x-original-name``: the name a catalog (ours) had to make unique, as the
            # dictionary gave it.
            name = text(column.get("x-original-name")) or text(column.get("name"))
            if name is None:
                warnings.append(f"{label}: a field without a name was skipped")
                continue
            fields.append(_field(len(fields) + 1, name, column, label if several else None))
    return fields


def _field(
    position: int, name: str, column: dict[str, Any], resource: str | None
) -> dict[str, Any]:
    description = text(column.get("description"))
    if resource:
        description = f"[{resource}] {description}" if description else f"[{resource}]"
    enum = obj(column.get("constraints")).get("enum")
    codes = [text(value, limit=200) for value in enum] if isinstance(enum, list) else []
    source_type = text(column.get("type"))
    fmt = text(column.get("format"))
    return portal_field(
        position,
        name,
        label=text(column.get("title")),
        description=description,
        source_type=source_type,
        data_type=_TABLE_SCHEMA_TYPES.get((source_type or "").lower()),
        format=None if fmt == "default" else fmt,
        value_labels=[{"code": code, "label": code} for code in codes if code],
    )
