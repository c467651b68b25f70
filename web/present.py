"""How catalog objects are shown: display labels, links, and plain dicts for pages and the API.

What a visitor may see is decided in :mod:`web.access`; this module only shapes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import url_for

from catalog.models import Agency, Dataset, Field, HarvestRun, Job, Source
from catalog.search.query import Hit
from catalog.sensitivity import as_json as suggestion_json
from catalog.sensitivity import suggestion_map
from catalog.sources import source_as_dict
from indexer.liveness import shown_status
from web.access import job_counts_visible, may_see_job_errors, run_counts, run_errors
from web.auth import current_account
from web.current import db
from web.urls import external_url

FACET_TITLES = {
    "kind": "Result type",
    "agency": "Agency",
    "data_type": "Data type",
    "sensitivity": "Sensitivity",
    "access_level": "Access level",
}
KIND_LABELS = {"dataset": "Dataset", "field": "Field"}
SENSITIVITY_HELP = {
    "public": "Public data: may be released to anyone.",
    "protected": "Protected data: released only under conditions set by the agency.",
    "personal": "Personal data: about an individual, released only with safeguards.",
    "private": "Private data: may not be released by law or regulation.",
}
ACCESS_HELP = {
    "public": "Metadata anyone can see.",
    "restricted": "Metadata visible to approved users only.",
    "internal": "Metadata visible to agency staff only.",
}


def facet_label(facet: str, value: str, agency_names: dict[str, str] | None = None) -> str:
    """Human-readable label of a facet value."""
    if facet == "agency" and agency_names:
        return agency_names.get(value, value)
    if facet == "kind":
        return KIND_LABELS.get(value, value) + "s"
    return value.replace("_", " ").capitalize()


def safe_href(url: str | None) -> str | None:
    """The URL when it is an absolute http(s) link, else None (no ``javascript:`` links)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url.strip()
    return None


def hit_url(hit: Hit, *, external: bool = False) -> str:
    """Link to the page of a search hit."""
    payload = hit.payload
    link = external_url if external else url_for
    if hit.kind == "field" and payload.get("field_id") is not None:
        return link("browse.field", field_id=payload["field_id"])
    return link("browse.dataset", dataset_id=payload["dataset_id"])


def hit_dict(hit: Hit) -> dict[str, Any]:
    """A hit as plain data for :class:`SearchHitSchema`."""
    data = hit.to_dict()
    data["url"] = hit_url(hit, external=True)
    return data


def shown_actor(actor: str | None) -> str:
    """Who made a change or a decision, as shown: e-mail addresses to signed-in people only
    (``web:ada@example.org`` is ``web: a data steward`` to the public, ``ada@example.org``
    plain ``a data steward``)."""
    if not actor:
        return ""
    if current_account() is not None:
        return actor
    kind, sep, who = actor.partition(":")
    if not sep:
        kind, who = "", actor
    if "@" in who:
        return f"{kind}: a data steward" if kind else "a data steward"
    return actor


def shown_suggestion(row: Any) -> dict[str, Any] | None:
    """A sensitivity suggestion as the API shows it, its decider as :func:`shown_actor`."""
    data = suggestion_json(row)
    if data is not None:
        data["decided_by"] = shown_actor(data["decided_by"]) or None
    return data


def shown_edits(edits: dict[str, Any] | None) -> dict[str, Any] | None:
    """A dataset's or field's steward edits, their authors as :func:`shown_actor` gives them."""
    if not edits:
        return edits
    return {c: {**e, "by": shown_actor(e.get("by"))} if isinstance(e, dict) else e
            for c, e in edits.items()}


def field_dict(field: Field, dataset: Dataset | None = None,
               suggestions: dict[str, Any] | None = None) -> dict[str, Any]:
    """A field as plain data for :class:`FieldOutSchema` (``suggestions``: by field name)."""
    dataset = dataset or field.dataset
    if suggestions is None:
        suggestions = suggestion_map(db(), dataset.id)
    data = {c.key: getattr(field, c.key) for c in Field.__table__.columns}
    data.update(
        sensitivity_suggestion=shown_suggestion(suggestions.get(field.name)),
        dataset_identifier=dataset.identifier,
        agency_slug=dataset.agency.slug,
        value_labels=field.value_labels or [],
        pii=field.pii or [],
        steward_edits=shown_edits(field.steward_edits),
        url=external_url("browse.field", field_id=field.id),
    )
    return data


