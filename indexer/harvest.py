"""Harvest runs: fetch a source, then apply what changed to the catalog in one transaction.

A run has three phases:

1. **Fetch.** The source's harvester (:mod:`indexer.harvesters`) yields one item per dataset.
   Each record is validated with the same schema as a file load; valid ones are spooled to a
   temporary file, per-record problems go to the run's error list and the run goes on.
   Nothing in the catalog is written in this phase, so a run that fails here (the portal is
   down after retries, returns garbage, pages forever) or is killed leaves the catalog
   exactly as it was; only the run's own record says what happened.
2. **Apply**, in ONE database transaction: every spooled record is stored with
   :func:`catalog.store.upsert_dataset`, which skips a dataset whose content hash has not
   changed (not rewritten, not re-embedded, not re-indexed), updates changed ones in place
   with their history, and keeps text that stewards edited (recording the source's new text
   beside it). Datasets of this source that the source no longer lists are marked
   ``withdrawn``, never deleted, and only when the listing was complete: a record the run
   could not read keeps its last good copy, and a source that suddenly lists nothing is
   refused. The run's counts and errors are committed in the same transaction.
3. **Index.** Changed and withdrawn datasets are sent to the search index. When the index is
   down the data is still stored; the next load, harvest or ``catalog reindex`` catches up.

Run records (:class:`catalog.models.HarvestRun`) keep started/finished, status
(``running``, ``complete``, ``failed``, ``abandoned``), counts overall and by access level
(so that pages for the public count only public datasets) and the per-record errors.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from catalog.models import Agency, Dataset, HarvestRun, Source, utcnow
from catalog.redact import mask_url, redact, secrets_in
from catalog.scorecards import take_snapshots
from catalog.service import Catalog
from catalog.sources import SourceError, checked_options, expand_options, get_source
from catalog.store import IdentityConflict, find_or_create_agency, upsert_dataset, withdraw_dataset
from catalog.vocabulary import AccessLevel
from indexer.agencies import UNKNOWN_AGENCY
from indexer.formats.layout import check_layout
from indexer.harvesters import HarvestItem, harvester
from indexer.http import DEFAULT_RUN_SECONDS, Fetcher, FetchError
from indexer.liveness import Heartbeat, abandoned_reason, worker_name
from indexer.load import validate_dataset

log = logging.getLogger(__name__)
ACTIONS = ("created", "updated", "unchanged", "withdrawn")
MAX_STORED_ERRORS = 1000


class SourceBusy(SourceError):
    """Another process is harvesting the same source right now; nothing was started."""


class RunRefused(Exception):
    """The run read the source but applying it would be unsafe; nothing is changed."""


@dataclass
class RunReport:
    """What one harvest run did."""

    source: str
    run_id: int | None = None
    status: str = "running"  # complete | failed
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        (*ACTIONS, "rejected", "errors", "fields"), 0))
    by_access: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failure: str | None = None
    # True when the failure may pass by itself (the source was down, slow or garbled):
    # a queued job retries it later. False for a refused run or a bad source definition.
    transient: bool = False
    seconds: float = 0.0
    embedded: int = 0
    indexed: int = 0
    index_error: str | None = None
    changed_ids: list[int] = field(default_factory=list)
    # The source's credentials (option values, URL passwords): masked in every message the
    # run keeps, so that no record, page or job shows them.
    secrets: set[str] = field(default_factory=set, repr=False)

    def clean(self, text: str | None) -> str | None:
        """``text`` with the source's credentials and URL secrets masked."""
        return redact(text, self.secrets)

    @property
    def failed(self) -> bool:
        """True when the run failed (nothing of it was applied)."""
        return self.status == "failed"

    def summary(self, max_errors: int = 100, max_warnings: int = 50) -> dict[str, Any]:
        """The run as the plain data a job keeps: counts, the first errors and warnings."""
        return {
            "source": self.source, "run_id": self.run_id, "status": self.status,
            "counts": dict(self.counts), "failure": self.clean(self.failure),
            "errors": [e["message"] for e in self.errors[:max_errors]],
            "error_count": self.counts.get("errors", 0),
            "warnings": [self.clean(w) for w in self.warnings[:max_warnings]],
            "embedded": self.embedded, "indexed": self.indexed,
            "seconds": round(self.seconds, 3), "index_error": self.clean(self.index_error),
        }

    def error(self, message: str, identifier: str | None = None,
              access: str | None = None, agency: str | None = None) -> None:
        """Record one per-record error (the run goes on), with the record's level and agency."""
        self.counts["errors"] += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append({"identifier": identifier, "message": self.clean(message),
                                "access": access, "agency": agency})

    def count(self, action: str, access: str, fields: int = 0,
              agency: str | None = None) -> None:
        """Count one dataset's outcome, overall and under its audience key.

        The key is the access level, or ``restricted:<agency slug>`` for a restricted
        dataset, so that a steward is shown the counts of their own agencies' datasets.
        """
        self.counts[action] += 1
        self.counts["fields"] += fields
        key = audience_key(access, agency)
        level = self.by_access.setdefault(key, dict.fromkeys((*ACTIONS, "fields"), 0))
        level[action] += 1
        level["fields"] += fields


