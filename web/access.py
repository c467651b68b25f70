"""Who may see what: the one place where the web pages and the API decide access.

The visitor's :func:`audience` comes from who signed in (:mod:`web.auth`): anonymous
visitors see public metadata only; viewers and intake officers public and internal; a
steward also the restricted datasets of the agencies they steward; an administrator
everything (:func:`catalog.accounts.audience_for`). A dataset outside the audience (and its
fields) never reaches the visitor: not in results, counts, facets or similar-field lists,
and not by direct URL, where it answers 404 so that its existence is not revealed.

Everything else follows from the datasets a visitor may see:

* an agency is shown when it has such a dataset;
* a source is shown when it gave no dataset yet, or one of them is such a dataset;
* a harvest run shows the counts of such datasets, and quotes the errors about them only;
* a job is shown when it concerns no source (an index rebuild) or a source that is shown;
  its error and traceback go to administrators only (a traceback can quote any record).

Each rule asks the visitor two questions: :func:`audience` (what they may see) and
:func:`is_admin`. Editing is decided here too: :func:`may_edit` (a steward of the dataset's
agency, or an administrator).
"""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy.orm import selectinload

from catalog.audience import Audience
from catalog.models import Agency, Dataset, Field, HarvestRun, Job, Source
from catalog.redact import without_quotes
from catalog.sources import (
    dataset_counts_by_source,
    get_source,
    list_sources,
    recent_runs,
    source_dataset_total,
    source_datasets,
)
from catalog.store import (
    agencies_with_counts,
    agency_datasets,
    catalog_counts,
    get_agency,
    get_dataset,
    get_field,
    visible_datasets,
)
from indexer import jobs
from web.auth import current_account, current_audience, is_admin
from web.current import catalog, db

# What a harvest run counts, per access level of the datasets concerned.
RUN_COUNTS = ("created", "updated", "unchanged", "withdrawn", "fields")


def audience() -> Audience:
    """What the current visitor may see."""
    return current_audience()


def may_edit(dataset: Dataset) -> bool:
    """Whether the visitor may edit this dataset (its agency's steward, or an administrator)."""
    account = current_account()
    return account is not None and account.stewards(dataset.agency.slug)


def shows_access_levels() -> bool:
    """Whether the visitor sees more than public metadata (so levels are worth showing)."""
    who = audience()
    return len(who.levels) > 1 or bool(who.restricted_agencies)


def may_see_job_errors() -> bool:
    """Whether the visitor may read jobs' errors and tracebacks (administrators only)."""
    return is_admin()


# ------------------------------------------------------------ agencies, datasets, fields


def visible_totals() -> dict[str, int]:
    """How many agencies, datasets and fields the visitor may see."""
    return catalog_counts(db(), audience())


def visible_agencies() -> list[tuple[Agency, int, int]]:
    """Agencies with datasets the visitor may see, with those datasets' and fields' counts."""
    return agencies_with_counts(db(), audience())


def visible_agency(slug: str) -> tuple[Agency, list[tuple[Dataset, int]]]:
    """An agency with its visible datasets; 404 when it has none the visitor may see."""
    agency = get_agency(db(), slug)
    if agency is None:
        abort(404)
    datasets = agency_datasets(db(), agency, audience())
    if not datasets:
        abort(404)  # an agency with only hidden datasets must not reveal that it exists
    return agency, datasets


def visible_dataset(dataset_id: int) -> Dataset:
    """A dataset the visitor may see, else 404."""
    dataset = get_dataset(db(), dataset_id, audience())
    if dataset is None:
        abort(404)
    return dataset


def visible_dataset_list(*, with_fields: bool = False, withdrawn: bool = False,
                         newest: int | None = None) -> list[Dataset]:
    """Every dataset the visitor may see (active ones unless ``withdrawn``), by id; or the
    ``newest`` so many, most recently changed first.

    For catalog-wide outputs (CKAN actions, data.json, DCAT, sitemap, feeds).
    """
    query = visible_datasets(audience()).options(selectinload(Dataset.agency))
    if with_fields:
        query = query.options(selectinload(Dataset.fields))
    if not withdrawn:
        query = query.where(Dataset.status == "active")
    if newest is not None:
        query = query.order_by(Dataset.updated_at.desc(), Dataset.id.desc()).limit(newest)
    else:
        query = query.order_by(Dataset.id)
    return list(db().scalars(query))


