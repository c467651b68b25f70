"""Running one job: claim it, run its handler with progress and a heartbeat, end or retry it.

:func:`perform` is what rq workers call (by its dotted path, see
:data:`indexer.jobs.connection.PERFORM`) and what inline jobs call directly.
"""

from __future__ import annotations

import logging
import time
import traceback as tb
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from catalog.models import Job, utcnow
from catalog.vocabulary import JobStatus
from indexer.jobs.connection import JOB_TIMEOUT, PERFORM, RESULT_TTL, queue_for
from indexer.jobs.handlers import HANDLERS, PermanentJobError, TransientJobError
from indexer.jobs.records import end_job, get_job
from indexer.liveness import Heartbeat, worker_name

log = logging.getLogger(__name__)
PROGRESS_EVERY = 0.5

_WORKER_CATALOG: Any = None


def worker_catalog() -> Any:
    """The catalog of a worker process, built once (the model is loaded once)."""
    global _WORKER_CATALOG
    if _WORKER_CATALOG is None:
        from catalog.service import Catalog

        _WORKER_CATALOG = Catalog()
    return _WORKER_CATALOG


class Progress:
    """Records a job's progress in the database, at most every PROGRESS_EVERY seconds."""

    def __init__(self, catalog: Any, job: Job,
                 on_progress: Callable[[Job], None] | None) -> None:
        self.catalog = catalog
        self.job = job
        self.on_progress = on_progress
        self._written = 0.0

    def update(self, done: int | None = None, total: int | None = None,
               stage: str | None = None) -> None:
        """Note progress; written now when the stage changed or enough time passed."""
        changed_stage = stage is not None and stage != self.job.stage
        if done is not None:
            self.job.progress_done = done
        if total is not None:
            self.job.progress_total = total
        if stage is not None:
            self.job.stage = stage
        if self.on_progress is not None:
            self.on_progress(self.job)
        now = time.monotonic()
        if changed_stage or now - self._written >= PROGRESS_EVERY:
            self._written = now
            self.flush()

    def flush(self) -> None:
        """Write the progress now."""
        try:
            with self.catalog.transaction() as session:
                session.execute(update(Job).where(Job.id == self.job.id).values(
                    progress_done=self.job.progress_done,
                    progress_total=self.job.progress_total,
                    stage=self.job.stage, heartbeat_at=utcnow()))
        except Exception:  # progress is informative; never fail the job over it
            log.warning("could not record the progress of job %s", self.job.id, exc_info=True)


def _beat(catalog: Any, job_id: str) -> Callable[[], None]:
    def beat() -> None:
        with catalog.transaction() as session:
            session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow()))
    return beat


def perform(job_id: str, catalog: Any = None,
            on_progress: Callable[[Job], None] | None = None) -> dict[str, Any]:
    """Run a job (the function rq workers call). Returns what the job row now says."""
    catalog = catalog or worker_catalog()
    while True:
        job = _start(catalog, job_id)
        if job is None:
            return {"status": "skipped", "reason": "the job is not waiting to run"}
        progress = Progress(catalog, job, on_progress)
        try:
            with Heartbeat(f"heartbeat-{job.id}", _beat(catalog, job.id)):
                result = HANDLERS[job.kind](catalog, job, progress)
        except TransientJobError as exc:
            if job.attempts < job.max_attempts:
                delay = catalog.settings.job_backoff * 4 ** (job.attempts - 1)
                _retrying(catalog, job, str(exc), delay)
                if job.via == "rq":
                    queue_for(catalog).enqueue_in(
                        timedelta(seconds=delay), PERFORM, job.id,
                        job_id=f"{job.id}-r{job.attempts}", job_timeout=JOB_TIMEOUT,
                        result_ttl=RESULT_TTL, failure_ttl=RESULT_TTL)
                    return {"status": JobStatus.RETRYING.value, "in_seconds": delay}
                time.sleep(delay)
                continue
            end_job(catalog, job.id, JobStatus.FAILED, error=str(exc), result=exc.result)
        except PermanentJobError as exc:
            end_job(catalog, job.id, JobStatus.FAILED, error=str(exc), result=exc.result)
        except Exception as exc:
            log.exception("job %s (%s) failed", job.id, job.kind)
            end_job(catalog, job.id, JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}",
                    trace=tb.format_exc())
        except BaseException as exc:  # Ctrl+C, SIGTERM, a worker shutting down mid-job
            end_job(catalog, job.id, JobStatus.FAILED,
                    error=f"interrupted ({type(exc).__name__})", trace=tb.format_exc())
            raise
        else:
            progress.update(done=job.progress_total or job.progress_done, stage="done")
            end_job(catalog, job.id, JobStatus.FINISHED, result=result)
        found = get_job(catalog, job_id)
        return {"status": found.status if found else "missing"}


def _start(catalog: Any, job_id: str) -> Job | None:
    with catalog.transaction() as session:
        job = session.get(Job, job_id)
        if job is None or job.status not in (JobStatus.QUEUED, JobStatus.RETRYING):
            return None
        job.status = JobStatus.RUNNING.value
        job.attempts += 1
        job.started_at = job.started_at or utcnow()
        job.heartbeat_at = utcnow()
        job.worker = worker_name()
        job.stage = "starting"
        session.flush()
        session.expunge(job)
        return job


def _retrying(catalog: Any, job: Job, error: str, delay: float) -> None:
    with catalog.transaction() as session:
        session.execute(update(Job).where(Job.id == job.id).values(
            status=JobStatus.RETRYING.value, error=error, heartbeat_at=None,
            stage=f"attempt {job.attempts} of {job.max_attempts} failed; next in {delay:.0f} s"))
