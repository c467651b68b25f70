"""``catalog worker``: an rq worker for the catalog's jobs, with the source scheduler beside it.

With Redis (``CATALOG_REDIS_URL``) the worker is an rq ``SimpleWorker``. Jobs run in the
worker's own process, so the embedding model is loaded once, not once per job. It also
runs rq's scheduler, which delivers the retries that jobs schedule with ``enqueue_in``. A
thread runs :func:`indexer.jobs.scheduler.schedule_due` every ``interval`` seconds. Several
workers may run at once: each slot of a schedule is claimed by exactly one of them.

Without Redis, ``catalog worker`` is a single-machine scheduler: the same passes, each due
harvest run inline, one after the other.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from indexer.jobs.connection import queue_for, redis_connection
from indexer.jobs.reaper import reap
from indexer.jobs.runner import worker_catalog
from indexer.jobs.scheduler import schedule_due

log = logging.getLogger(__name__)


def _scheduler_loop(catalog: Any, interval: float, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            reap(catalog)
            for item in schedule_due(catalog):
                log.info("scheduled %s (slot %s): %s", item.source, item.due_at,
                         item.job.id if item.job else item.note)
        except Exception:
            log.exception("scheduler pass failed; trying again in %s s", interval)
        stop.wait(interval)


def run_worker(*, burst: bool = False, scheduler: bool = True, interval: float = 30.0,
               name: str | None = None) -> None:
    """Run an rq worker (and the source scheduler) until stopped; ``burst`` drains and exits."""
    from rq import SimpleWorker

    catalog = worker_catalog()
    catalog.embedder.embed(["load the model before the first job"])
    reap(catalog)
    queue = queue_for(catalog)
    stop = threading.Event()
    if scheduler and not burst:
        threading.Thread(target=_scheduler_loop, args=(catalog, interval, stop),
                         name="catalog-scheduler", daemon=True).start()
    worker = SimpleWorker([queue], connection=redis_connection(catalog.settings.redis_url),
                          name=name)
    try:
        worker.work(burst=burst, with_scheduler=True, logging_level="WARNING")
    finally:
        stop.set()


def run_inline_scheduler(*, interval: float = 30.0, once: bool = False) -> None:
    """Without Redis: run each due harvest inline, pass after pass, until SIGINT/SIGTERM."""
    catalog = worker_catalog()
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    while True:
        reap(catalog)
        for item in schedule_due(catalog):
            status = item.job.status if item.job else item.note
            log.warning("scheduled %s (slot %s): %s", item.source, item.due_at, status)
        if once or stop.wait(interval):
            return
