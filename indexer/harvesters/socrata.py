"""Socrata domains through the Discovery API (``/api/catalog/v1``).

``harvest(url)`` takes the API host (``https://api.us.socrata.com``, or the domain itself,
``https://data.cityofchicago.org``, which serves the same API) and pages through
``/api/catalog/v1?domains=<domain>&only=dataset&limit=<n>&offset=<k>``. Each result becomes a
dataset record through :func:`indexer.formats.socrata_discovery.result_record`, the same code
that reads saved Discovery responses (columns come from the ``columns_*`` arrays).
``resultSetSize`` is the announced total.

Options: ``domain`` (default: the URL's host), ``limit`` (page size, default 100),
``max_pages``, ``app_token`` (sent as ``X-App-Token``).

The Discovery API refuses ``offset + limit`` beyond 10,000; a larger domain fails with the
API's HTTP error rather than silently stopping (the scroll_id form is not implemented yet).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from indexer.formats import socrata_discovery
from indexer.formats.portal import obj, text
from indexer.harvesters import HarvestItem, record_item, skipped_item
from indexer.http import Fetcher, FetchError

NAME = "socrata"
DEFAULT_LIMIT = 100


def harvest(url: str, *, fetcher: Fetcher, options: dict[str, Any] | None = None
            ) -> Iterator[HarvestItem]:
    """Yield every dataset of the domain as a raw dataset record (or a per-record error)."""
    options = options or {}
    base = url.rstrip("/")
    domain = options.get("domain") or urlsplit(base).hostname
    if not domain:
        raise ValueError(f"{url}: no domain to harvest (give options['domain'])")
    endpoint = f"{base}/api/catalog/v1"
    limit = int(options.get("limit") or DEFAULT_LIMIT)
    headers = {"X-App-Token": options["app_token"]} if options.get("app_token") else None
    guard = fetcher.page_guard(endpoint, options.get("max_pages"))
    offset = 0
    seen: set[str] = set()
    while True:
        params = {"domains": domain, "only": "dataset", "limit": limit, "offset": offset}
        data = fetcher.get_json(endpoint, params=params, headers=headers)
        page_url = f"{endpoint}?domains={domain}&only=dataset&limit={limit}&offset={offset}"
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise FetchError(page_url, "expected a Discovery API response with a 'results' list")
        size = data.get("resultSetSize")
        total = size if isinstance(size, int) else None
        if not results:
            return
        guard.check(tuple(_key(result) for result in results))
        for index, result in enumerate(results, start=offset + 1):
            item = _result_item(result, index, total)
            if item.identifier is not None and item.ok:
                if item.identifier in seen:
                    continue
                seen.add(item.identifier)
            yield item
        offset += len(results)
        if total is not None and offset >= total:
            return


def _key(result: Any) -> str:
    resource = obj(result.get("resource")) if isinstance(result, dict) else {}
    return str(resource.get("id") or repr(result)[:200])


def _result_item(result: Any, index: int, total: int | None) -> HarvestItem:
    resource = obj(result.get("resource")) if isinstance(result, dict) else {}
    identifier = text(resource.get("id"))
    if identifier is None:
        return skipped_item("result", index, "no resource.id", total, text(resource.get("name")))
    return record_item("result", identifier, total,
                       lambda: socrata_discovery.result_record(identifier, result))
