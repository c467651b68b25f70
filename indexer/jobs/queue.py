"""Submitting jobs (onto rq, or run inline), retrying them, and waiting for them."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from catalog.models import Job, JobLock, utcnow
from catalog.vocabulary import JobKind, JobStatus
from indexer.jobs.connection import JOB_TIMEOUT, PERFORM, RESULT_TTL, queue_for
from indexer.jobs.reaper import reap
from indexer.jobs.records import ACTIVE, KINDS, end_job, get_job, target_of
from indexer.jobs.runner import perform


class JobBusy(RuntimeError):
    """Another job holds the target's lock; ``job`` is that job."""

    def __init__(self, job: Job) -> None:
        what = job.target or job.kind
        super().__init__(f"{what} is busy: job {job.id} ({job.kind}, {job.status}) holds it")
        self.job = job


class JobsUnavailable(RuntimeError):
    """The job queue (Redis) cannot be reached; nothing was started."""


def submit(
    catalog: Any,
    kind: str,
    args: dict[str, Any] | None = None,
    *,
    actor: str,
    max_attempts: int | None = None,
    on_progress: Callable[[Job], None] | None = None,
    retry_of: str | None = None,
    background: bool = False,
) -> Job:
    """Start a job: enqueue it on rq, or run it now when no Redis is configured.

    Raises :class:`JobBusy` when its target is locked by another job, and
    :class:`JobsUnavailable` when Redis cannot take it. Inline, returns the job finished
    (or failed), unless ``background`` (the web app, which must not block): then it runs in
    a thread of this process and the job is returned queued. On rq, returns it queued.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}; expected one of {KINDS}")
    args = dict(args or {})
    via = "rq" if catalog.settings.redis_url else "inline"
    if max_attempts is None:
        max_attempts = 1 + (catalog.settings.job_retries if kind == JobKind.HARVEST else 0)
    reap(catalog)
    job = Job(id=str(uuid.uuid4()), kind=kind, args=args, target=target_of(kind, args),
              status=JobStatus.QUEUED.value, via=via, actor=actor, attempts=0,
              max_attempts=max_attempts, progress_done=0, enqueued_at=utcnow(),
              retry_of=retry_of)
    try:
        with catalog.transaction() as session:
            session.add(job)
            session.flush()
            session.add(JobLock(key=job.target, job_id=job.id, acquired_at=utcnow()))
            session.flush()
    except IntegrityError:
        with catalog.session() as session:
            holder_id = session.scalar(select(JobLock.job_id).where(JobLock.key == job.target))
            holder = session.get(Job, holder_id) if holder_id else None
        if holder is None:  # released in between: try once more
            return submit(catalog, kind, args, actor=actor, max_attempts=max_attempts,
                          on_progress=on_progress, retry_of=retry_of, background=background)
        raise JobBusy(holder) from None
    if via == "inline":
        if background:
            threading.Thread(target=perform, args=(job.id, catalog), daemon=True,
                             name=f"job-{job.id}").start()
            return job
        perform(job.id, catalog=catalog, on_progress=on_progress)
        return get_job(catalog, job.id) or job
    try:
        queue_for(catalog).enqueue_call(
            func=PERFORM, args=(job.id,), job_id=job.id, timeout=JOB_TIMEOUT,
            result_ttl=RESULT_TTL, failure_ttl=RESULT_TTL,
            description=f"{kind} {args.get('source', '')}".strip())
    except Exception as exc:
        reason = f"could not be queued: {type(exc).__name__}: {exc}"
        end_job(catalog, job.id, JobStatus.FAILED, error=reason)
        raise JobsUnavailable(
            f"the job queue is unavailable ({exc}); nothing was started") from exc
    return job


def retry(catalog: Any, job_id: str, *, actor: str, background: bool = False) -> Job:
    """Run a failed or abandoned job again, as a new job that names the old one."""
    old = get_job(catalog, job_id)
    if old is None:
        raise LookupError(f"no job {job_id}")
    if old.status in ACTIVE:
        raise JobBusy(old)
    return submit(catalog, old.kind, old.args, actor=actor, retry_of=old.id,
                  background=background)


def wait(catalog: Any, job_id: str, *, poll: float = 0.5,
         on_progress: Callable[[Job], None] | None = None,
         timeout: float | None = None) -> Job:
    """Poll a job until it finishes, fails or is abandoned; returns its last state."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        job = get_job(catalog, job_id)
        if job is None:
            raise LookupError(f"no job {job_id}")
        if on_progress is not None:
            on_progress(job)
        if job.status not in ACTIVE:
            return job
        if deadline is not None and time.monotonic() > deadline:
            return job
        if job.status == JobStatus.RUNNING:
            reap(catalog)
        time.sleep(poll)
