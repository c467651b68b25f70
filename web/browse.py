"""Browsing from the database: agencies, datasets and fields (works without the index)."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, render_template

from catalog.models import Agency, Dataset, Field
from catalog.search.query import Hit
from catalog.store import (
    agencies_with_counts,
    agency_datasets,
    dataset_history,
    get_agency,
    get_dataset,
    get_field,
)
from web.access import allowed_access
from web.current import catalog, db
from web.present import ACCESS_HELP, SENSITIVITY_HELP, safe_href

log = logging.getLogger(__name__)
bp = Blueprint("browse", __name__)
SIMILAR_LIMIT = 10


def visible_agency(slug: str) -> tuple[Agency, list[tuple[Dataset, int]]]:
    """An agency with its visible datasets; 404 when it has none the visitor may see."""
    agency = get_agency(db(), slug)
    if agency is None:
        abort(404)
    datasets = agency_datasets(db(), agency, allowed_access())
    if not datasets:
        abort(404)  # an agency with only hidden datasets must not reveal that it exists
    return agency, datasets


def visible_dataset(dataset_id: int) -> Dataset:
    """A dataset the visitor may see, else 404."""
    dataset = get_dataset(db(), dataset_id, allowed_access())
    if dataset is None:
        abort(404)
    return dataset


def visible_field(field_id: int) -> Field:
    """A field whose dataset the visitor may see, else 404."""
    field = get_field(db(), field_id, allowed_access())
    if field is None:
        abort(404)
    return field


def similar_to(field: Field) -> list[Hit] | None:
    """Similar fields in other datasets, or None when the search index cannot answer."""
    try:
        return catalog().similar_fields(
            field.id, allowed_access=allowed_access(), limit=SIMILAR_LIMIT
        )
    except Exception:
        log.exception("similar fields failed for field %s", field.id)
        return None


@bp.get("/agencies")
def agencies():  # type: ignore[no-untyped-def]
    """Every agency with visible datasets, with counts."""
    return render_template("agencies.html", agencies=agencies_with_counts(db(), allowed_access()))


@bp.get("/agencies/<slug>")
def agency(slug: str):  # type: ignore[no-untyped-def]
    """One agency and its datasets."""
    found, datasets = visible_agency(slug)
    return render_template(
        "agency.html",
        agency=found,
        datasets=datasets,
        field_total=sum(n for _, n in datasets),
    )


@bp.get("/datasets/<int:dataset_id>")
def dataset(dataset_id: int):  # type: ignore[no-untyped-def]
    """A dataset's metadata and its full data dictionary."""
    found = visible_dataset(dataset_id)
    return render_template(
        "dataset.html",
        dataset=found,
        history=dataset_history(db(), found.id, limit=20),
        landing_page=safe_href(found.landing_page),
        access_help=ACCESS_HELP,
        sensitivity_help=SENSITIVITY_HELP,
    )


@bp.get("/fields/<int:field_id>")
def field(field_id: int):  # type: ignore[no-untyped-def]
    """Every attribute of one field, its code list, and similar fields elsewhere."""
    found = visible_field(field_id)
    return render_template(
        "field.html",
        field=found,
        dataset=found.dataset,
        similar=similar_to(found),
        sensitivity_help=SENSITIVITY_HELP,
    )
