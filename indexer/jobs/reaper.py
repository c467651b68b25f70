"""Finding the work of dead workers: jobs and harvest runs marked abandoned by one rule.

A running job is abandoned when :func:`indexer.liveness.abandoned_reason` says so (its
process is gone, or its heartbeat is stale); the same rule finds abandoned harvest runs
(:func:`indexer.harvest.reap_runs`), so a run and the job that ran it end up alike. A queued
or retrying rq job is abandoned when Redis, reachable, no longer holds it (Redis was emptied
or restarted without data).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update

from catalog.models import Job, JobLock, as_utc, utcnow
from catalog.vocabulary import JobStatus
from indexer.harvest import reap_runs
from indexer.jobs.connection import missing_from_redis
from indexer.jobs.records import ACTIVE
from indexer.liveness import abandoned_reason

log = logging.getLogger(__name__)
QUEUE_GRACE = timedelta(seconds=30)


def reap(catalog: Any) -> list[str]:
    """Mark jobs (and harvest runs) whose worker died as abandoned; returns the job ids.

    The jobs' locks are released, so that they can be run again.
    """
    now = utcnow()
    found: list[tuple[str, str]] = []
    with catalog.session() as session:
        jobs = list(session.scalars(select(Job).where(Job.status.in_(ACTIVE))))
    for job in jobs:
        if job.status == JobStatus.RUNNING:
            reason = abandoned_reason(job.worker, job.heartbeat_at, now)
            if reason is not None:
                found.append((job.id, f"abandoned: {reason}"))
        elif job.via == "rq" and as_utc(job.enqueued_at) < now - QUEUE_GRACE \
                and missing_from_redis(catalog, job):
            found.append((job.id, "abandoned: the queue no longer holds it (Redis was "
                                  "emptied or restarted)"))
    for job_id, reason in found:
        log.warning("job %s %s", job_id, reason)
        with catalog.transaction() as session:
            session.execute(update(Job).where(Job.id == job_id, Job.status.in_(ACTIVE))
                            .values(status=JobStatus.ABANDONED.value, error=reason,
                                    finished_at=now))
            session.execute(delete(JobLock).where(JobLock.job_id == job_id))
    with catalog.transaction() as session:
        reap_runs(session, now=now)
    return [job_id for job_id, _ in found]
