"""Frictionless Data Packages (``datapackage.json``) fetched from URLs.

``harvest(url)`` fetches the package (one JSON request, within the Fetcher's size limit) and
reads it with :mod:`indexer.formats.datapackage`, the same code that reads saved files: the
package is written to a temporary file named as the URL names it (``<folder>/datapackage.json``
for ``.../<folder>/datapackage.json``), so that a package without a ``name`` gets the identifier
it gets when the file is loaded from disk. One dataset per package.

A resource whose ``schema`` is a string (a Table Schema by reference: a URL, or a path relative
to the package URL) has that schema fetched through the Fetcher and inlined before parsing, so
its fields are read (the format module alone only notes the reference). A schema that cannot be
fetched, or that is not a Table Schema (a JSON object with a ``fields`` list), makes the
package an error item carrying the package's identifier: it is not yielded half-read (its fields
would look deleted). A schema used by several resources or packages is fetched once per run.

``options["packages"]``: a list of package URLs (a folder or catalog of packages), read instead
of ``url``; relative ones are resolved against ``url``. A package that cannot be fetched or is not
a data package is then an error item naming its URL, and the run goes on; the run fails
(:class:`FetchError`) when not one package could be read, or when the single package of ``url``
cannot. Two packages with the same identifier: the first is kept. ``total`` is the number of
packages; every dataset has ``extra["document_url"]``, the package URL.

Options: ``packages``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from indexer.formats import datapackage
from indexer.formats.base import FormatError
from indexer.formats.portal import dicts, first_text, text
from indexer.harvesters import HarvestItem, checked_item, repeated_item
from indexer.harvesters.web import document_name, parse_bytes, problem, safe_segment
from indexer.http import Fetcher, FetchError

NAME = "frictionless"


def harvest(url: str, *, fetcher: Fetcher, options: dict[str, Any] | None = None
            ) -> Iterator[HarvestItem]:
    """Yield the dataset of every package (or a per-package error item)."""
    options = options or {}
    listed = options.get("packages")
    listed = [listed] if isinstance(listed, str) else listed
    urls = [urljoin(url, str(u)) if url else str(u) for u in listed] if listed else [url]
    urls = list(dict.fromkeys(urls))
    total = len(urls)
    schemas: dict[str, dict[str, Any] | Exception] = {}
    seen: set[str] = set()
    failures: list[str] = []
    for package_url in urls:
        try:
            data = _package(fetcher, package_url)
        except FetchError as exc:
            if not listed:
                raise
            failures.append(str(exc))
            yield HarvestItem(error=f"package {package_url}: {problem(package_url, exc)}",
                              total=total)
            continue
        folder, name = _file_name(package_url)
        identifier = text(data.get("name")) or datapackage.fallback_identifier(Path(folder) / name)
        repeated = repeated_item(f"package {package_url}", identifier, seen, total)
        if repeated is not None:
            yield repeated
            continue
        yield checked_item(
            "package", identifier, total,
            partial(_inline_schemas, fetcher, package_url, data, schemas),
            partial(_record, folder=folder, name=name, url=package_url),
        )
    if listed and len(failures) == total:
        raise FetchError(url, f"none of the {total} packages could be read; "
                              f"first: {failures[0]}")


def _package(fetcher: Fetcher, url: str) -> dict[str, Any]:
    """The package JSON; FetchError when it cannot be fetched or is not a data package."""
    data = fetcher.get_json(url)
    if not isinstance(data, dict) or not isinstance(data.get("resources"), list):
        raise FetchError(url, "expected a data package: a JSON object with a 'resources' list")
    return data


def _file_name(url: str) -> tuple[str, str]:
    """(folder, file name) the package is parsed under, from the URL's last two segments."""
    parts = urlsplit(url)
    segments = parts.path.rstrip("/").split("/")
    folder = segments[-2] if len(segments) > 2 else parts.hostname or "package"
    return safe_segment(folder, "package"), document_name(url, "application/json")


def _inline_schemas(fetcher: Fetcher, url: str, data: dict[str, Any],
                    cache: dict[str, dict[str, Any] | Exception]) -> dict[str, Any]:
    """A copy of the package whose schemas by reference are replaced by the fetched schemas.

    FormatError naming the resource and the schema URL when a schema cannot be read.
    """
    if not any(isinstance(r.get("schema"), str) for r in dicts(data["resources"])):
        return data
    data = copy.deepcopy(data)
    for resource in dicts(data["resources"]):
        reference = resource.get("schema")
        if not isinstance(reference, str):
            continue
        schema_url = urljoin(url, reference.strip())
        if schema_url not in cache:
            try:
                cache[schema_url] = _table_schema(fetcher, schema_url)
            except (FetchError, FormatError) as exc:
                cache[schema_url] = exc
        found = cache[schema_url]
        if isinstance(found, Exception):
            label = first_text(resource.get("name"), resource.get("path")) or "a resource"
            raise FormatError(f"schema of {label!r} ({schema_url}) not read: "
                              f"{problem(schema_url, found)}")
        resource["schema"] = copy.deepcopy(found)
    return data


def _table_schema(fetcher: Fetcher, url: str) -> dict[str, Any]:
    schema = fetcher.get_json(url)
    if not isinstance(schema, dict) or not isinstance(schema.get("fields"), list):
        raise FormatError("not a Table Schema: expected a JSON object with a 'fields' list")
    return schema


def _record(data: dict[str, Any], folder: str, name: str, url: str) -> dict[str, Any]:
    """The dataset record of one package, read by the format module from a temporary file."""
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    parsed = parse_bytes(body, name, folder=folder, module=datapackage)
    [record] = parsed.datasets
    record["extra"]["document_url"] = url
    return record
