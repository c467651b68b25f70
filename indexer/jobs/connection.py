"""Redis and the rq queue of a catalog: connections that fail fast, and who is listening."""

from __future__ import annotations

from typing import Any

from catalog.models import Job

# What rq workers call: the dotted path of indexer.jobs.runner.perform.
PERFORM = "indexer.jobs.runner.perform"
JOB_TIMEOUT = 6 * 3600
RESULT_TTL = 7 * 24 * 3600


def redis_connection(url: str) -> Any:
    """A Redis client with short timeouts, so that a down server fails fast."""
    from redis import Redis

    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)


def queue_for(catalog: Any) -> Any:
    """The rq queue of this catalog."""
    from rq import Queue

    return Queue(catalog.settings.queue_name,
                 connection=redis_connection(catalog.settings.redis_url))


def queue_available(catalog: Any) -> bool | None:
    """True/False whether Redis answers; None when no Redis is configured (inline jobs)."""
    if not catalog.settings.redis_url:
        return None
    try:
        return bool(redis_connection(catalog.settings.redis_url).ping())
    except Exception:
        return False


def workers_listening(catalog: Any) -> int:
    """How many rq workers listen on this catalog's queue (0 when Redis cannot say)."""
    try:
        from rq import Worker

        return len(Worker.all(queue=queue_for(catalog)))
    except Exception:
        return 0


def rq_id(job: Job) -> str:
    """The id of the rq job carrying this attempt of a catalog job."""
    return job.id if job.attempts == 0 else f"{job.id}-r{job.attempts}"


def missing_from_redis(catalog: Any, job: Job) -> bool:
    """True when Redis, reachable, no longer holds the rq job of ``job``."""
    if not catalog.settings.redis_url:
        return False
    try:
        from rq.job import Job as RqJob

        return not RqJob.exists(rq_id(job), connection=redis_connection(
            catalog.settings.redis_url))
    except Exception:  # Redis unreachable: cannot tell, leave it
        return False
