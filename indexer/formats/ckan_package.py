"""CKAN Action API packages: ``package_show`` and ``package_search`` responses.

Accepted shapes (JSON):

* the Action API envelope ``{"help": ..., "success": true, "result": {<package>}}``;
* a bare package object (``name`` plus ``resources``, with CKAN keys such as ``notes``,
  ``owner_org``, ``metadata_modified``, ``num_resources``, ``license_id``);
* ``package_search`` results, enveloped or bare: ``{"result": {"count": n, "results": [...]}}``,
  giving one dataset per package.

Mapping: identifier = package ``name`` (``id`` when the name is missing); ``title``; ``notes`` ->
description; ``organization.title`` -> agency (else the organisation name, else ``author``);
``tags[].name`` -> keywords; ``extras`` -> extra (a frequency-like extra also becomes the update
frequency); ``metadata_modified`` -> last_modified. Access fails closed (:func:`access`):
``private: false`` (or no flag) is public, ``private: true`` or any truthy string or number
(``"true"``, ``1``, ``"yes"``) internal, any other value restricted; an ``accessLevel`` or
``access_level`` extra (as data.gov's CKAN keeps DCAT-US's) is read as DCAT's, and the most
closed of the two wins.

Fields come from DataStore data dictionaries, in the shape ``datastore_search`` /
``datastore_info`` return::

    [{"id": "column name", "type": "text|int4|numeric|timestamp|...",
      "info": {"label": "...", "notes": "...", "type_override": "..."}}, ...]

Such a list is read from, in order: each resource's ``fields``, ``datastore_fields`` or
``datastore_info.fields``, and the package's own ``datastore_fields``. Field name = ``id``,
label = ``info.label``, description = ``info.notes``, source type = ``info.type_override`` or
``type``. The DataStore's own ``_id`` (and ``_full_text``) columns are skipped. When several
resources carry dictionaries, each field's description is prefixed with its resource name.
A package without any dictionary is a dataset with zero fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from indexer.formats import dcat_json
from indexer.formats.base import DOCUMENT_MAX_BYTES, FormatError, ParsedFile
from indexer.formats.portal import (
    JSON_MEDIA_TYPES,
    JSON_SUFFIXES,
    MISSING,
    Access,
    combine_access,
    dicts,
    expect_object,
    first_text,
    frequency_word,
    has_key,
    head_json,
    is_json_object_head,
    key_count,
    load_json,
    obj,
    portal_dataset,
    portal_field,
    private_flag,
    skipped_record,
    string_list,
    text,
    with_access,
)

NAME = "ckan-package"
SUFFIXES = JSON_SUFFIXES
MEDIA_TYPES = JSON_MEDIA_TYPES
MAX_BYTES = DOCUMENT_MAX_BYTES

_CKAN_KEYS = (
    "num_resources", "owner_org", "metadata_modified", "metadata_created", "license_id",
    "num_tags", "maintainer_email", "author_email", "notes", "creator_user_id", "package_id",
)
_SKIPPED_COLUMNS = {"_id", "_full_text"}
_FREQUENCY_KEYS = ("frequen", "accrualperiodicity", "periodicity")
_ACCESS_EXTRAS = ("accessLevel", "access_level")


def detect(path: Path, head: str) -> bool:
    """True for a CKAN package, a package_show envelope or package_search results."""
    whole = head_json(head)
    if whole is not None:
        return bool(_packages_of(whole))
    if not is_json_object_head(head):
        return False
    if has_key(head, "help") and has_key(head, "success") and has_key(head, "result"):
        return has_key(head, "resources", "[") or has_key(head, "count")
    return has_key(head, "resources", "[") and key_count(head, _CKAN_KEYS) >= 2


def _is_package(value: Any) -> bool:
    if not isinstance(value, dict) or not isinstance(value.get("resources"), list):
        return False
    if not (text(value.get("name")) or text(value.get("id"))):
        return False
    return sum(1 for key in _CKAN_KEYS if key in value) >= 1 or "organization" in value


def _packages_of(data: Any) -> list[Any] | None:
    """The package objects of any accepted shape; None when the shape is not CKAN."""
    if not isinstance(data, dict):
        return None
    enveloped = "result" in data and ("help" in data or "success" in data)
    body = data.get("result") if enveloped else data
    if isinstance(body, dict) and isinstance(body.get("results"), list) and "count" in body:
        found = body["results"]
        return found if all(_is_package(item) for item in dicts(found)) else None
    return [body] if _is_package(body) else None


def parse(path: Path) -> ParsedFile:
    """Read a package (or package_search results) into dataset records."""
    data = expect_object(load_json(path), "a JSON object (a CKAN package or API response)")
    if data.get("success") is False:
        error = obj(data.get("error"))
        message = first_text(error.get("message"), error.get("__type")) or "no message"
        raise FormatError(f"the CKAN API response reports failure: {message}")
    packages = _packages_of(data)
    if packages is None:
        raise FormatError(
            "expected a CKAN package (an object with 'name' and 'resources'), a package_show "
            "response {'result': {...}} or package_search results {'result': {'results': [...]}}"
        )
    parsed = ParsedFile(path=path, format=NAME)
    portal = _portal_url(data.get("help"))
    for index, package in enumerate(packages, start=1):
        package = obj(package)
        identifier = first_text(package.get("name"), package.get("id"))
        if identifier is None:
            parsed.errors.append(skipped_record("package", index, "no 'name' or 'id'"))
            continue
        parsed.datasets.append(package_record(identifier, package, portal))
    return parsed


def _portal_url(help_url: Any) -> str | None:
    """``https://host`` of the portal, from the ``help`` URL of an Action API envelope."""
    url = text(help_url)
    if not url or "/api/" not in url:
        return None
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    prefix = parts.path.split("/api/", 1)[0]
    return f"{parts.scheme}://{parts.netloc}{prefix}"


