"""DCAT-US / Project Open Data ``data.json`` catalogs.

Accepted shapes: a catalog object with a ``dataset`` list (``conformsTo`` pointing at
project-open-data.cio.gov and/or ``"@type": "dcat:Catalog"``), or the older v1.0 form, a bare
JSON array of dataset objects (each with ``identifier`` plus ``accessLevel`` or ``distribution``).

Mapping per dataset: identifier = ``identifier`` exactly as given (often a URL); ``title``;
``description``; agency = ``publisher.name`` — the most specific organisation, i.e. the publisher
itself; the ``subOrganizationOf`` chain of parents goes to ``extra["publisher_hierarchy"]``, and
only when the publisher has no name of its own is the nearest named parent used; ``keyword`` ->
keywords; ``accrualPeriodicity`` (ISO 8601 ``R/P1M`` ...) -> update frequency in words;
``modified`` -> last_modified; ``accessLevel`` public / restricted public / non-public -> public /
restricted / internal, failing closed (:func:`access`); ``landingPage``. Distributions,
``describedBy``, licence, contact point, bureau/program codes, theme, spatial and temporal
coverage go to ``extra``. DCAT has no field list: datasets have zero fields (an inline
``describedBy`` Table Schema is kept in extra only).

A dataset without an identifier is reported in ``ParsedFile.errors`` (with its index and title)
and the rest of the catalog still loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from indexer.formats.base import DOCUMENT_MAX_BYTES, FormatError, ParsedFile
from indexer.formats.portal import (
    JSON_MEDIA_TYPES,
    JSON_SUFFIXES,
    MISSING,
    Access,
    access_from_words,
    dicts,
    frequency_word,
    has_key,
    head_json,
    key_count,
    load_json,
    obj,
    portal_dataset,
    skipped_record,
    string_list,
    text,
    with_access,
)

NAME = "dcat-json"
SUFFIXES = JSON_SUFFIXES
MEDIA_TYPES = JSON_MEDIA_TYPES
MAX_BYTES = DOCUMENT_MAX_BYTES

#: DCAT-US accessLevel words (as :func:`indexer.formats.portal.access_key` spells them).
ACCESS_WORDS = {"public": "public", "restricted public": "restricted",
                "non public": "internal", "nonpublic": "internal"}
_DATASET_KEYS = ("accessLevel", "distribution", "publisher", "contactPoint", "keyword")
_DISTRIBUTION_KEYS = (
    "title", "description", "downloadURL", "accessURL", "mediaType", "format", "conformsTo",
    "describedBy",
)
_EXTRA_KEYS = {
    "license": "license", "rights": "rights", "bureauCode": "bureau_code",
    "programCode": "program_code", "theme": "theme", "spatial": "spatial",
    "temporal": "temporal", "issued": "issued", "isPartOf": "is_part_of",
    "references": "references", "language": "language", "dataQuality": "data_quality",
    "primaryITInvestmentUII": "primary_it_investment_uii", "systemOfRecords": "system_of_records",
    "describedBy": "described_by", "describedByType": "described_by_type",
    "conformsTo": "conforms_to",
}


def detect(path: Path, head: str) -> bool:
    """True for a data.json catalog (``dataset`` list, POD ``conformsTo`` or ``dcat:Catalog``)."""
    whole = head_json(head)
    if whole is not None:
        return catalog_datasets(whole) is not None
    stripped = head.lstrip()
    if stripped.startswith("["):
        return has_key(head, "identifier") and has_key(head, "accessLevel")
    if not stripped.startswith("{") or not has_key(head, "dataset", "["):
        return False
    lowered = head.lower()
    return (
        "project-open-data" in lowered
        or "dcat:catalog" in lowered
        or key_count(head, _DATASET_KEYS) >= 2
    )


def catalog_datasets(data: Any) -> list[Any] | None:
    """The dataset entries of an accepted shape; None when the shape is not a data.json."""
    if isinstance(data, list):
        items = dicts(data)
        if items and all("identifier" in d and any(k in d for k in _DATASET_KEYS) for d in items):
            return data
        return None
    if not isinstance(data, dict) or not isinstance(data.get("dataset"), list):
        return None
    marker = f"{data.get('conformsTo', '')} {data.get('@type', '')}".lower()
    entries = dicts(data["dataset"])
    if "project-open-data" in marker or "dcat:catalog" in marker:
        return data["dataset"]
    if entries and any(any(key in entry for key in _DATASET_KEYS) for entry in entries):
        return data["dataset"]
    return None


def parse(path: Path) -> ParsedFile:
    """Read every dataset of the catalog; datasets without an identifier become errors."""
    data = load_json(path)
    datasets = catalog_datasets(data)
    if datasets is None:
        raise FormatError(
            "expected a DCAT-US data.json: a JSON object with a 'dataset' list "
            "(conformsTo project-open-data or @type dcat:Catalog)"
        )
    parsed = ParsedFile(path=path, format=NAME)
    catalog = obj(data)
    for index, entry in enumerate(datasets, start=1):
        if not isinstance(entry, dict):
            parsed.errors.append(skipped_record("dataset", index, "expected a JSON object"))
            continue
        identifier = text(entry.get("identifier"))
        if identifier is None:
            parsed.errors.append(skipped_record("dataset", index, "no 'identifier'",
                                                text(entry.get("title"))))
            continue
        parsed.datasets.append(dataset_record(identifier, entry, catalog))
    return parsed


def dataset_record(
    identifier: str, entry: dict[str, Any], catalog: dict[str, Any]
) -> dict[str, Any]:
    """The raw dataset record of one DCAT dataset."""
    agency, hierarchy = publisher_names(entry.get("publisher"))
    contact = obj(entry.get("contactPoint"))
    extra: dict[str, Any] = {
        "catalog": text(catalog.get("@id")),
        "publisher_hierarchy": hierarchy if len(hierarchy) > 1 else None,
        "contact_name": text(contact.get("fn")),
        "contact_email": _mail(contact.get("hasEmail")),
        "distributions": [d for d in map(_distribution, dicts(entry.get("distribution"))) if d],
        "accrual_periodicity": text(entry.get("accrualPeriodicity")),
        "access_level_comment": text(entry.get("rights")),
    }
    for key, name in _EXTRA_KEYS.items():
        value = entry.get(key)
        if value not in (None, "", [], {}):
            extra[name] = value
    record = portal_dataset(
        identifier,
        text(entry.get("title")),
        description=text(entry.get("description")),
        agency=agency,
        keywords=string_list(entry.get("keyword")),
        update_frequency=frequency_word(entry.get("accrualPeriodicity")),
        last_modified=text(entry.get("modified"), limit=40),
        landing_page=text(entry.get("landingPage")),
        extra=extra,
    )
    return with_access(record, access(entry.get("accessLevel", MISSING)))


def publisher_names(publisher: Any) -> tuple[str | None, list[str]]:
    """(agency, chain of names from the publisher up through ``subOrganizationOf``)."""
    chain: list[str] = []
    node = publisher
    depth = 0
    while isinstance(node, dict) and depth < 20:
        name = text(node.get("name"))
        if name:
            chain.append(" ".join(name.split()))
        node = node.get("subOrganizationOf")
        depth += 1
    if isinstance(publisher, str) and text(publisher):
        chain.append(text(publisher) or "")
    return (chain[0] if chain else None), chain


def access(value: Any) -> Access:
    """DCAT-US ``accessLevel`` read as the catalog's access level, failing closed.

    No ``accessLevel`` at all is public (the DCAT-US default); a plain DCAT word maps as
    :data:`ACCESS_WORDS` says (any case, ``_`` or ``-`` for spaces); another word is passed
    through so that validation rejects the dataset naming it. Any other shape (an empty
    string, null, a list such as ``["non-public"]``, an object such as
    ``{"@value": "non-public"}``) is never public: the most closed level of the DCAT words
    inside it, at least restricted, with a note in ``extra["access_note"]``.
    """
    return access_from_words(value, ACCESS_WORDS, "accessLevel")


def access_level(value: Any) -> str:
    """DCAT-US ``accessLevel`` as an access level (:func:`access` without its note)."""
    return access(value)[0]


def _mail(value: Any) -> str | None:
    mail = text(value)
    if mail and mail.lower().startswith("mailto:"):
        mail = mail[len("mailto:"):]
    return mail


def _distribution(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: entry[key] for key in _DISTRIBUTION_KEYS if text(entry.get(key))}
