"""Socrata view metadata: the JSON a portal serves at ``/api/views/<4x4>.json``.

Accepted shape: a JSON object with ``id`` (a Socrata "4x4" such as ``3k2p-39jp``), ``name`` and a
``columns`` list whose items carry ``fieldName`` (the API name), ``name`` (display label),
``dataTypeName``, ``description`` and ``position``. A JSON array of such objects (as served by
``/api/views.json``) gives one dataset per view.

Mapping: identifier = ``id``; title = ``name``; agency = ``attribution``, else the owner's
``displayName``; keywords = ``tags``; update frequency from a ``metadata.custom_fields`` entry
whose name mentions a frequency; last_modified = the later of ``rowsUpdatedAt`` and
``viewLastModified``. System columns (``fieldName`` starting with ``:``) are skipped; a view
without columns is still a dataset, with zero fields.

Access fails closed (:func:`access`): a view is public only when none of its markers says
otherwise: ``grants`` (absent, or a list with a grant flagged ``public``), ``publicationStage``
(absent or ``published``) and ``approvals`` (absent, or every one ``approved``). No public
grant, ``unpublished`` or an approval pending or rejected make it internal; a marker of another
shape or word makes it restricted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from indexer.formats.base import DOCUMENT_MAX_BYTES, FormatError, ParsedFile
from indexer.formats.portal import (
    FOUR_BY_FOUR,
    JSON_MEDIA_TYPES,
    JSON_SUFFIXES,
    MISSING,
    Access,
    combine_access,
    dicts,
    epoch_to_iso,
    first_text,
    frequency_word,
    has_key,
    head_json,
    html_text,
    key_count,
    load_json,
    obj,
    portal_dataset,
    portal_field,
    skipped_record,
    socrata_type,
    string_list,
    text,
    with_access,
)

NAME = "socrata-view"
SUFFIXES = JSON_SUFFIXES
MEDIA_TYPES = JSON_MEDIA_TYPES
MAX_BYTES = DOCUMENT_MAX_BYTES

_VIEW_MARKERS = ("columns", "viewType", "displayType", "tableId", "viewLastModified", "owner")
_ID_4X4 = re.compile(r'"id"\s*:\s*"[a-z0-9]{4}-[a-z0-9]{4}"')


def detect(path: Path, head: str) -> bool:
    """True for a Socrata view JSON object (or array of them) with a 4x4 ``id``."""
    whole = head_json(head)
    if whole is not None:
        views = whole if isinstance(whole, list) else [whole]
        return bool(views) and all(_looks_like_view(view) for view in views)
    stripped = head.lstrip()
    if not stripped.startswith(("{", "[")) or has_key(head, "results", "["):
        return False
    return _ID_4X4.search(head) is not None and key_count(head, _VIEW_MARKERS) >= 2


def _looks_like_view(view: Any) -> bool:
    if not isinstance(view, dict) or not FOUR_BY_FOUR.match(str(view.get("id", ""))):
        return False
    return "columns" in view or ("viewType" in view and "name" in view)


def parse(path: Path) -> ParsedFile:
    """Read one view (or an array of views) into dataset records."""
    data = load_json(path)
    views = data if isinstance(data, list) else [data]
    result = ParsedFile(path=path, format=NAME)
    for index, view in enumerate(views, start=1):
        if not isinstance(view, dict):
            if len(views) == 1:
                raise FormatError("expected a JSON object with 'id', 'name' and 'columns'")
            result.errors.append(skipped_record("view", index, "expected a JSON object"))
            continue
        identifier = text(view.get("id"))
        if identifier is None:
            if len(views) == 1:
                raise FormatError("expected a Socrata view with an 'id' (4x4) and 'columns'")
            result.errors.append(f"view #{index} ({view.get('name')!r}): no 'id', skipped")
            continue
        if not FOUR_BY_FOUR.match(identifier):
            result.warnings.append(f"view {identifier!r}: id is not a Socrata 4x4")
        result.datasets.append(view_record(identifier, view))
    return result


def view_record(identifier: str, view: dict[str, Any]) -> dict[str, Any]:
    """The raw dataset record of one view object."""
    metadata = obj(view.get("metadata"))
    custom = obj(metadata.get("custom_fields"))
    license_ = obj(view.get("license"))
    extra = {
        "socrata_id": identifier,
        "category": text(view.get("category")),
        "attribution_link": text(view.get("attributionLink")),
        "owner": text(obj(view.get("owner")).get("displayName")),
        "license": text(license_.get("name")) or text(view.get("licenseId")),
        "license_url": text(license_.get("termsLink")),
        "view_type": text(view.get("viewType")),
        "display_type": text(view.get("displayType")),
        "created": epoch_to_iso(view.get("createdAt")),
        "published": epoch_to_iso(view.get("publicationDate")),
        "custom_fields": custom,
    }
    record = portal_dataset(
        identifier,
        text(view.get("name")),
        description=html_text(view.get("description")),
        agency=first_text(view.get("attribution"), obj(view.get("owner")).get("displayName")),
        keywords=string_list(view.get("tags"), split=False),
        update_frequency=custom_frequency(custom),
        last_modified=_last_modified(view),
        extra=extra,
        fields=column_fields(view.get("columns")),
    )
    return with_access(record, access(view))


def custom_frequency(custom: dict[str, Any]) -> str | None:
    """The first custom-metadata value whose section or key names an update frequency."""
    for section, entries in custom.items():
        for key, value in obj(entries).items():
            if "frequen" in f"{section} {key}".lower() and text(value):
                return frequency_word(value)
    return None


def column_fields(columns: Any) -> list[dict[str, Any]]:
    """Field records from a view's ``columns`` in source order, system columns left out."""
    ordered = sorted(
        enumerate(dicts(columns)),
        key=lambda item: (_position(item[1]), item[0]),
    )
    fields: list[dict[str, Any]] = []
    for _, column in ordered:
        name = first_text(column.get("fieldName"), column.get("name"))
        if name is None or name.startswith(":"):
            continue
        fields.append(
            portal_field(
                len(fields) + 1,
                name,
                label=text(column.get("name")),
                description=text(column.get("description")),
                source_type=text(column.get("dataTypeName")),
                data_type=socrata_type(column.get("dataTypeName")),
            )
        )
    return fields


