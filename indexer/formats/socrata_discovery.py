"""Socrata Discovery API responses: ``/api/catalog/v1`` search results.

Accepted shape: a JSON object with a ``results`` list; each result is an object with
``resource`` (``id`` 4x4, ``name``, ``description``, ``attribution``, ``updatedAt`` and the
parallel arrays ``columns_name`` / ``columns_field_name`` / ``columns_datatype`` /
``columns_description``), ``classification`` (``categories``, ``tags``, ``domain_category``,
``domain_tags``, ``domain_metadata`` as a list of ``{key, value}``), ``metadata`` (``domain``),
``permalink``, ``link`` and ``owner``.

Agency: ``resource.attribution``, else a ``domain_metadata`` value whose key ends in ``_Agency``
(then ``_Publisher``, ``_Department``), else ``metadata.domain``. Keywords: ``domain_tags`` then
``tags``; update frequency from a ``domain_metadata`` key mentioning a frequency; landing page =
``permalink`` (else ``link``); last_modified = ``resource.updatedAt``.

One dataset per result. Column arrays may differ in length or hold nulls: a column is kept when
it has a field name (or, failing that, a display name); system columns (field name starting with
``:``, e.g. ``:@computed_region_...``) are skipped. A result without ``resource.id`` is reported
in ``ParsedFile.errors`` and the others still load.

Access fails closed (:func:`access`): an anonymous search result carries only
``metadata.domain`` and is public; a result fetched with credentials also carries visibility
(``visible_to_anonymous``, ``is_public``, ``is_published``, the ``is_*_approved`` flags and the
``*_status`` words). Each of these given must say public (``true``, ``"approved"``): a
``false``, ``"pending"`` or ``"rejected"`` makes the dataset internal, any other value
restricted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    load_json,
    merge_keywords,
    obj,
    portal_dataset,
    portal_field,
    skipped_record,
    socrata_type,
    string_list,
    text,
    with_access,
)

NAME = "socrata-discovery"
SUFFIXES = JSON_SUFFIXES
MEDIA_TYPES = JSON_MEDIA_TYPES
MAX_BYTES = DOCUMENT_MAX_BYTES

# domain_metadata keys naming the publisher, most specific wording first.
_AGENCY_SUFFIXES = ("_Agency", "_Publisher", "_Department")
_COLUMN_ARRAYS = ("columns_field_name", "columns_name", "columns_datatype", "columns_description")
# Visibility a result fetched with credentials carries in ``metadata`` (Socrata's Cetera).
_VISIBLE_FLAGS = ("visible_to_anonymous", "is_public", "is_published", "is_moderation_approved",
                  "is_moderation_approved_on_context", "is_routing_approved",
                  "is_routing_approved_on_context", "is_datalens_approved")
_STATUS_WORDS = ("moderation_status", "routing_status", "datalens_status")


def detect(path: Path, head: str) -> bool:
    """True for a Discovery API response: ``results`` holding ``resource`` + ``classification``."""
    whole = head_json(head)
    if whole is not None:
        return _looks_like_response(whole)
    if not is_json_object_head(head) or not has_key(head, "results", "["):
        return False
    return has_key(head, "resource", "{") and (
        has_key(head, "classification") or has_key(head, "columns_field_name")
    )


def _looks_like_response(data: Any) -> bool:
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        return False
    results = dicts(data["results"])
    if not results:
        return "resultSetSize" in data
    first = results[0]
    return isinstance(first.get("resource"), dict) and (
        "classification" in first or "columns_field_name" in first["resource"]
    )


def parse(path: Path) -> ParsedFile:
    """Read every search result into a dataset record."""
    data = expect_object(load_json(path), "a JSON object with a 'results' list")
    results = data.get("results")
    if not isinstance(results, list):
        raise FormatError("expected a JSON object with a 'results' list (Socrata Discovery API)")
    parsed = ParsedFile(path=path, format=NAME)
    for index, result in enumerate(results, start=1):
        resource = obj(result.get("resource")) if isinstance(result, dict) else {}
        identifier = text(resource.get("id"))
        if identifier is None:
            parsed.errors.append(skipped_record("result", index, "no resource.id",
                                                text(resource.get("name"))))
            continue
        parsed.datasets.append(result_record(identifier, result))
    return parsed


def result_record(identifier: str, result: dict[str, Any]) -> dict[str, Any]:
    """The raw dataset record of one search result."""
    resource = obj(result.get("resource"))
    classification = obj(result.get("classification"))
    domain = text(obj(result.get("metadata")).get("domain"))
    domain_metadata = _domain_metadata(classification.get("domain_metadata"))
    extra = {
        "socrata_id": identifier,
        "domain": domain,
        "type": text(resource.get("type")),
        "categories": string_list(classification.get("categories"), split=False),
        "domain_category": text(classification.get("domain_category")),
        "attribution_link": text(resource.get("attribution_link")),
        "contact_email": text(resource.get("contact_email")),
        "provenance": text(resource.get("provenance")),
        "created": text(resource.get("createdAt")),
        "owner": text(obj(result.get("owner")).get("display_name")),
        "domain_metadata": domain_metadata,
    }
    record = portal_dataset(
        identifier,
        text(resource.get("name")),
        description=html_text(resource.get("description")),
        agency=_agency(resource, domain_metadata, domain),
        keywords=merge_keywords(
            string_list(classification.get("domain_tags"), split=False),
            string_list(classification.get("tags"), split=False),
        ),
        update_frequency=_frequency(domain_metadata),
        last_modified=text(resource.get("updatedAt"), limit=40),
        landing_page=first_text(result.get("permalink"), result.get("link")),
        extra=extra,
        fields=column_fields(resource),
    )
    return with_access(record, access(obj(result.get("metadata"))))


def access(metadata: dict[str, Any]) -> Access:
    """A result's access level from the visibility its ``metadata`` carries (if any)."""
    readings: list[Access] = []
    for key in _VISIBLE_FLAGS:
        if key in metadata:
            value = metadata[key]
            level = "public" if value is True else "internal" if value is False else "restricted"
            readings.append((level, None if level == "public" else
                             f"{key} {value!r:.80}: read as {level}"))
    for key in _STATUS_WORDS:
        if key in metadata:
            value = metadata[key]
            level = ("public" if value == "approved" else
                     "internal" if value in ("pending", "rejected") else "restricted")
            readings.append((level, None if level == "public" else
                             f"{key} {value!r:.80}: read as {level}"))
    return combine_access(("public", None), *readings)


