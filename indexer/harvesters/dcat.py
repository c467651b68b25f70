"""DCAT-US / Project Open Data ``data.json`` catalogs fetched from a URL.

``harvest(url)`` fetches the ``data.json`` (one request, within the Fetcher's size limit) and
reads it with :mod:`indexer.formats.dcat_json`, the same code that reads saved files: the
catalog shape is recognised by its ``catalog_datasets`` and each dataset built by
``dataset_record``. ``total`` is the number of entries in the catalog's ``dataset`` list.

A dataset whose ``describedBy`` (a URL; a relative one is resolved against the catalog URL)
is a data dictionary this catalog reads has that dictionary fetched through the Fetcher and its
fields become the dataset's ``fields`` (positions 1..n): the kind is what ``describedByType``
says, else the URL's suffix —

* CSV / TSV (``text/csv``, ``text/tab-separated-values``, ``.csv``, ``.tsv``) and XLSX (the
  spreadsheetml type, ``.xlsx``, ``.xlsm``): written to a temporary file and read with
  :mod:`indexer.formats.dictionary_table`, as a saved dictionary is (a workbook's sheets are
  joined, each field's description starting with its ``[sheet]`` when there are several; a
  layout with column positions makes the dataset a layout);
* a JSON Table Schema (``application/schema+json``, ``application/json``, ``.json``): a JSON
  object with a ``fields`` list, read as a data package's inline schema is
  (:func:`indexer.formats.datapackage.package_fields`: name, title, description, type,
  format, enum). JSON without a ``fields`` list (a JSON Schema with ``properties``, say) is
  not a Table Schema: it has no fields this catalog reads, and the dataset has zero fields.

Any other ``describedBy`` (an HTML page, a PDF) is not followed: the dataset has zero fields,
as when the file is loaded from disk. A dictionary that cannot be fetched (after the
Fetcher's retries) or read (JSON that does not parse, a table without a header row) makes the
dataset an error item carrying its identifier: it is not yielded half-read, without fields that
would look deleted, so the caller keeps its last good copy; the other datasets go on. A
dictionary shared by several datasets is fetched once per run.

Options: ``described_by`` (default True; False reads no dictionary, every dataset has zero
fields).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from indexer.formats import datapackage, dcat_json, dictionary_table
from indexer.formats.base import FormatError
from indexer.formats.portal import obj, text
from indexer.harvesters import HarvestItem, checked_item, repeated_item, skipped_item
from indexer.harvesters.web import ACCEPT, CONTENT_TYPES, parse_bytes, problem, safe_segment
from indexer.http import Fetcher, FetchError

TABLE_FILES = frozenset({".csv", ".tsv", ".xlsx", ".xlsm"})

NAME = "dcat"

SCHEMA = "table-schema"
# describedByType -> how the dictionary is read: a table file suffix, or SCHEMA.
DESCRIBED_BY_TYPES = {
    **{kind: suffix for kind, suffix in CONTENT_TYPES.items() if suffix in TABLE_FILES},
    "application/schema+json": SCHEMA,
    "application/json": SCHEMA,
    "application/vnd.tableschema+json": SCHEMA,
}
DESCRIBED_BY_SUFFIXES = {**{suffix: suffix for suffix in TABLE_FILES}, ".json": SCHEMA}
Dictionary = tuple[list[dict[str, Any]], bool]  # (fields, layout)


def harvest(url: str, *, fetcher: Fetcher, options: dict[str, Any] | None = None
            ) -> Iterator[HarvestItem]:
    """Yield every dataset of the data.json as a raw dataset record (or a per-record error)."""
    options = options or {}
    follow = options.get("described_by", True) not in (False, "false", "no", 0)
    dictionaries: dict[tuple[str, str], Dictionary | Exception] = {}
    data = fetcher.get_json(url)
    entries = dcat_json.catalog_datasets(data)
    if entries is None:
        raise FetchError(url, "expected a DCAT-US data.json: a JSON object with a 'dataset' "
                              "list (conformsTo project-open-data or @type dcat:Catalog)")
    catalog = obj(data)
    total = len(entries)
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            yield skipped_item("dataset", index, "expected a JSON object", total)
            continue
        identifier = text(entry.get("identifier"))
        if identifier is None:
            yield skipped_item("dataset", index, "no 'identifier'", total,
                               text(entry.get("title")))
            continue
        if (repeated := repeated_item(f"dataset #{index}", identifier, seen, total)) is not None:
            yield repeated
            continue
        yield checked_item(
            "dataset", identifier, total,
            partial(_described_by, fetcher, url, entry, dictionaries, follow=follow),
            partial(_record, identifier, entry, catalog),
        )


def _record(identifier: str, entry: dict[str, Any], catalog: dict[str, Any],
            described: Dictionary | None) -> dict[str, Any]:
    """The format module's dataset record, with the fields of its data dictionary if read."""
    record = dcat_json.dataset_record(identifier, entry, catalog)
    if described is not None:
        fields, layout = described
        record["fields"] = copy.deepcopy(fields)
        record["layout"] = record["layout"] or layout
    return record


