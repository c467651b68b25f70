"""Starting each enabled source's harvest when its cron slot comes, exactly once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from catalog.models import Job, ScheduleClaim, Source, as_utc, utcnow
from catalog.vocabulary import JobKind
from indexer.jobs.queue import JobBusy, JobsUnavailable, submit

log = logging.getLogger(__name__)
CLAIMS_KEPT = timedelta(days=30)


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
            due = as_utc(croniter(source.schedule, now).get_prev(datetime))
        except Exception as exc:
            log.warning("source %s: bad schedule %r: %s", source.name, source.schedule, exc)
            continue
        created = as_utc(source.created_at)
        if due is None or (created is not None and due < created):
            continue
        if not _claim(catalog, source.id, due, now):
            continue  # this slot is someone else's (or done)
        item = Scheduled(source.name, due)
        try:
            item.job = submit(catalog, JobKind.HARVEST, {"source": source.name},
                              actor="scheduler")
            _claim_job(catalog, source.id, due, item.job.id)
        except JobBusy as exc:
            item.note = f"skipped: {exc}"
        except JobsUnavailable as exc:
            item.note = f"not started: {exc}"
            _release(catalog, source.id, due)  # give the slot back for the next pass
        out.append(item)
    _forget_old_claims(catalog, now)
    return out


def _claim(catalog: Any, source_id: int, due: datetime, now: datetime) -> bool:
    try:
        with catalog.transaction() as session:
            session.add(ScheduleClaim(source_id=source_id, due_at=due, claimed_at=now))
            session.flush()
    except IntegrityError:
        return False
    return True


def _release(catalog: Any, source_id: int, due: datetime) -> None:
    with catalog.transaction() as session:
        session.execute(delete(ScheduleClaim).where(
            ScheduleClaim.source_id == source_id, ScheduleClaim.due_at == due))


def _claim_job(catalog: Any, source_id: int, due: datetime, job_id: str) -> None:
    with catalog.transaction() as session:
        session.execute(update(ScheduleClaim).where(
            ScheduleClaim.source_id == source_id, ScheduleClaim.due_at == due)
            .values(job_id=job_id))


def _forget_old_claims(catalog: Any, now: datetime) -> None:
    with catalog.transaction() as session:
        session.execute(delete(ScheduleClaim).where(
            ScheduleClaim.claimed_at < now - CLAIMS_KEPT))
