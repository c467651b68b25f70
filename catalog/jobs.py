"""Background work: harvest, reindex and re-embed jobs, queued on rq or run inline.

Every job is a row of the ``jobs`` table, the record of what ran. Redis only carries the work
to a worker: with ``CATALOG_REDIS_URL`` set, :func:`submit` enqueues :func:`perform` on rq;
without it, :func:`submit` calls :func:`perform` at once, in the caller's process. The code that
runs is the same either way.

Guarantees:

* **One job per target.** A harvest takes the lock of its source (``job_locks``, a primary
  key). Two requests at the same moment cannot both get it; the second is told which job
  holds it (:class:`JobBusy`). The reindex and re-embed jobs share the lock ``index``.
* **Progress.** A job records how far it got (datasets done / total, and its stage) at most
  twice a second, and sends a heartbeat every few seconds while it runs.
* **Retries.** A harvest that fails for a transient reason (the portal was down or garbled)
  is retried with exponential backoff (``job_backoff``, then 4× and 16× that) up to
  ``job_retries`` times. On rq the retry is scheduled with ``enqueue_in``, which needs the
  worker's scheduler (``catalog worker`` runs it). A job that fails for good keeps its
  error and traceback; :func:`retry` starts it again.
* **Crash safety.** The work itself never leaves the catalog half-written: a harvest applies
  everything in one transaction, and a rebuild swaps in a complete index or nothing. A job
  whose worker died (SIGKILL, power loss) is found by :func:`reap`. Either its process is
  gone (on this host), or its heartbeat is older than ``STALE_AFTER``. The job is marked
  ``abandoned``, its lock is released, and it can be run again.
* **Redis down.** :func:`submit` raises :class:`JobsUnavailable`. The job row is kept as
  ``failed`` with the reason, and nothing else is affected: search and browsing do not use
  Redis.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback as tb
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from catalog.models import EmbeddingCache, Job, JobLock, ScheduleClaim, Source, utcnow

log = logging.getLogger(__name__)

KINDS = ("harvest", "reindex", "reembed")
ACTIVE = ("queued", "running", "retrying")
HEARTBEAT_SECONDS = 5.0
STALE_AFTER = timedelta(seconds=90)
PROGRESS_EVERY = 0.5
JOB_TIMEOUT = 6 * 3600
RESULT_TTL = 7 * 24 * 3600


class JobBusy(RuntimeError):
    """Another job holds the target's lock; ``job`` is that job."""

    def __init__(self, job: Job) -> None:
        what = job.target or job.kind
        super().__init__(f"{what} is busy: job {job.id} ({job.kind}, {job.status}) holds it")
        self.job = job


class JobsUnavailable(RuntimeError):
    """The job queue (Redis) cannot be reached; nothing was started."""


class TransientJobError(RuntimeError):
    """A failure that may pass by itself; the job is retried when it has attempts left."""


class PermanentJobError(RuntimeError):
    """A failure that retrying will not fix (a refused run, a bad source)."""


def as_utc(moment: datetime | None) -> datetime | None:
    """A datetime as aware UTC (SQLite hands back naive ones)."""
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def worker_name() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def process_gone(worker: str | None) -> bool:
    """True when ``worker`` names a process on this host that no longer exists."""
    if not worker or ":" not in worker:
        return False
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def target_of(kind: str, args: dict[str, Any]) -> str:
    """The lock a job takes: its source for a harvest, the index for the others."""
    if kind == "harvest":
        return f"source:{args['source']}"
    return "index"


# ------------------------------------------------------------------------------ queue


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


def _rq_id(job: Job) -> str:
    return job.id if job.attempts == 0 else f"{job.id}-r{job.attempts}"


# ----------------------------------------------------------------------------- submit


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
        max_attempts = 1 + (catalog.settings.job_retries if kind == "harvest" else 0)
    reap(catalog)
    job = Job(id=str(uuid.uuid4()), kind=kind, args=args, target=target_of(kind, args),
              status="queued", via=via, actor=actor, attempts=0, max_attempts=max_attempts,
              progress_done=0, enqueued_at=utcnow(), retry_of=retry_of)
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
            func="catalog.jobs.perform", args=(job.id,), job_id=job.id, timeout=JOB_TIMEOUT,
            result_ttl=RESULT_TTL, failure_ttl=RESULT_TTL,
            description=f"{kind} {args.get('source', '')}".strip())
    except Exception as exc:
        reason = f"could not be queued: {type(exc).__name__}: {exc}"
        _end(catalog, job.id, "failed", error=reason)
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


# ---------------------------------------------------------------------------- perform


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


class _Heartbeat(threading.Thread):
    def __init__(self, catalog: Any, job_id: str) -> None:
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.catalog = catalog
        self.job_id = job_id
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(HEARTBEAT_SECONDS):
            try:
                with self.catalog.transaction() as session:
                    session.execute(update(Job).where(Job.id == self.job_id)
                                    .values(heartbeat_at=utcnow()))
            except Exception:
                log.debug("heartbeat of job %s not written", self.job_id, exc_info=True)