def _position(column: dict[str, Any]) -> float:
    value = column.get("position")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return float("inf")


def _last_modified(view: dict[str, Any]) -> str | None:
    stamps = [
        view.get(key)
        for key in ("rowsUpdatedAt", "viewLastModified")
        if isinstance(view.get(key), (int, float)) and not isinstance(view.get(key), bool)
    ]
    return epoch_to_iso(max(stamps)) if stamps else None


def access(view: dict[str, Any]) -> Access:
    """A view's access level from its grants, publication stage and approvals."""
    return combine_access(
        _grants(view.get("grants", MISSING)),
        _stage(view.get("publicationStage", MISSING)),
        _approvals(view.get("approvals", MISSING)),
    )


def _grants(grants: Any) -> Access:
    """Public when a grant is flagged ``public``; internal when none is; restricted otherwise."""
    if grants is MISSING:
        return "public", None
    if not isinstance(grants, list):
        return "restricted", f"grants {grants!r:.80} is not a list: read as restricted"
    if any(isinstance(grant.get("flags"), list) and "public" in grant["flags"]
           for grant in dicts(grants)):
        return "public", None
    return "internal", "no grant is flagged public: read as internal"


def _stage(stage: Any) -> Access:
    """``published`` is public, ``unpublished`` (a draft) internal, anything else restricted."""
    if stage is MISSING or stage == "published":
        return "public", None
    level = "internal" if stage == "unpublished" else "restricted"
    return level, f"publicationStage {stage!r:.80}: read as {level}"


def _approvals(approvals: Any) -> Access:
    """Public when every approval is ``approved``; pending or rejected ones make it internal."""
    if approvals is MISSING:
        return "public", None
    if not isinstance(approvals, list) or len(dicts(approvals)) != len(approvals):
        return "restricted", f"approvals {approvals!r:.80} is not a list of objects: read as " \
            "restricted"
    states = {approval.get("state") for approval in approvals}
    if states <= {"approved"}:
        return "public", None
    level = "internal" if states <= {"approved", "pending", "rejected"} else "restricted"
    shown = ", ".join(sorted(repr(state) for state in states - {"approved"}))
    return level, f"an approval is {shown}: read as {level}"
