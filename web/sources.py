"""Sources and their harvest runs: the pages, ``/api/v1/sources`` and "harvest now".

A source page shows the source, its datasets the visitor may see, its recent runs and its
jobs. What of a source and its runs a visitor may see is decided in :mod:`web.access`: a
run's counts and quoted errors are those of the datasets at the levels they may see, and,
like an agency, a source whose datasets are all hidden is not shown at all. Options whose
names look secret are masked.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, url_for
from flask.typing import ResponseReturnValue

from catalog.schemas import SourceOutSchema
from catalog.sources import source_as_dict
from web.access import (
    visible_jobs,
    visible_runs,
    visible_source,
    visible_source_datasets,
    visible_sources,
)
from web.auth import admin_required
from web.jobs import any_active, queue_state, start_job
from web.present import job_view, run_view, source_data

bp = Blueprint("sources", __name__)
RUNS_SHOWN = 20
JOBS_SHOWN = 10


@bp.get("/sources")
def index() -> str:
    """Every source with its last run and how many visible datasets it gave."""
    rows = [(source_as_dict(s), s, n) for s, n in visible_sources()]
    return render_template("sources.html", rows=rows)


@bp.get("/sources/<name>")
def source(name: str) -> str:
    """One source: its settings, its visible datasets and its recent harvest runs."""
    found = visible_source(name)
    runs = [run_view(run) for run in visible_runs(found, RUNS_SHOWN)]
    source_jobs = [job_view(j) for j in visible_jobs(JOBS_SHOWN, target=f"source:{found.name}")]
    return render_template("source.html", source=found, info=source_as_dict(found),
                           datasets=visible_source_datasets(found), runs=runs, jobs=source_jobs,
                           active=any_active(source_jobs),
                           queue=queue_state() if source_jobs else None)


@bp.post("/sources/<name>/harvest")
@admin_required
def harvest_now(name: str) -> ResponseReturnValue:
    """Enqueue a harvest of this source."""
    visible_source(name)
    return start_job("harvest", {"source": name}, url_for("sources.source", name=name))


@bp.get("/api/v1/sources")
def api_index() -> Response:
    """Sources as JSON (without their runs)."""
    items = [source_data(s, n, None) for s, n in visible_sources()]
    return jsonify({"total": len(items),
                    "sources": SourceOutSchema(many=True, exclude=("runs",)).dump(items)})


@bp.get("/api/v1/sources/<name>")
def api_source(name: str) -> Response:
    """A source with its recent runs as JSON."""
    found = visible_source(name)
    active = sum(1 for d, _ in visible_source_datasets(found) if d.status == "active")
    runs = [run_view(run) for run in visible_runs(found, RUNS_SHOWN)]
    return jsonify(SourceOutSchema().dump(source_data(found, active, runs)))