def perform(job_id: str, catalog: Any = None,
            on_progress: Callable[[Job], None] | None = None) -> dict[str, Any]:
    """Run a job (the function rq workers call). Returns what the job row now says."""
    catalog = catalog or worker_catalog()
    while True:
        job = _start(catalog, job_id)
        if job is None:
            return {"status": "skipped", "reason": "the job is not waiting to run"}
        progress = Progress(catalog, job, on_progress)
        heartbeat = _Heartbeat(catalog, job.id)
        heartbeat.start()
        try:
            result = HANDLERS[job.kind](catalog, job, progress)
        except TransientJobError as exc:
            if job.attempts < job.max_attempts:
                delay = catalog.settings.job_backoff * 4 ** (job.attempts - 1)
                _retrying(catalog, job, str(exc), delay)
                if job.via == "rq":
                    queue_for(catalog).enqueue_in(
                        timedelta(seconds=delay), "catalog.jobs.perform", job.id,
                        job_id=f"{job.id}-r{job.attempts}", job_timeout=JOB_TIMEOUT,
                        result_ttl=RESULT_TTL, failure_ttl=RESULT_TTL)
                    return {"status": "retrying", "in_seconds": delay}
                time.sleep(delay)
                continue
            _end(catalog, job.id, "failed", error=str(exc), result=getattr(exc, "result", None))
        except PermanentJobError as exc:
            _end(catalog, job.id, "failed", error=str(exc), result=getattr(exc, "result", None))
        except Exception as exc:
            log.exception("job %s (%s) failed", job.id, job.kind)
            _end(catalog, job.id, "failed", error=f"{type(exc).__name__}: {exc}",
                 trace=tb.format_exc())
        except BaseException as exc:  # Ctrl+C, SIGTERM, a worker shutting down mid-job
            _end(catalog, job.id, "failed", error=f"interrupted ({type(exc).__name__})",
                 trace=tb.format_exc())
            raise
        else:
            progress.update(done=job.progress_total or job.progress_done, stage="done")
            _end(catalog, job.id, "finished", result=result)
        finally:
            heartbeat.stopped.set()
        found = get_job(catalog, job_id)
        return {"status": found.status if found else "missing"}


def _start(catalog: Any, job_id: str) -> Job | None:
    with catalog.transaction() as session:
        job = session.get(Job, job_id)
        if job is None or job.status not in ("queued", "retrying"):
            return None
        job.status = "running"
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
            status="retrying", error=error, heartbeat_at=None,
            stage=f"attempt {job.attempts} of {job.max_attempts} failed; next in {delay:.0f} s"))


def _end(catalog: Any, job_id: str, status: str, *, error: str | None = None,
         trace: str | None = None, result: dict[str, Any] | None = None) -> None:
    with catalog.transaction() as session:
        values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "error": error,
                                  "traceback": trace}
        if result is not None:
            values["result"] = result
        session.execute(update(Job).where(Job.id == job_id).values(**values))
        session.execute(delete(JobLock).where(JobLock.job_id == job_id))


# ------------------------------------------------------------------------------- reap


def reap(catalog: Any) -> list[str]:
    """Mark jobs whose worker died as abandoned and release their locks; returns their ids.

    A running job is abandoned when its process is gone (known on this host) or its
    heartbeat is older than STALE_AFTER. A queued or retrying rq job is abandoned when
    Redis, reachable, no longer holds it (Redis was emptied or restarted without data).
    """
    now = utcnow()
    found: list[tuple[str, str]] = []
    with catalog.session() as session:
        jobs = list(session.scalars(select(Job).where(Job.status.in_(ACTIVE))))
    for job in jobs:
        if job.status == "running":
            beat = as_utc(job.heartbeat_at)
            if job.worker != worker_name() and process_gone(job.worker):
                found.append((job.id, f"abandoned: its worker {job.worker} is gone"))
            elif beat is not None and now - beat > STALE_AFTER:
                found.append((job.id, f"abandoned: no heartbeat from {job.worker} since "
                                      f"{beat:%Y-%m-%d %H:%M:%S} UTC"))
        elif job.via == "rq" and as_utc(job.enqueued_at) < now - timedelta(seconds=30):
            missing = _missing_from_redis(catalog, job)
            if missing:
                found.append((job.id, "abandoned: the queue no longer holds it (Redis was "
                                      "emptied or restarted)"))
    for job_id, reason in found:
        log.warning("job %s %s", job_id, reason)
        with catalog.transaction() as session:
            session.execute(update(Job).where(Job.id == job_id, Job.status.in_(ACTIVE))
                            .values(status="abandoned", error=reason, finished_at=now))
            session.execute(delete(JobLock).where(JobLock.job_id == job_id))
    return [job_id for job_id, _ in found]


def _missing_from_redis(catalog: Any, job: Job) -> bool:
    if not catalog.settings.redis_url:
        return False
    try:
        from rq.job import Job as RqJob

        return not RqJob.exists(_rq_id(job), connection=redis_connection(
            catalog.settings.redis_url))
    except Exception:  # Redis unreachable: cannot tell, leave it
        return False