def described_by_kind(entry: dict[str, Any]) -> str | None:
    """How the entry's ``describedBy`` is read (a table suffix or SCHEMA); None: not followed."""
    declared = (text(entry.get("describedByType")) or "").split(";", 1)[0].strip().lower()
    if declared in DESCRIBED_BY_TYPES:
        return DESCRIBED_BY_TYPES[declared]
    link = text(entry.get("describedBy"))
    if link is None:
        return None
    return DESCRIBED_BY_SUFFIXES.get(Path(urlsplit(link).path).suffix.lower())


def _described_by(fetcher: Fetcher, catalog_url: str, entry: dict[str, Any],
                  cache: dict[tuple[str, str], Dictionary | Exception], *,
                  follow: bool = True) -> Dictionary | None:
    """The fields of the entry's data dictionary; None when it has none this module reads
    (or ``follow`` is false).

    FormatError naming the dictionary URL when it cannot be fetched or read.
    """
    if not follow:
        return None
    link = entry.get("describedBy")
    kind = described_by_kind(entry)
    if not isinstance(link, str) or not link.strip() or kind is None:
        return None
    link = urljoin(catalog_url, link.strip())
    if urlsplit(link).scheme not in ("http", "https"):
        return None
    key = (link, kind)
    if key not in cache:
        try:
            cache[key] = _read_dictionary(fetcher, link, kind)
        except Exception as exc:  # any fetch or parser failure is this dataset's error
            cache[key] = exc
    found = cache[key]
    if isinstance(found, Exception):
        raise FormatError(f"data dictionary (describedBy {link}) not read: "
                          f"{problem(link, found)}")
    return found


def _read_dictionary(fetcher: Fetcher, url: str, kind: str) -> Dictionary:
    """Fetch and parse one dictionary with the format module that reads its kind."""
    if kind == SCHEMA:
        schema = fetcher.get_json(url)
        if not isinstance(schema, dict) or not isinstance(schema.get("fields"), list):
            return [], False  # JSON, but not a Table Schema: no fields to read
        warnings: list[str] = []
        return datapackage.package_fields({"resources": [{"schema": schema}]}, warnings), False
    body = fetcher.get_bytes(url, headers={"Accept": ACCEPT})
    segment = safe_segment(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1], "dictionary")
    name = (Path(segment).stem or "dictionary") + kind
    parsed = parse_bytes(body, name, module=dictionary_table)
    several = len(parsed.datasets) > 1
    fields: list[dict[str, Any]] = []
    for dataset in parsed.datasets:
        sheet = dataset.get("extra", {}).get("sheet")
        for field in dataset["fields"]:
            field = dict(field, position=len(fields) + 1)
            if several and sheet:
                described = field.get("description")
                field["description"] = f"[{sheet}] {described}" if described else f"[{sheet}]"
            fields.append(field)
    return fields, any(dataset.get("layout") for dataset in parsed.datasets)
