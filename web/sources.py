"""Sources and their harvest runs, as the visitor may see them: pages and ``/api/v1/sources``.

A source page shows the source, its datasets the visitor may see, and its recent runs. Run
counts are kept per access level, so a visitor is shown only the counts of datasets at the
levels they may see; per-record errors are quoted only when they concern such a dataset (an
error about a record the run could not read at all names no access level and is counted,
not quoted). Like an agency, a source whose datasets are all hidden is not shown at all.
Options whose names look secret are masked.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, render_template, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.models import Dataset, Field, HarvestRun, Source
from catalog.schemas import SourceOutSchema
from catalog.sources import get_source, list_sources, recent_runs, source_as_dict
from web.access import allowed_access
from web.current import db

bp = Blueprint("sources", __name__)
COUNTED = ("created", "updated", "unchanged", "withdrawn", "fields")
RUNS_SHOWN = 20


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


def _counts(session: Session, allowed: tuple[str, ...] | None) -> dict[int, int]:
    query = select(Dataset.source_id, func.count(Dataset.id)).group_by(Dataset.source_id)
    if allowed is not None:
        query = query.where(Dataset.access_level.in_(allowed))
    return {sid: int(n) for sid, n in session.execute(query).all()}


def visible_sources(session: Session, allowed: tuple[str, ...]) -> list[tuple[Source, int]]:
    """Sources the visitor may know of, with how many active datasets they may see."""
    held = _counts(session, None)
    visible = _counts(session, allowed)
    active = dict(session.execute(
        select(Dataset.source_id, func.count(Dataset.id))
        .where(Dataset.access_level.in_(allowed), Dataset.status == "active")
        .group_by(Dataset.source_id)).all())
    return [(s, int(active.get(s.id, 0))) for s in list_sources(session)
            if not held.get(s.id) or visible.get(s.id)]


def source_visible(session: Session, source: Source, allowed: tuple[str, ...]) -> bool:
    """Like an agency: a source whose datasets are all hidden from the visitor is hidden."""
    def count(levels: tuple[str, ...] | None) -> int:
        query = select(func.count(Dataset.id)).where(Dataset.source_id == source.id)
        if levels is not None:
            query = query.where(Dataset.access_level.in_(levels))
        return int(session.scalar(query) or 0)

    return count(None) == 0 or count(allowed) > 0


def visible_source(name: str) -> Source:
    """A source the visitor may know of, else 404."""
    found = get_source(db(), name)
    if found is None or not source_visible(db(), found, allowed_access()):
        abort(404)  # unknown, or every dataset it gave is hidden: do not reveal the source
    return found


def source_data(source: Source, active: int, runs: list[dict[str, Any]] | None) -> dict:
    """A source as plain data for :class:`SourceOutSchema`."""
    data = {**source_as_dict(source), "status": source.status,
            "last_run_at": source.last_run_at, "datasets": active,
            "page": url_for("sources.source", name=source.name, _external=True)}
    if runs is not None:
        data["runs"] = [{
            "id": r["run"].id, "started_at": r["run"].started_at,
            "finished_at": r["run"].finished_at, "seconds": r["took"],
            "status": r["run"].status, "counts": r["counts"],
            "errors": [e["message"] for e in r["errors"]], "hidden_errors": r["hidden_errors"],
        } for r in runs]
    return data


@bp.get("/sources")
def index():  # type: ignore[no-untyped-def]
    """Every source with its last run and how many visible datasets it gave."""
    rows = [(source_as_dict(s), s, n) for s, n in visible_sources(db(), allowed_access())]
    return render_template("sources.html", rows=rows)


def _source_datasets(source: Source) -> list[Any]:
    return list(db().execute(
        select(Dataset, func.count(Field.id))
        .outerjoin(Field, Field.dataset_id == Dataset.id)
        .where(Dataset.source_id == source.id, Dataset.access_level.in_(allowed_access()))
        .group_by(Dataset.id)
        .order_by(Dataset.status, func.lower(Dataset.title))
    ).all())


@bp.get("/sources/<name>")
def source(name: str):  # type: ignore[no-untyped-def]
    """One source: its settings, its visible datasets and its recent harvest runs."""
    found = visible_source(name)
    from web.jobs import job_view, queue_state, visible_jobs

    runs = [visible_run(run, allowed_access()) for run in recent_runs(db(), found, RUNS_SHOWN)]
    source_jobs = [job_view(j) for j in visible_jobs(limit=10, target=f"source:{found.name}")]
    active = any(j["status"] in ("queued", "running", "retrying") for j in source_jobs)
    return render_template("source.html", source=found, info=source_as_dict(found),
                           datasets=_source_datasets(found), runs=runs, jobs=source_jobs,
                           active=active, queue=queue_state() if source_jobs else None)


@bp.get("/api/v1/sources")
def api_index():  # type: ignore[no-untyped-def]
    """Sources as JSON (without their runs)."""
    items = [source_data(s, n, None) for s, n in visible_sources(db(), allowed_access())]
    return jsonify({"total": len(items),
                    "sources": SourceOutSchema(many=True, exclude=("runs",)).dump(items)})


@bp.get("/api/v1/sources/<name>")
def api_source(name: str):  # type: ignore[no-untyped-def]
    """A source with its recent runs as JSON."""
    found = visible_source(name)
    active = sum(1 for d, _ in _source_datasets(found) if d.status == "active")
    runs = [visible_run(run, allowed_access()) for run in recent_runs(db(), found, RUNS_SHOWN)]
    return jsonify(SourceOutSchema().dump(source_data(found, active, runs)))