# ------------------------------------------------------------------------------ reads


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
        if job.status == "running":
            reap(catalog)
        time.sleep(poll)


# --------------------------------------------------------------------------- handlers


def _harvest(catalog: Any, job: Job, progress: Progress) -> dict[str, Any]:
    from indexer.harvest import harvest_source

    report = harvest_source(
        catalog, job.args["source"], actor=job.actor or "job",
        index=bool(job.args.get("index", True)),
        on_progress=lambda done, total: progress.update(done, total),
        on_stage=lambda stage: progress.update(stage=stage))
    result = report_dict(report)
    if report.status == "failed":
        error_class = TransientJobError if report.transient else PermanentJobError
        error = error_class(report.failure or "the harvest failed")
        error.result = result  # type: ignore[attr-defined]
        raise error
    return result


def report_dict(report: Any) -> dict[str, Any]:
    """A harvest report as the plain data a job keeps."""
    return {
        "source": report.source, "run_id": report.run_id, "status": report.status,
        "counts": dict(report.counts), "failure": report.failure,
        "errors": [e["message"] for e in report.errors[:100]],
        "error_count": report.counts.get("errors", 0),
        "warnings": report.warnings[:50], "embedded": report.embedded,
        "indexed": report.indexed, "seconds": round(report.seconds, 3),
        "index_error": report.index_error,
    }


def _reindex(catalog: Any, job: Job, progress: Progress) -> dict[str, Any]:
    started = time.perf_counter()
    embedded = catalog.embedder.texts_embedded
    progress.update(stage="rebuilding")
    count = catalog.reindex(on_progress=lambda done, total: progress.update(done, total))
    return {"documents": count, "seconds": round(time.perf_counter() - started, 3),
            "embedded": catalog.embedder.texts_embedded - embedded}


def _reembed(catalog: Any, job: Job, progress: Progress) -> dict[str, Any]:
    """Rebuild with the current model's vectors and drop the cached vectors of other models."""
    result = _reindex(catalog, job, progress)
    model = catalog.embedder.name
    with catalog.transaction() as session:
        purged = session.execute(
            delete(EmbeddingCache).where(EmbeddingCache.model != model)).rowcount
    result.update(model=model, purged_vectors=int(purged or 0))
    return result


HANDLERS: dict[str, Callable[[Any, Job, Progress], dict[str, Any]]] = {
    "harvest": _harvest, "reindex": _reindex, "reembed": _reembed,
}


# -------------------------------------------------------------------------- scheduler


@dataclass
class Scheduled:
    """What one scheduler pass did for one source."""

    source: str
    due_at: datetime
    job: Job | None = None
    note: str | None = None


def schedule_due(catalog: Any, now: datetime | None = None) -> list[Scheduled]:
    """Start the harvest of every enabled source whose cron slot has come.

    Each slot (source, due time) is claimed with a primary-key insert before its job is
    submitted, so two schedulers (two workers) never start the same slot twice. A slot whose
    source is busy is skipped (the running harvest covers it); a source added after its
    last slot waits for the next one.
    """
    from croniter import croniter

    now = as_utc(now) or utcnow()
    out: list[Scheduled] = []
    with catalog.session() as session:
        sources = list(session.scalars(select(Source).where(
            Source.enabled.is_(True), Source.schedule.is_not(None))))
    for source in sources:
        try:
            due = croniter(source.schedule, now).get_prev(datetime)
        except Exception as exc:
            log.warning("source %s: bad schedule %r: %s", source.name, source.schedule, exc)
            continue
        due = as_utc(due)
        created = as_utc(source.created_at)
        if created is not None and due < created:
            continue
        try:
            with catalog.transaction() as session:
                session.add(ScheduleClaim(source_id=source.id, due_at=due, claimed_at=now))
                session.flush()
        except IntegrityError:
            continue  # this slot is someone else's (or done)
        item = Scheduled(source.name, due)
        try:
            item.job = submit(catalog, "harvest", {"source": source.name}, actor="scheduler")
            _claim_job(catalog, source.id, due, item.job.id)
        except JobBusy as exc:
            item.note = f"skipped: {exc}"
        except JobsUnavailable as exc:
            item.note = f"not started: {exc}"
            with catalog.transaction() as session:  # give the slot back for the next pass
                session.execute(delete(ScheduleClaim).where(
                    ScheduleClaim.source_id == source.id, ScheduleClaim.due_at == due))
        out.append(item)
    _forget_old_claims(catalog, now)
    return out


def _claim_job(catalog: Any, source_id: int, due: datetime, job_id: str) -> None:
    with catalog.transaction() as session:
        session.execute(update(ScheduleClaim).where(
            ScheduleClaim.source_id == source_id, ScheduleClaim.due_at == due)
            .values(job_id=job_id))


def _forget_old_claims(catalog: Any, now: datetime) -> None:
    with catalog.transaction() as session:
        session.execute(delete(ScheduleClaim).where(
            ScheduleClaim.claimed_at < now - timedelta(days=30)))

