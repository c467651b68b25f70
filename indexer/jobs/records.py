"""Job rows: reading them, and ending one (which releases its lock)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from catalog.models import Job, JobLock, utcnow
from catalog.redact import redact
from catalog.vocabulary import ACTIVE_JOB_STATUSES, JobKind, values

KINDS = values(JobKind)
ACTIVE = ACTIVE_JOB_STATUSES


def target_of(kind: str, args: dict[str, Any]) -> str:
    """The lock a job takes: its source for a harvest, the index for the others."""
    if kind == JobKind.HARVEST:
        return f"source:{args['source']}"
    return "index"


def get_job(catalog: Any, job_id: str) -> Job | None:
    """A job by id (or by a unique prefix of at least 6 characters)."""
    with catalog.session() as session:
        job = session.get(Job, job_id)
        if job is None and len(job_id) >= 6:
            matches = list(session.scalars(select(Job).where(Job.id.like(f"{job_id}%"))
                                           .limit(2)))
            job = matches[0] if len(matches) == 1 else None
        return job


def recent_jobs(catalog: Any, *, limit: int = 50, target: str | None = None,
                statuses: tuple[str, ...] | None = None) -> list[Job]:
    """The newest jobs, optionally of one target or in some statuses."""
    query = select(Job).order_by(Job.enqueued_at.desc()).limit(limit)
    if target is not None:
        query = query.where(Job.target == target)
    if statuses:
        query = query.where(Job.status.in_(statuses))
    with catalog.session() as session:
        return list(session.scalars(query))


def end_job(catalog: Any, job_id: str, status: str, *, error: str | None = None,
            trace: str | None = None, result: dict[str, Any] | None = None) -> None:
    """Record how a job ended and release its lock, in one transaction."""
    with catalog.transaction() as session:
        values_: dict[str, Any] = {"status": status, "finished_at": utcnow(),
                                   "error": redact(error), "traceback": redact(trace)}
        if result is not None:
            values_["result"] = result
        session.execute(update(Job).where(Job.id == job_id).values(**values_))
        session.execute(delete(JobLock).where(JobLock.job_id == job_id))
