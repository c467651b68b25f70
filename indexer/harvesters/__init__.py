"""Harvesters: one module per kind of live source, each fetching over :mod:`indexer.http`.

Every harvester module exposes ``NAME`` and::

    harvest(url, *, fetcher, options) -> Iterator[HarvestItem]

It yields one :class:`HarvestItem` per dataset (a raw dataset record, see
:mod:`indexer.formats.base`) or per record that could not be read (``error`` set, with the
record's ``identifier`` when known). Every item carries ``total``, the number of datasets the
source announced, when the source says so (for a progress bar).

A problem with the source as a whole (a page that cannot be fetched after retries, a body that
is not JSON, a paging loop) is raised as :class:`indexer.http.FetchError` after the items
already read have been yielded. A run that raised is INCOMPLETE: datasets it did not yield must
not be treated as gone from the source. A per-record error item names a dataset that IS still
in the source but could not be read this time: keep its last good copy.

``options`` is a plain dict (from the source record / ``sources.toml``); each module documents
the keys it reads, and unknown keys are ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from indexer.formats.base import FormatError
from indexer.formats.portal import skipped_record

Parts = TypeVar("Parts")

HARVESTER_MODULES = ("ckan", "socrata", "dcat", "frictionless", "web")


@dataclass
class HarvestItem:
    """One dataset record read from a source, or one record that could not be read."""

    dataset: dict[str, Any] | None = None
    error: str | None = None
    identifier: str | None = None
    total: int | None = None

    @property
    def ok(self) -> bool:
        """True when the item carries a dataset record."""
        return self.dataset is not None


def record_item(
    what: str, identifier: str, total: int | None, build: Callable[[], dict[str, Any]]
) -> HarvestItem:
    """The item for one record: the dataset ``build`` returns, or the error it raised.

    ``what`` names the record in the error ("package", "dataset", "result"): one malformed
    record must not end the run.
    """
    try:
        record = build()
    except Exception as exc:  # any parser failure is this record's error, not the run's
        return record_error(what, identifier, str(exc), total)
    return HarvestItem(dataset=record, identifier=identifier, total=total)


def checked_item(
    what: str, identifier: str, total: int | None, read_parts: Callable[[], Parts],
    build: Callable[[Parts], dict[str, Any]],
) -> HarvestItem:
    """The item for a record whose parts are fetched first (a data dictionary, schemas).

    A part that cannot be read (``read_parts`` raises FormatError) makes the record an error
    item carrying its identifier, so that the caller keeps its last good copy; otherwise the
    item is that of :func:`record_item` for the record ``build`` makes of the parts.
    """
    try:
        parts = read_parts()
    except FormatError as exc:
        return record_error(what, identifier, str(exc), total)
    return record_item(what, identifier, total, lambda: build(parts))


def record_error(what: str, identifier: str, problem: str, total: int | None) -> HarvestItem:
    """The error item of a record still in the source that could not be read this time."""
    return HarvestItem(error=f"{what} {identifier!r}: {problem}", identifier=identifier,
                       total=total)


def skipped_item(what: str, index: int, problem: str, total: int | None,
                 title: str | None = None) -> HarvestItem:
    """The error item for record number ``index``, skipped: ``dataset #3 ('X'): no ...``."""
    return HarvestItem(error=skipped_record(what, index, problem, title), total=total)


def repeated_item(named: str, identifier: str, seen: set[str],
                  total: int | None) -> HarvestItem | None:
    """The error item when ``identifier`` is in ``seen`` (the first record is kept); else None.

    An identifier not seen before is added to ``seen``.
    """
    if identifier in seen:
        return HarvestItem(error=f"{named}: identifier {identifier!r} repeated, the first one "
                                 "is kept", total=total)
    seen.add(identifier)
    return None


def harvester(kind: str) -> ModuleType:
    """The harvester module for a source type (one of :data:`HARVESTER_MODULES`)."""
    if kind not in HARVESTER_MODULES:
        raise ValueError(f"unknown source type {kind!r}; expected one of {HARVESTER_MODULES}")
    from importlib import import_module

    return import_module(f"indexer.harvesters.{kind}")
