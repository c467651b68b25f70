"""DCAT-US / Project Open Data ``data.json`` catalogs fetched from a URL.

``harvest(url)`` fetches the ``data.json`` (one request, within the Fetcher's size limit) and
reads it with :mod:`indexer.formats.dcat_json`, the same code that reads saved files: the
catalog shape is recognised by its ``_datasets_of`` and each dataset built by
``dataset_record``. ``total`` is the number of entries in the catalog's ``dataset`` list.

Not yet: following ``describedBy`` data dictionaries (CSV, XLSX, Table Schema); datasets have
zero fields, as when the file is loaded from disk.

Options: none.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from indexer.formats import _portal as p
from indexer.formats import dcat_json
from indexer.http import Fetcher, FetchError
from indexer.sources import HarvestItem, record_item, unnamed_item

NAME = "dcat"


def _catalog_datasets(data: Any) -> list[Any] | None:
    """Adapter over the format module's private shape check (shared, not re-implemented)."""
    return dcat_json._datasets_of(data)


def harvest(url: str, *, fetcher: Fetcher, options: dict[str, Any] | None = None
            ) -> Iterator[HarvestItem]:
    """Yield every dataset of the data.json as a raw dataset record (or a per-record error)."""
    data = fetcher.get_json(url)
    entries = _catalog_datasets(data)
    if entries is None:
        raise FetchError(url, "expected a DCAT-US data.json: a JSON object with a 'dataset' "
                              "list (conformsTo project-open-data or @type dcat:Catalog)")
    catalog = p.obj(data)
    total = len(entries)
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            yield HarvestItem(error=f"dataset #{index}: expected a JSON object, skipped",
                              total=total)
            continue
        identifier = p.text(entry.get("identifier"))
        if identifier is None:
            yield unnamed_item("dataset", index, p.text(entry.get("title")), "'identifier'",
                               total)
            continue
        if identifier in seen:
            yield HarvestItem(error=f"dataset #{index}: identifier {identifier!r} repeated, "
                                    "the first one is kept", total=total)
            continue
        seen.add(identifier)
        yield record_item("dataset", identifier, total,
                          lambda e=entry, i=identifier: dcat_json.dataset_record(i, e, catalog))