def audience_key(access: str, agency: str | None) -> str:
    """Under which key a run counts a dataset: its level, or ``restricted:<agency>``."""
    if access == AccessLevel.RESTRICTED and agency:
        return f"{AccessLevel.RESTRICTED.value}:{agency}"
    return access


def reap_runs(session: Session, *, source_id: int | None = None,
              now: datetime | None = None) -> list[int]:
    """Runs left ``running`` by a dead process become ``abandoned`` (the liveness rule).

    Returns their ids. Nothing of such a run was applied: a run writes the catalog in one
    transaction at its very end.
    """
    now = now or utcnow()
    query = select(HarvestRun).where(HarvestRun.status == "running")
    if source_id is not None:
        query = query.where(HarvestRun.source_id == source_id)
    ids = []
    for run in session.scalars(query):
        reason = abandoned_reason(run.worker, run.heartbeat_at, now)
        if reason is None:
            continue
        run.status = "abandoned"
        run.finished_at = run.finished_at or now
        run.errors = [*(run.errors or []), {
            "identifier": None, "access": "public", "run": True,
            "message": f"abandoned: {reason}; found {now:%Y-%m-%d %H:%M:%S} UTC. Nothing of "
                       "it was applied."}]
        ids.append(run.id)
    return ids


def _claim_source(session: Session, source: Source) -> None:
    """Reap the source's dead runs; SourceBusy when a live one remains."""
    reap_runs(session, source_id=source.id)
    live = session.scalar(select(HarvestRun).where(
        HarvestRun.source_id == source.id, HarvestRun.status == "running").limit(1))
    if live is not None:
        raise SourceBusy(
            f"source {source.name!r} is being harvested already (run {live.id} by "
            f"{live.worker}, started {live.started_at:%Y-%m-%d %H:%M:%S})")


def _beat(catalog: Catalog, run_id: int) -> Callable[[], None]:
    def beat() -> None:
        with catalog.transaction() as session:
            session.execute(update(HarvestRun).where(HarvestRun.id == run_id)
                            .values(heartbeat_at=utcnow()))
    return beat