def _domain_metadata(entries: Any) -> dict[str, str]:
    """``[{key, value}, ...]`` as an ordered dict; repeated keys keep their first value."""
    found: dict[str, str] = {}
    for entry in dicts(entries):
        key, value = text(entry.get("key")), text(entry.get("value"))
        if key and value and key not in found:
            found[key] = value
    return found


def _agency(resource: dict[str, Any], meta: dict[str, str], domain: str | None) -> str | None:
    if text(resource.get("attribution")):
        return text(resource.get("attribution"))
    for suffix in _AGENCY_SUFFIXES:
        for key, value in meta.items():
            if key.endswith(suffix):
                return value
    return domain


def _frequency(meta: dict[str, str]) -> str | None:
    """The first domain-metadata value whose key names an update frequency."""
    keys = [key for key in meta if "frequen" in key.lower() or "periodicit" in key.lower()]
    preferred = [key for key in keys if "update" in key.lower() or "posting" in key.lower()]
    chosen = preferred or keys
    return frequency_word(meta[chosen[0]]) if chosen else None


def column_fields(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """Field records zipped from the parallel ``columns_*`` arrays, robust to gaps and nulls."""
    arrays = {key: resource.get(key) if isinstance(resource.get(key), list) else []
              for key in _COLUMN_ARRAYS}
    count = max((len(values) for values in arrays.values()), default=0)

    def cell(key: str, index: int) -> str | None:
        values = arrays[key]
        return text(values[index]) if index < len(values) else None

    fields: list[dict[str, Any]] = []
    for index in range(count):
        name = cell("columns_field_name", index) or cell("columns_name", index)
        if name is None or name.startswith(":"):
            continue
        raw_type = cell("columns_datatype", index)
        fields.append(
            portal_field(
                len(fields) + 1,
                name,
                label=cell("columns_name", index),
                description=cell("columns_description", index),
                source_type=raw_type,
                data_type=socrata_type(raw_type),
            )
        )
    return fields
