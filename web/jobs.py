"""Background jobs in the web app: the jobs page, and the actions that enqueue work.

The web app never does the work in a request: "harvest now" (on a source's page, see
:mod:`web.sources`) and "rebuild index" enqueue a job (on rq, or in a background thread when
no Redis is configured) and redirect at once. When Redis cannot be reached the app says so
and keeps serving search and browsing.

Which jobs a visitor sees, and whether they see a job's error, is decided in
:mod:`web.access`.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from indexer import jobs
from web.access import visible_job, visible_jobs
from web.auth import admin_required, safe_next, web_actor
from web.current import catalog
from web.present import job_view, jsonable

bp = Blueprint("jobs", __name__)
SHOWN = 50
UNAVAILABLE = ("Background jobs are unavailable right now: the job queue (Redis) cannot be "
               "reached, so nothing was started. Search and browsing work as usual.")


def queue_state() -> str:
    """"inline" (no Redis configured), "up" or "down"."""
    state = jobs.queue_available(catalog())
    return "inline" if state is None else ("up" if state else "down")


def any_active(views: list[dict[str, Any]]) -> bool:
    """Whether one of these jobs is still queued or running (the page then refreshes)."""
    return any(v["status"] in jobs.ACTIVE for v in views)


def start_job(kind: str, args: dict[str, Any], back: str) -> ResponseReturnValue:
    """Enqueue a job for an administrator, then go to its page (or back, when it cannot start)."""
    try:
        job = jobs.submit(catalog(), kind, args, actor=web_actor(), background=True)
    except jobs.JobBusy as exc:
        flash(f"Not started: job {exc.job.id[:8]} ({exc.job.kind}, {exc.job.status}) is "
              "already working on it.", "error")
        return redirect(url_for("jobs.show", job_id=exc.job.id))
    except jobs.JobsUnavailable:
        flash(UNAVAILABLE, "error")
        return redirect(back)
    flash(f"Started: job {job.id[:8]} ({kind}).", "info")
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.get("/jobs")
def index() -> str:
    """Recent jobs with their progress; refreshes itself while some are active."""
    jobs.reap(catalog())
    views = [job_view(j) for j in visible_jobs(SHOWN)]
    return render_template("jobs.html", jobs=views, active=any_active(views),
                           queue=queue_state())


@bp.get("/jobs/<job_id>")
def show(job_id: str) -> str:
    """One job."""
    job = visible_job(job_id)
    return render_template("job.html", job=job_view(job),
                           active=job.status in jobs.ACTIVE, queue=queue_state())


@bp.get("/api/v1/jobs")
def api_index() -> Response:
    """Recent jobs as JSON."""
    return jsonify({"queue": queue_state(),
                    "jobs": [jsonable(job_view(j)) for j in visible_jobs(SHOWN)]})


@bp.get("/api/v1/jobs/<job_id>")
def api_show(job_id: str) -> Response:
    """One job as JSON (poll it for progress)."""
    return jsonify(jsonable(job_view(visible_job(job_id))))


@bp.post("/jobs/reindex")
@admin_required
def reindex() -> ResponseReturnValue:
    """Enqueue a rebuild of the search index."""
    return start_job("reindex", {}, url_for("jobs.index"))


@bp.post("/jobs/<job_id>/retry")
@admin_required
def retry(job_id: str) -> ResponseReturnValue:
    """Run a failed or abandoned job again."""
    back = safe_next(request.form.get("next"), url_for("jobs.index"))
    try:
        job = jobs.retry(catalog(), job_id, actor=web_actor(), background=True)
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
