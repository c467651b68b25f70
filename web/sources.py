"""Sources and their harvest runs, as the public may see them.

A source page shows the source, its datasets the visitor may see, and its recent runs. Run
counts are kept per access level, so a visitor is shown only the counts of datasets at the
levels they may see; per-record errors are shown only when they concern such a dataset (an
error about a record the run could not read at all names no access level and is counted,
not quoted). Options whose names look secret are masked.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template
from sqlalchemy import func, select

from catalog.models import Dataset, Field, HarvestRun
from catalog.sources import get_source, list_sources, recent_runs, source_as_dict
from web.access import allowed_access
from web.current import db

bp = Blueprint("sources", __name__)
COUNTED = ("created", "updated", "unchanged", "withdrawn", "fields")


def visible_run(run: HarvestRun, allowed: tuple[str, ...]) -> dict[str, Any]:
    """A run's counts and errors restricted to what the visitor may see."""
    counts = run.counts or {}
    by_access = counts.get("by_access") or {}
    shown = dict.fromkeys(COUNTED, 0)
    for level in allowed:
        for key in COUNTED:
            shown[key] += int((by_access.get(level) or {}).get(key, 0))
    errors = [e for e in (run.errors or []) if e.get("access") in allowed]
    hidden = len(run.errors or []) - len(errors)
    took = None
    if run.finished_at and run.started_at:
        took = (run.finished_at - run.started_at).total_seconds()
    return {"run": run, "counts": shown, "errors": errors, "hidden_errors": hidden,
            "took": took}


def visible_count(session: Any, source_id: int, allowed: tuple[str, ...]) -> int:
    """How many of a source's datasets (any status) the visitor may see."""
    return int(session.scalar(select(func.count(Dataset.id)).where(
        Dataset.source_id == source_id, Dataset.access_level.in_(allowed))) or 0)


@bp.get("/sources")
def index():  # type: ignore[no-untyped-def]
    """Every source with its last run and how many visible datasets it gave."""
    allowed = allowed_access()
    session = db()
    counts = dict(session.execute(
        select(Dataset.source_id, func.count(Dataset.id))
        .where(Dataset.access_level.in_(allowed), Dataset.status == "active")
        .group_by(Dataset.source_id)).all())
    held = dict(session.execute(
        select(Dataset.source_id, func.count(Dataset.id)).group_by(Dataset.source_id)).all())
    # Like agencies: a source whose datasets are all hidden from the visitor is not shown.
    rows = [(source_as_dict(s), s, counts.get(s.id, 0)) for s in list_sources(session)
            if not held.get(s.id) or visible_count(session, s.id, allowed)]
    return render_template("sources.html", rows=rows)


@bp.get("/sources/<name>")
def source(name: str):  # type: ignore[no-untyped-def]
    """One source: its settings, its visible datasets and its recent harvest runs."""
    allowed = allowed_access()
    session = db()
    found = get_source(session, name)
    if found is None:
        abort(404)
    if session.scalar(select(func.count(Dataset.id)).where(Dataset.source_id == found.id)) \
            and not visible_count(session, found.id, allowed):
        abort(404)  # every dataset it gave is hidden: do not reveal the source
    datasets = session.execute(
        select(Dataset, func.count(Field.id))
        .outerjoin(Field, Field.dataset_id == Dataset.id)
        .where(Dataset.source_id == found.id, Dataset.access_level.in_(allowed))
        .group_by(Dataset.id)
        .order_by(Dataset.status, func.lower(Dataset.title))
    ).all()
    runs = [visible_run(run, allowed) for run in recent_runs(session, found, 20)]
    return render_template("source.html", source=found, info=source_as_dict(found),
                           datasets=datasets, runs=runs)