def package_record(identifier: str, package: dict[str, Any], portal: str | None) -> dict[str, Any]:
    """The raw dataset record of one package."""
    organization = obj(package.get("organization"))
    extras = _extras(package.get("extras"))
    resources = dicts(package.get("resources"))
    extra = {
        "ckan_id": text(package.get("id")),
        "portal": portal,
        "source_url": text(package.get("url")),
        "license": first_text(package.get("license_title"), package.get("license_id")),
        "author": text(package.get("author")),
        "maintainer": text(package.get("maintainer")),
        "created": text(package.get("metadata_created")),
        "groups": [g for g in (text(grp.get("title")) or text(grp.get("name"))
                               for grp in dicts(package.get("groups"))) if g],
        "extras": extras,
        "resources": [_resource_summary(resource) for resource in resources],
    }
    record = portal_dataset(
        identifier,
        text(package.get("title")),
        description=text(package.get("notes")),
        agency=first_text(organization.get("title"), organization.get("name"),
                            package.get("author")),
        keywords=_tags(package.get("tags")),
        update_frequency=_frequency(extras),
        last_modified=text(package.get("metadata_modified"), limit=40),
        landing_page=f"{portal}/dataset/{identifier}" if portal else text(package.get("url")),
        extra=extra,
        fields=package_fields(package),
    )
    return with_access(record, access(package))


def access(package: dict[str, Any]) -> Access:
    """A package's access level from ``private`` and any DCAT ``accessLevel`` extra."""
    raw = package.get("extras")
    if isinstance(raw, dict):
        marks = [raw[key] for key in _ACCESS_EXTRAS if key in raw]
    else:
        marks = [entry.get("value") for entry in dicts(raw) if entry.get("key") in _ACCESS_EXTRAS]
    readings = [private_flag(package.get("private", MISSING))]
    readings.extend(dcat_json.access(mark) for mark in marks)
    return combine_access(*readings)


def _extras(value: Any) -> dict[str, Any]:
    """CKAN ``extras`` (a list of ``{key, value}``, or already a dict) as a dict."""
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items() if v not in (None, "")}
    found: dict[str, Any] = {}
    for entry in dicts(value):
        key = text(entry.get("key"))
        if key and entry.get("value") not in (None, "") and key not in found:
            found[key] = entry.get("value")
    return found


def _tags(value: Any) -> list[str]:
    words = []
    for tag in value if isinstance(value, list) else []:
        word = first_text(tag.get("name"), tag.get("display_name")) if isinstance(tag, dict) \
            else text(tag)
        if word:
            words.append(word)
    return string_list(words, split=False)


def _frequency(extras: dict[str, Any]) -> str | None:
    for key, value in extras.items():
        lowered = key.lower()
        if any(marker in lowered for marker in _FREQUENCY_KEYS):
            word = frequency_word(value)
            if word:
                return word
    return None


def _resource_summary(resource: dict[str, Any]) -> dict[str, Any]:
    summary = {
        "id": text(resource.get("id")),
        "name": text(resource.get("name")),
        "format": text(resource.get("format")),
        "url": text(resource.get("url")),
        "datastore_active": resource.get("datastore_active") is True or None,
    }
    return {key: value for key, value in summary.items() if value is not None}


def _dictionaries(package: dict[str, Any]) -> list[tuple[str | None, list[dict[str, Any]]]]:
    """(resource name, data dictionary) pairs found in the package."""
    found: list[tuple[str | None, list[dict[str, Any]]]] = []
    for resource in dicts(package.get("resources")):
        columns = (
            dicts(resource.get("fields"))
            or dicts(resource.get("datastore_fields"))
            or dicts(obj(resource.get("datastore_info")).get("fields"))
        )
        if columns:
            found.append((first_text(resource.get("name"), resource.get("id")), columns))
    if dicts(package.get("datastore_fields")):
        found.append((None, dicts(package.get("datastore_fields"))))
    return found


def package_fields(package: dict[str, Any]) -> list[dict[str, Any]]:
    """Field records from every DataStore data dictionary the package carries."""
    dictionaries = _dictionaries(package)
    several = len(dictionaries) > 1
    fields: list[dict[str, Any]] = []
    for resource_name, columns in dictionaries:
        prefix = f"[{resource_name}] " if several and resource_name else ""
        for column in columns:
            name = text(column.get("id"))
            if name is None or name in _SKIPPED_COLUMNS:
                continue
            info = obj(column.get("info"))
            notes = text(info.get("notes"))
            description = f"{prefix}{notes}" if notes else (prefix.strip() or None)
            fields.append(
                portal_field(
                    len(fields) + 1,
                    name,
                    label=text(info.get("label")),
                    description=description,
                    source_type=first_text(info.get("type_override"), column.get("type")),
                )
            )
    return fields
