"""Background work: harvest, reindex and re-embed jobs, queued on rq or run inline.

Every job is a row of the ``jobs`` table, the record of what ran. Redis only carries the work
to a worker: with ``CATALOG_REDIS_URL`` set, :func:`submit` enqueues
:func:`indexer.jobs.runner.perform` on rq; without it, :func:`submit` calls it at once, in the
caller's process. The code that runs is the same either way.

The modules, from the bottom up (each imports only those above it in this list):

* :mod:`~indexer.jobs.connection` — Redis and the rq queue of a catalog;
* :mod:`~indexer.jobs.records` — reading job rows and ending them;
* :mod:`~indexer.jobs.reaper` — finding the jobs and harvest runs of dead workers;
* :mod:`~indexer.jobs.handlers` — what each kind of job does;
* :mod:`~indexer.jobs.runner` — running one job: attempts, progress, heartbeat, retries;
* :mod:`~indexer.jobs.queue` — submitting, retrying and waiting for jobs;
* :mod:`~indexer.jobs.scheduler` — starting each source's harvest on its cron schedule;
* :mod:`~indexer.jobs.worker` — ``catalog worker``: an rq worker plus the scheduler.

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
  whose worker died (SIGKILL, power loss) is found by :func:`reap`, by the one rule of
  :mod:`indexer.liveness` that also finds abandoned harvest runs. The job is marked
  ``abandoned``, its lock is released, and it can be run again.
* **Redis down.** :func:`submit` raises :class:`JobsUnavailable`. The job row is kept as
  ``failed`` with the reason, and nothing else is affected: search and browsing do not use
  Redis.
"""

from __future__ import annotations

from indexer.jobs.connection import queue_available, queue_for, workers_listening
from indexer.jobs.queue import JobBusy, JobsUnavailable, retry, submit, wait
from indexer.jobs.reaper import reap
from indexer.jobs.records import ACTIVE, KINDS, get_job, recent_jobs
from indexer.jobs.scheduler import Scheduled, schedule_due

__all__ = [
    "ACTIVE", "KINDS", "JobBusy", "JobsUnavailable", "Scheduled", "get_job", "queue_available",
    "queue_for", "reap", "recent_jobs", "retry", "schedule_due", "submit", "wait",
    "workers_listening",
]
