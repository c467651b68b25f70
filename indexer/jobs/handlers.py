"""What each kind of job does: harvest a source, rebuild the index, re-embed everything."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import delete

from catalog.models import EmbeddingCache, Job
from catalog.vocabulary import JobKind
from indexer.harvest import SourceBusy, harvest_source


class TransientJobError(RuntimeError):
    """A failure that may pass by itself; the job is retried when it has attempts left."""

    def __init__(self, message: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result


class PermanentJobError(RuntimeError):
    """A failure that retrying will not fix (a refused run, a bad or busy source)."""

    def __init__(self, message: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result


class Progress(Protocol):
    """What a handler reports its progress to (:class:`indexer.jobs.runner.Progress`)."""

    def update(self, done: int | None = None, total: int | None = None,
               stage: str | None = None) -> None:
        """Note how far the job got."""


def harvest(catalog: Any, job: Job, progress: Progress) -> dict[str, Any]:
    """Harvest the job's source; a failed run raises with the run's summary as result."""
    try:
        report = harvest_source(
            catalog, job.args["source"], actor=job.actor or "job",
            index=bool(job.args.get("index", True)),
            on_progress=lambda done, total: progress.update(done, total),
            on_stage=lambda stage: progress.update(stage=stage))
    except SourceBusy as exc:  # another process is harvesting it (outside the job lock)
        raise PermanentJobError(str(exc)) from None
    summary = report.summary()
    if report.failed:
        error_class = TransientJobError if report.transient else PermanentJobError
        raise error_class(summary["failure"] or "the harvest failed", summary)
    return summary


def reindex(catalog: Any, job: Job, progress: Progress) -> dict[str, Any]:
    """Rebuild the whole search index from the database."""
    started = time.perf_counter()
    embedded = catalog.embedder.texts_embedded
    progress.update(stage="rebuilding")
    count = catalog.reindex(on_progress=lambda done, total: progress.update(done, total))
    return {"documents": count, "seconds": round(time.perf_counter() - started, 3),
            "embedded": catalog.embedder.texts_embedded - embedded}


def reembed(catalog: Any, job: Job, progress: Progress) -> dict[str, Any]:
    """Rebuild with the current model's vectors and drop the cached vectors of other models."""
    result = reindex(catalog, job, progress)
    model = catalog.embedder.name
    with catalog.transaction() as session:
        purged = session.execute(
            delete(EmbeddingCache).where(EmbeddingCache.model != model)).rowcount
    result.update(model=model, purged_vectors=int(purged or 0))
    return result


HANDLERS: dict[str, Callable[[Any, Job, Progress], dict[str, Any]]] = {
    JobKind.HARVEST: harvest, JobKind.REINDEX: reindex, JobKind.REEMBED: reembed,
}
