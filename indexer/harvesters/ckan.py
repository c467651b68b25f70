"""CKAN portals through ``ckanapi.RemoteCKAN``: packages and their DataStore data dictionaries.

``harvest(url)`` takes the portal's root URL (``https://demo.ckan.org``) and

1. pages through ``package_search`` (``rows``/``start``, sorted by name so that pages are
   stable), optionally filtered to one organisation (``fq=organization:<name>``);
2. for every resource with ``datastore_active`` calls ``datastore_search`` with ``limit=0``,
   which returns no rows but the data dictionary: ``fields`` with ``info`` (label, notes,
   type_override);
3. builds the dataset record with :func:`indexer.formats.ckan_package.package_record`, the same
   code that reads package files, the dictionaries attached as ``resource["datastore_fields"]``.

Every request goes through the Fetcher's guarded session (timeouts, retries, size limit, JSON
checks) and user agent; requests are GETs (``get_only``) so that they can be retried safely.

A package whose data dictionary cannot be fetched is reported as an error item naming the
package and the resource, and is not yielded half-read (its fields would look deleted).

Options: ``organization`` (name or id), ``rows`` (page size, default 100), ``max_pages``,
``api_key`` (sent as CKAN's ``Authorization`` header), ``datastore`` (default True; False skips
the data dictionaries).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import ckanapi
from ckanapi.errors import CKANAPIError, ServerIncompatibleError

from indexer.formats import ckan_package
from indexer.formats.portal import dicts, first_text
from indexer.harvesters import HarvestItem, record_error, record_item, skipped_item
from indexer.http import Fetcher, FetchError

NAME = "ckan"
DEFAULT_ROWS = 100


def harvest(url: str, *, fetcher: Fetcher, options: dict[str, Any] | None = None
            ) -> Iterator[HarvestItem]:
    """Yield every package of the portal as a raw dataset record (or a per-record error)."""
    options = options or {}
    portal = url.rstrip("/")
    rows = int(options.get("rows") or DEFAULT_ROWS)
    remote = ckanapi.RemoteCKAN(
        portal,
        apikey=options.get("api_key"),
        user_agent=fetcher.user_agent,
        get_only=True,
        session=fetcher.session,
    )
    search_url = f"{portal}/api/action/package_search"
    guard = fetcher.page_guard(search_url, options.get("max_pages"))
    query: dict[str, Any] = {"rows": rows, "sort": "name asc"}
    if options.get("organization"):
        query["fq"] = f"organization:{options['organization']}"
    start = 0
    seen: set[str] = set()
    while True:
        result = _call(remote, search_url, "package_search", {**query, "start": start})
        packages = result.get("results") if isinstance(result, dict) else None
        if not isinstance(packages, list):
            raise FetchError(search_url, "package_search result has no 'results' list")
        count = result.get("count")
        total = count if isinstance(count, int) else None
        if not packages:
            return
        guard.check(tuple(_key(package) for package in packages))
        for index, package in enumerate(packages, start=start + 1):
            yield from _package_item(remote, portal, package, index, total, seen,
                                     datastore=options.get("datastore", True))
        start += len(packages)
        if total is not None and start >= total:
            return


def _key(package: Any) -> str:
    if isinstance(package, dict):
        return str(package.get("id") or package.get("name"))
    return repr(package)


def _package_item(
    remote: ckanapi.RemoteCKAN, portal: str, package: Any, index: int, total: int | None,
    seen: set[str], *, datastore: bool,
) -> Iterator[HarvestItem]:
    if not isinstance(package, dict):
        yield skipped_item("package", index, "expected a JSON object", total)
        return
    identifier = first_text(package.get("name"), package.get("id"))
    if identifier is None:
        yield skipped_item("package", index, "no 'name' or 'id'", total)
        return
    if identifier in seen:  # moved between pages while we paged: already yielded
        return
    seen.add(identifier)
    package = copy.deepcopy(package)
    if datastore:
        for resource in dicts(package.get("resources")):
            if resource.get("datastore_active") is not True or not resource.get("id"):
                continue
            try:
                resource["datastore_fields"] = _dictionary(remote, portal, resource["id"])
            except FetchError as exc:
                yield record_error("package", identifier, f"data dictionary of resource "
                                   f"{resource['id']!r} not read: {exc}", total)
                return
    yield record_item("package", identifier, total,
                      lambda: ckan_package.package_record(identifier, package, portal))


def _dictionary(remote: ckanapi.RemoteCKAN, portal: str, resource_id: str) -> list[Any]:
    """The DataStore data dictionary (``fields``) of one resource."""
    url = f"{portal}/api/action/datastore_search?resource_id={resource_id}"
    result = _call(remote, url, "datastore_search",
                   {"resource_id": resource_id, "limit": 0, "include_total": False})
    fields = result.get("fields") if isinstance(result, dict) else None
    if not isinstance(fields, list):
        raise FetchError(url, "datastore_search result has no 'fields' list")
    return fields


def _call(remote: ckanapi.RemoteCKAN, url: str, action: str, data: dict[str, Any]) -> Any:
    """One Action API call; ckanapi's own errors become FetchError naming the URL."""
    try:
        return remote.call_action(action, data)
    except (CKANAPIError, ServerIncompatibleError) as exc:
        raise FetchError(url, f"CKAN {action} failed: {str(exc)[:300]}") from exc