def harvest_source(
    catalog: Catalog,
    name: str,
    *,
    fetcher: Fetcher | None = None,
    actor: str = "harvest",
    index: bool = True,
    on_progress: Callable[[int, int | None], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> RunReport:
    """Harvest one source by name; see the module docstring for the guarantees.

    ``on_progress(records read, records announced)`` is called while the source is read;
    ``on_stage`` with "fetching", "applying" and "indexing" as the run moves on.
    """
    def stage(name: str) -> None:
        if on_stage is not None:
            on_stage(name)

    started = time.perf_counter()
    embedded_before = catalog.embedder.texts_embedded
    with catalog.transaction() as session:
        source = get_source(session, name)
        if source is None:
            raise SourceError(f"no source named {name!r} (see `catalog source list`)")
        _claim_source(session, source)
        run = HarvestRun(source_id=source.id, status="running", actor=actor,
                         worker=worker_name(), started_at=utcnow(), heartbeat_at=utcnow())
        session.add(run)
        source.status = "running"
        session.flush()
        run_id, source_id = run.id, source.id
        kind, url = source.type, source.location
        options = dict(source.options or {})
        default_agency = source.agency.name if source.agency is not None else None
    report = RunReport(source=name, run_id=run_id)
    own_fetcher = fetcher is None
    heartbeat = Heartbeat(f"harvest-run-{run_id}", _beat(catalog, run_id))
    heartbeat.start()
    try:
        with tempfile.TemporaryFile("w+", encoding="utf-8", prefix="harvest-") as spool:
            try:
                stage("fetching")
                report.secrets = secrets_in(options, url)
                options = expand_options(checked_options(kind, options))
                report.secrets |= secrets_in(options, url)
                fetcher = fetcher or _fetcher_for(options)
                seen = _fetch(kind, url, options, fetcher, spool, report, default_agency,
                              on_progress)
            except Exception as exc:
                report.failure = _describe(exc)
                report.transient = isinstance(exc, FetchError) and exc.transient
            else:
                if report.failure is None:
                    stage("applying")
                    _apply(catalog, source_id, spool, seen, options, report, actor)
    except BaseException:
        # Killed (Ctrl+C, SIGTERM) mid-run: nothing was applied; say so on the run's record.
        report.failure = report.failure or "interrupted"
        _finish_failed(catalog, run_id, source_id, report, started)
        raise
    finally:
        heartbeat.stop()
        if own_fetcher and fetcher is not None:
            fetcher.close()
    if report.failure is not None:
        _finish_failed(catalog, run_id, source_id, report, started)
        return report
    if index:
        stage("indexing")
        _index(catalog, report)
    report.embedded = catalog.embedder.texts_embedded - embedded_before
    report.seconds = time.perf_counter() - started
    return report


def _fetcher_for(options: dict[str, Any]) -> Fetcher:
    settings: dict[str, Any] = {}
    for option, argument, cast in (
        ("timeout", "read_timeout", float), ("retries", "retries", int),
        ("max_bytes", "max_bytes", int), ("max_pages", "max_pages", int),
        ("request_seconds", "request_seconds", float), ("max_seconds", "run_seconds", float),
    ):
        if options.get(option) is not None:
            settings[argument] = cast(options[option])
    settings.setdefault("run_seconds", DEFAULT_RUN_SECONDS)
    return Fetcher(**settings)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, FetchError | SourceError | ValueError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _fetch(
    kind: str, url: str, options: dict[str, Any], fetcher: Fetcher, spool: Any,
    report: RunReport, default_agency: str | None,
    on_progress: Callable[[int, int | None], None] | None,
) -> dict[str, Any]:
    """Read the source into the spool; returns what the listing named (for withdrawal)."""
    module = harvester(kind)
    listed: set[str] = set()
    unidentified = 0
    for done, item in enumerate(module.harvest(url, fetcher=fetcher, options=options),
                                start=1):
        position = done - 1
        if item.identifier is not None:
            listed.add(item.identifier)
        if not item.ok:
            if item.identifier is None:
                unidentified += 1
            report.error(item.error or "unreadable record", item.identifier)
        else:
            _spool_item(item, position, spool, report, default_agency, options, listed)
        if on_progress is not None:
            on_progress(done, item.total)
    return {"listed": listed, "unidentified": unidentified}


def _spool_item(item: HarvestItem, position: int, spool: Any, report: RunReport,
                default_agency: str | None, options: dict[str, Any], listed: set[str]) -> None:
    if isinstance(item.dataset, dict):  # record length, gaps and overlaps, as a load does
        report.warnings.extend(check_layout(item.dataset))
    record, errors = validate_dataset(item.dataset, position)
    access = record.get("access_level") if record else None
    for message in errors:
        report.error(message, item.identifier, access)
    if record is None:
        report.counts["rejected"] += 1
        return
    listed.add(record["identifier"])
    if options.get("force_agency") and default_agency:
        agency, abbreviation = default_agency, None
    else:
        agency = record.get("agency") or default_agency or UNKNOWN_AGENCY
        abbreviation = record.get("agency_abbreviation")
    spool.write(json.dumps({"record": record, "agency": agency, "abbreviation": abbreviation},
                           ensure_ascii=False, default=str))
    spool.write("\n")


def _apply(catalog: Catalog, source_id: int, spool: Any, seen: dict[str, Any],
           options: dict[str, Any], report: RunReport, actor: str) -> None:
    """Store the spooled records and withdrawals, and finish the run, in one transaction."""
    spool.seek(0)
    changed: list[int] = []
    try:
        with catalog.transaction() as session:
            source = session.get(Source, source_id)
            assert source is not None
            provenance = {"source": source.name, "url": mask_url(source.location),
                          "format": source.type}
            for line in spool:
                entry = json.loads(line)
                record = entry["record"]
                agency = find_or_create_agency(session, entry["agency"], entry["abbreviation"])
                try:  # raised before anything of this record is written
                    outcome = upsert_dataset(
                        session, record, agency=agency, fmt=source.type,
                        provenance=provenance, actor=actor, source_id=source_id)
                except IdentityConflict as exc:
                    report.error(str(exc), record["identifier"], record.get("access_level"),
                                 agency.slug)
                    continue
                report.warnings.extend(outcome.warnings)
                report.count(outcome.action, record.get("access_level") or "public",
                             len(record["fields"]), agency=agency.slug)
                if outcome.action != "unchanged":
                    changed.append(outcome.dataset.id)
            changed.extend(_withdraw(session, source, seen, options, report, actor))
            _access_of_errors(session, source_id, report)
            run = session.get(HarvestRun, report.run_id)
            assert run is not None
            report.status = "complete"
            run.status = "complete"
            run.finished_at = utcnow()
            run.counts = {**report.counts, "by_access": report.by_access}
            run.errors = report.errors
            source.status = "complete" if not report.counts["errors"] else "complete with errors"
            source.last_run_at = run.finished_at
            take_snapshots(session, f"harvest:{source.name}")  # the scorecards' trend
    except RunRefused as exc:  # the transaction rolled back: the catalog is as before
        report.failure = str(exc)
        return
    except Exception as exc:
        log.exception("applying the harvest of source #%s failed", source_id)
        report.failure = f"could not be stored: {_describe(exc)}"
        return
    report.changed_ids = changed


def _withdraw(session: Session, source: Source, seen: dict[str, Any], options: dict[str, Any],
              report: RunReport, actor: str) -> list[int]:
    """Mark the source's datasets it no longer lists as withdrawn, when that is certain."""
    held = list(session.scalars(
        select(Dataset).where(Dataset.source_id == source.id, Dataset.status == "active")))
    gone = [d for d in held if d.identifier not in seen["listed"]]
    if not gone:
        return []
    if seen["unidentified"]:
        report.warnings.append(
            f"{seen['unidentified']} record(s) could not be identified, so no dataset was "
            f"marked withdrawn this run ({len(gone)} not listed are kept as they were)")
        return []
    if not seen["listed"] and not options.get("allow_empty"):
        raise RunRefused(f"{source.location}: the source listed no datasets, but the catalog "
                         f"holds {len(held)} from it; nothing was changed (set the option "
                         "allow_empty = true when the source really is empty)")
    for dataset in gone:
        withdraw_dataset(session, dataset, actor=actor,
                         reason=f"no longer listed by source {source.name!r}")
        report.count("withdrawn", dataset.access_level, agency=dataset.agency.slug)
    return [d.id for d in gone]


def _access_of_errors(session: Session, source_id: int, report: RunReport) -> None:
    """Errors about datasets the catalog holds take that dataset's access level."""
    unknown = {e["identifier"] for e in report.errors
               if (e["access"] is None or e.get("agency") is None) and e["identifier"]}
    if not unknown:
        return
    held = {identifier: (level, slug) for identifier, level, slug in session.execute(
        select(Dataset.identifier, Dataset.access_level, Agency.slug).join(Dataset.agency)
        .where(Dataset.source_id == source_id, Dataset.identifier.in_(unknown))).all()}
    for entry in report.errors:
        if entry["identifier"] in held and entry["access"] in (None, held[entry["identifier"]][0]):
            entry["access"], entry["agency"] = held[entry["identifier"]]


def _finish_failed(catalog: Catalog, run_id: int, source_id: int, report: RunReport,
                   started: float) -> None:
    report.status = "failed"
    report.seconds = time.perf_counter() - started
    with catalog.transaction() as session:
        run = session.get(HarvestRun, run_id)
        if run is not None:
            run.status = "failed"
            run.finished_at = utcnow()
            run.counts = {k: v for k, v in report.counts.items()
                          if k in ("errors", "rejected")}
            run.errors = [*report.errors,
                          {"identifier": None, "message": report.clean(report.failure),
                           "access": "public",
                           "run": True}]
        source = session.get(Source, source_id)
        if source is not None:
            source.status = "failed"
            source.last_run_at = utcnow()


def _index(catalog: Catalog, report: RunReport) -> None:
    pending = list(dict.fromkeys([*report.changed_ids, *catalog.pending_index()]))
    if not pending:
        return
    try:
        report.indexed = catalog.index_datasets(pending)
    except Exception as exc:  # the database holds the data; the next run or reindex repairs
        log.exception("updating the search index after a harvest failed")
        report.index_error = f"{type(exc).__name__}: {exc}"

