"""Whether work recorded as running is still alive: the one rule for jobs and harvest runs.

A job (``jobs``) and a harvest run (``harvest_runs``) both record the process doing them
(``worker``, ``host:pid``) and a heartbeat that process writes every HEARTBEAT_SECONDS while
it works. :func:`abandoned_reason` decides, for either, that the work was abandoned: its
process is gone (known on this host), or its heartbeat is older than STALE_AFTER (any host).
The reaper (:mod:`indexer.jobs.reaper`) and the start of a harvest run apply it; pages and
the API use :func:`shown_status` so that they say "abandoned" even before the reaper passed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from catalog.models import as_utc, utcnow

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
STALE_AFTER = timedelta(seconds=90)
RUNNING = "running"
ABANDONED = "abandoned"


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


def abandoned_reason(worker: str | None, heartbeat_at: datetime | None,
                     now: datetime | None = None) -> str | None:
    """Why running work of ``worker`` (last heartbeat ``heartbeat_at``) is abandoned, or None.

    None means it may still be alive: its process exists (or is on another host) and its
    heartbeat is recent (or it never wrote one, as records from before heartbeats).
    """
    if worker and worker != worker_name() and process_gone(worker):
        return f"its worker {worker} is gone"
    beat = as_utc(heartbeat_at)
    if beat is not None and (as_utc(now) or utcnow()) - beat > STALE_AFTER:
        return f"no heartbeat from {worker or 'its worker'} since {beat:%Y-%m-%d %H:%M:%S} UTC"
    return None


def shown_status(status: str | None, worker: str | None,
                 heartbeat_at: datetime | None) -> str | None:
    """The status to show: "abandoned" for running work that the rule finds dead."""
    if status == RUNNING and abandoned_reason(worker, heartbeat_at) is not None:
        return ABANDONED
    return status


class Heartbeat(threading.Thread):
    """Calls ``beat`` every HEARTBEAT_SECONDS until stopped (failures are logged, not raised)."""

    def __init__(self, name: str, beat: Callable[[], None],
                 every: float = HEARTBEAT_SECONDS) -> None:
        super().__init__(name=name, daemon=True)
        self.beat = beat
        self.every = every
        self.stopped = threading.Event()

    def run(self) -> None:
        """Beat until :meth:`stop`."""
        while not self.stopped.wait(self.every):
            try:
                self.beat()
            except Exception:
                log.debug("heartbeat %s not written", self.name, exc_info=True)

    def stop(self) -> None:
        """Stop beating."""
        self.stopped.set()

    def __enter__(self) -> Heartbeat:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
