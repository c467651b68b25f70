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

import contextlib
import logging
import os
import signal
import sys
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


PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent ends


def _child_dies_with(parent: int, catalog: Any) -> None:
    """In a process the worker forks (rq's scheduler): end when the worker ends, even when
    it is killed outright (SIGKILL runs no handler that could stop its children), and
    never touch the worker's database connections. An orphaned scheduler otherwise kept
    the scheduler lock and a database session for as long as it lived, running old code
    after an upgrade."""
    with contextlib.suppress(Exception):  # a child without a pool still works
        catalog.db.dispose(close=False)  # the parent's pooled connections stay the parent's
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the worker ended between the fork and the prctl
        os.kill(os.getpid(), signal.SIGTERM)


def run_worker(*, burst: bool = False, scheduler: bool = True, interval: float = 30.0,
               name: str | None = None) -> None:
    """Run an rq worker (and the source scheduler) until stopped; ``burst`` drains and exits."""
    from rq import SimpleWorker

    catalog = worker_catalog()
    catalog.embedder.embed(["load the model before the first job"])
    parent = os.getpid()
    os.register_at_fork(after_in_child=lambda: _child_dies_with(parent, catalog))
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