def dataset_dict(
    dataset: Dataset, *, with_fields: bool = True, field_count: int | None = None
) -> dict[str, Any]:
    """A dataset as plain data for :class:`DatasetOutSchema`."""
    data = {c.key: getattr(dataset, c.key) for c in Dataset.__table__.columns}
    data.update(
        agency=dataset.agency,
        keywords=dataset.keywords or [],
        provenance=dataset.provenance or {},
        source_name=dataset.source.name if dataset.source is not None else None,
        source_identifier=dataset.source_identifier,
        steward_edits=shown_edits(dataset.steward_edits),
        url=external_url("browse.dataset", dataset_id=dataset.id),
    )
    if with_fields:
        suggestions = suggestion_map(db(), dataset.id)
        data["fields_"] = [field_dict(f, dataset, suggestions) for f in dataset.fields]
        data["field_count"] = len(dataset.fields)
    else:
        data["field_count"] = field_count
    return data


def agency_dict(agency: Agency, dataset_count: int, field_count: int) -> dict[str, Any]:
    """An agency as plain data for :class:`AgencyOutSchema`."""
    data = {c.key: getattr(agency, c.key) for c in Agency.__table__.columns}
    data.update(dataset_count=dataset_count, field_count=field_count)
    return data


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    """How long something took, or None when it has not both started and finished."""
    if start and end:
        return (end - start).total_seconds()
    return None


def jsonable(view: dict[str, Any]) -> dict[str, Any]:
    """A view with its dates and times as ISO 8601 text."""
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in view.items()}


def run_view(run: HarvestRun) -> dict[str, Any]:
    """A harvest run with only the counts and errors the visitor may see."""
    errors, hidden = run_errors(run)
    return {"run": run, "status": shown_status(run.status, run.worker, run.heartbeat_at),
            "counts": run_counts(run), "errors": errors, "hidden_errors": hidden,
            "took": seconds_between(run.started_at, run.finished_at)}


def source_data(source: Source, active: int, runs: list[dict[str, Any]] | None) -> dict:
    """A source as plain data for :class:`SourceOutSchema` (with runs from :func:`run_view`)."""
    data = {**source_as_dict(source), "status": source.status,
            "last_run_at": source.last_run_at, "datasets": active,
            "page": external_url("sources.source", name=source.name)}
    if runs is not None:
        data["runs"] = [{
            "id": r["run"].id, "started_at": r["run"].started_at,
            "finished_at": r["run"].finished_at, "seconds": r["took"],
            "status": r["status"], "counts": r["counts"],
            "errors": [e["message"] for e in r["errors"]], "hidden_errors": r["hidden_errors"],
        } for r in runs]
    return data


def job_view(job: Job) -> dict[str, Any]:
    """A job as the pages and the API show it."""
    done, total = (job.progress_done, job.progress_total) if job_counts_visible(job) \
        else (None, None)
    percent = None
    if total:
        percent = min(100, round(100 * (done or 0) / total))
    data = {
        "id": job.id, "kind": job.kind, "source": (job.args or {}).get("source"),
        "status": shown_status(job.status, job.worker, job.heartbeat_at), "stage": job.stage,
        "progress_done": done, "progress_total": total, "percent": percent,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts, "enqueued_at": job.enqueued_at,
        "started_at": job.started_at, "finished_at": job.finished_at,
        "seconds": seconds_between(job.started_at, job.finished_at),
        "via": job.via, "retry_of": job.retry_of,
    }
    if may_see_job_errors():
        data.update(error=job.error, traceback=job.traceback, actor=job.actor,
                    worker=job.worker)
    else:
        data.update(error=None, traceback=None)
    return data
