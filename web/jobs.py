"""Background jobs in the web app: the jobs page, and the actions that enqueue work.

The web app never does the work in a request: "harvest now" and "rebuild index" enqueue a
job (on rq, or in a background thread when no Redis is configured) and redirect at once.
When Redis cannot be reached the app says so and keeps serving search and browsing.

What a visitor sees of a job follows the access rules: jobs of a source whose datasets
are all hidden are not listed; error messages and tracebacks are shown to administrators
only (a traceback can quote any record).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for

from catalog.models import Job
from catalog.sources import get_source
from indexer import jobs
from web.access import allowed_access
from web.admin import admin_action, is_admin, safe_next
from web.current import catalog, db
from web.sources import source_visible, visible_source, visible_sources

bp = Blueprint("jobs", __name__)
SHOWN = 50
UNAVAILABLE = ("Background jobs are unavailable right now: the job queue (Redis) cannot be "
               "reached, so nothing was started. Search and browsing work as usual.")


def queue_state() -> str:
    """"inline" (no Redis configured), "up" or "down"."""
    state = jobs.queue_available(catalog())
    return "inline" if state is None else ("up" if state else "down")


def visible_jobs(limit: int = SHOWN, target: str | None = None) -> list[Job]:
    """Recent jobs the visitor may know of (not those of sources hidden from them)."""
    names = {s.name for s, _ in visible_sources(db(), allowed_access())}
    out = []
    for job in jobs.recent_jobs(catalog(), limit=limit, target=target):
        source = (job.args or {}).get("source")
        if source is None or source in names:
            out.append(job)
    return out


def job_visible(job: Job) -> bool:
    """One job, by the rule of :func:`visible_jobs`."""
    name = (job.args or {}).get("source")
    if name is None:
        return True
    source = get_source(db(), name)
    return source is not None and source_visible(db(), source, allowed_access())


def job_view(job: Job) -> dict[str, Any]:
    """A job as the page and the API show it."""
    took = None
    if job.started_at and job.finished_at:
        took = (job.finished_at - job.started_at).total_seconds()
    percent = None
    if job.progress_total:
        percent = min(100, round(100 * (job.progress_done or 0) / job.progress_total))
    data = {
        "id": job.id, "kind": job.kind, "source": (job.args or {}).get("source"),
        "status": job.status, "stage": job.stage, "progress_done": job.progress_done,
        "progress_total": job.progress_total, "percent": percent, "attempts": job.attempts,
        "max_attempts": job.max_attempts, "enqueued_at": job.enqueued_at,
        "started_at": job.started_at, "finished_at": job.finished_at, "seconds": took,
        "via": job.via, "retry_of": job.retry_of,
    }
    if is_admin():
        data.update(error=job.error, traceback=job.traceback, actor=job.actor,
                    worker=job.worker)
    else:
        data.update(error=None, traceback=None)
    return data


@bp.get("/jobs")
def index():  # type: ignore[no-untyped-def]
    """Recent jobs with their progress; refreshes itself while some are active."""
    jobs.reap(catalog())
    views = [job_view(j) for j in visible_jobs()]
    active = any(v["status"] in jobs.ACTIVE for v in views)
    return render_template("jobs.html", jobs=views, active=active, queue=queue_state())


@bp.get("/jobs/<job_id>")
def show(job_id: str):  # type: ignore[no-untyped-def]
    """One job."""
    job = jobs.get_job(catalog(), job_id)
    if job is None or not job_visible(job):
        abort(404)
    return render_template("job.html", job=job_view(job),
                           active=job.status in jobs.ACTIVE, queue=queue_state())


@bp.get("/api/v1/jobs")
def api_index():  # type: ignore[no-untyped-def]
    """Recent jobs as JSON."""
    return jsonify({"queue": queue_state(), "jobs": [_json(job_view(j))
                                                     for j in visible_jobs()]})


@bp.get("/api/v1/jobs/<job_id>")
def api_show(job_id: str):  # type: ignore[no-untyped-def]
    """One job as JSON (poll it for progress)."""
    job = jobs.get_job(catalog(), job_id)
    if job is None or not job_visible(job):
        abort(404)
    return jsonify(_json(job_view(job)))


def _json(view: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in view.items()}


def _start(kind: str, args: dict[str, Any], back: str) -> Any:
    try:
        job = jobs.submit(catalog(), kind, args, actor="web:admin", background=True)
    except jobs.JobBusy as exc:
        flash(f"Not started: job {exc.job.id[:8]} ({exc.job.kind}, {exc.job.status}) is "
              "already working on it.", "error")
        return redirect(url_for("jobs.show", job_id=exc.job.id))
    except jobs.JobsUnavailable:
        flash(UNAVAILABLE, "error")
        return redirect(back)
    flash(f"Started: job {job.id[:8]} ({kind}).", "info")
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.post("/sources/<name>/harvest")
@admin_action
def harvest_now(name: str):  # type: ignore[no-untyped-def]
    """Enqueue a harvest of this source."""
    visible_source(name)
    return _start("harvest", {"source": name}, url_for("sources.source", name=name))


@bp.post("/jobs/reindex")
@admin_action
def reindex():  # type: ignore[no-untyped-def]
    """Enqueue a rebuild of the search index."""
    return _start("reindex", {}, url_for("jobs.index"))


@bp.post("/jobs/<job_id>/retry")
@admin_action
def retry(job_id: str):  # type: ignore[no-untyped-def]
    """Run a failed or abandoned job again."""
    back = safe_next(request.form.get("next"))
    try:
        job = jobs.retry(catalog(), job_id, actor="web:admin", background=True)
    except LookupError:
        abort(404)
    except jobs.JobBusy as exc:
        flash(f"Not started: job {exc.job.id[:8]} is already working on it.", "error")
        return redirect(back)
    except jobs.JobsUnavailable:
        flash(UNAVAILABLE, "error")
        return redirect(back)
    flash(f"Started again as job {job.id[:8]}.", "info")
    return redirect(url_for("jobs.show", job_id=job.id))