def visible_datasets_by_ids(ids: list[int]) -> list[Dataset]:
    """The datasets among ``ids`` that the visitor may see, with fields, in the given order."""
    if not ids:
        return []
    found = {d.id: d for d in db().scalars(
        visible_datasets(audience()).where(Dataset.id.in_(ids))
        .options(selectinload(Dataset.agency), selectinload(Dataset.fields)))}
    return [found[i] for i in ids if i in found]


def visible_field(field_id: int) -> Field:
    """A field whose dataset the visitor may see, else 404."""
    field = get_field(db(), field_id, audience())
    if field is None:
        abort(404)
    return field


# ------------------------------------------------------------------ sources and runs


def source_visible(source: Source) -> bool:
    """Like an agency: a source whose datasets are all hidden from the visitor is hidden."""
    session = db()
    return (source_dataset_total(session, source) == 0
            or source_dataset_total(session, source, audience()) > 0)


def visible_sources() -> list[tuple[Source, int]]:
    """Sources the visitor may know of, with how many active datasets they may see."""
    session, allowed = db(), audience()
    held = dataset_counts_by_source(session)
    visible = dataset_counts_by_source(session, allowed)
    active = dataset_counts_by_source(session, allowed, status="active")
    return [(s, active.get(s.id, 0)) for s in list_sources(session)
            if not held.get(s.id) or visible.get(s.id)]


def visible_source(name: str) -> Source:
    """A source the visitor may know of, else 404."""
    found = get_source(db(), name)
    if found is None or not source_visible(found):
        abort(404)  # unknown, or every dataset it gave is hidden: do not reveal the source
    return found


def visible_source_datasets(source: Source) -> list[tuple[Dataset, int]]:
    """The source's datasets the visitor may see, with their field counts."""
    return source_datasets(db(), source, audience())


def visible_runs(source: Source, limit: int) -> list[HarvestRun]:
    """A visible source's newest runs (each shown through run_counts and run_errors)."""
    return recent_runs(db(), source, limit)


def run_counts(run: HarvestRun) -> dict[str, int]:
    """A run's counts (created, updated ...) of the datasets the visitor may see."""
    by_access = (run.counts or {}).get("by_access") or {}
    who = audience()
    shown = dict.fromkeys(RUN_COUNTS, 0)
    for group, counts in by_access.items():
        level, _, agency = group.partition(":")
        if who.allows(level, agency or None):
            for key in RUN_COUNTS:
                shown[key] += int((counts or {}).get(key, 0))
    return shown


def run_errors(run: HarvestRun) -> tuple[list[dict[str, Any]], int]:
    """A run's errors about datasets the visitor may see, and how many others it had.

    An error about a record the run could not read at all names no access level: it is
    counted, not quoted.
    """
    who, admin = audience(), is_admin()
    errors = [{**e, "message": e.get("message") if admin else without_quotes(e.get("message"))}
              for e in (run.errors or [])
              if e.get("access") and who.allows(e["access"], e.get("agency"))]
    return errors, len(run.errors or []) - len(errors)


# ---------------------------------------------------------------------------- jobs


def job_visible(job: Job) -> bool:
    """A job of no source, or of a source the visitor may know of."""
    name = (job.args or {}).get("source")
    if name is None:
        return True
    source = get_source(db(), name)
    return source is not None and source_visible(source)


def job_counts_visible(job: Job) -> bool:
    """Whether a job's progress numbers may be shown: they count what the job read, hidden
    datasets too, so only to an administrator or to one who sees all of its source."""
    if is_admin() or audience().sees_everything:
        return True
    name = (job.args or {}).get("source")
    source = get_source(db(), name) if name else None
    if source is None:
        return False  # an index rebuild counts every dataset of the catalog
    return source_dataset_total(db(), source) == source_dataset_total(db(), source, audience())


def visible_jobs(limit: int, target: str | None = None) -> list[Job]:
    """Recent jobs the visitor may know of (not those of sources hidden from them)."""
    names = {s.name for s, _ in visible_sources()}
    out = []
    for job in jobs.recent_jobs(catalog(), limit=limit, target=target):
        source = (job.args or {}).get("source")
        if source is None or source in names:
            out.append(job)
    return out


def visible_job(job_id: str) -> Job:
    """A job (by id, or a unique prefix of it) the visitor may know of, else 404."""
    job = jobs.get_job(catalog(), job_id)
    if job is None or not job_visible(job):
        abort(404)
    return job
