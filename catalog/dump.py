"""A canonical dump of the catalog's content, for comparing two states of a catalog.

``catalog dump`` writes agencies, sources (their settings), datasets with their fields and
the change history as sorted JSON. Two catalogs hold the same metadata exactly when their
dumps are byte-identical. Bookkeeping that says *when the catalog last tried something*
(harvest runs, a source's last status, when the index last caught up) is left out: a failed
or interrupted run is recorded there by design, and must change nothing else.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog.models import Agency, Change, Dataset, Source
from catalog.sensitivity import as_json, suggestion_map

SKIP_DATASET = {"indexed_at"}
SKIP_SOURCE = {"last_run_at", "status"}


TIME_COLUMNS = {"created_at", "updated_at", "at", "acquired_at"}


def _row(obj: Any, skip: frozenset[str] | set[str] = frozenset(),
         times: bool = True) -> dict[str, Any]:
    out = {}
    for column in obj.__table__.columns:
        if column.key in skip or (not times and column.key in TIME_COLUMNS):
            continue
        value = getattr(obj, column.key)
        out[column.key] = value.isoformat() if isinstance(value, datetime) else value
    return out


def dump(session: Session, *, times: bool = True) -> dict[str, Any]:
    """The catalog's content as plain, deterministically ordered data.

    ``times=False`` leaves out when things happened (created, updated, when a change was
    made), to compare two catalogs that did the same work at different moments.
    """
    datasets = []
    for dataset in session.scalars(
        select(Dataset).order_by(Dataset.id).options(selectinload(Dataset.fields))
    ):
        row = _row(dataset, SKIP_DATASET, times)
        row["fields"] = [_row(f, times=times) for f in sorted(dataset.fields, key=lambda f: f.id)]
        suggested = suggestion_map(session, dataset.id)
        for field in row["fields"]:
            field["sensitivity_suggestion"] = as_json(suggested.get(field["name"]))
        if not times:
            for entity in [row, *row["fields"]]:
                for edit in (entity.get("steward_edits") or {}).values():
                    for key in ("at", "source_changed_at"):
                        edit.pop(key, None)
        datasets.append(row)
    return {
        "agencies": [_row(a, times=times)
                     for a in session.scalars(select(Agency).order_by(Agency.id))],
        "sources": [_row(s, SKIP_SOURCE, times)
                    for s in session.scalars(select(Source).order_by(Source.id))],
        "datasets": datasets,
        "fields_total": sum(len(d["fields"]) for d in datasets),
        "changes": [_row(c, times=times)
                    for c in session.scalars(select(Change).order_by(Change.id))],
    }


def dump_json(session: Session, *, times: bool = True) -> str:
    """:func:`dump` as sorted, indented JSON text."""
    return json.dumps(dump(session, times=times), sort_keys=True, indent=1, ensure_ascii=False,
                      default=str)


__all__ = ["dump", "dump_json"]
