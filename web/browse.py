"""Browsing from the database: agencies, datasets and fields (works without the index)."""

from __future__ import annotations

import logging

from flask import Blueprint, render_template, request

from catalog.models import Field
from catalog.search.query import Hit
from catalog.sensitivity import LEVELS, suggestion_map, working_level
from catalog.store import dataset_history
from web.access import (
    audience,
    may_edit,
    visible_agencies,
    visible_agency,
    visible_dataset,
    visible_field,
)
from web.current import catalog, db
from web.present import safe_href

log = logging.getLogger(__name__)
bp = Blueprint("browse", __name__)
SIMILAR_LIMIT = 10
HISTORY_SHOWN = 20


def similar_to(field: Field) -> list[Hit] | None:
    """Similar fields in other datasets, or None when the search index cannot answer."""
    try:
        return catalog().similar_fields(
            field.id, audience=audience(), limit=SIMILAR_LIMIT
        )
    except Exception:
        log.exception("similar fields failed for field %s", field.id)
        return None


@bp.get("/agencies")
def agencies() -> str:
    """Every agency with visible datasets, with counts."""
    return render_template("agencies.html", agencies=visible_agencies())


@bp.get("/agencies/<slug>")
def agency(slug: str) -> str:
    """One agency and its datasets."""
    found, datasets = visible_agency(slug)
    # Copies in a file compiling several agencies' metadata (P20 WIN's merged dictionary)
    # are listed apart, after the agency's own, so that no title reads as listed twice.
    own = [(d, n) for d, n in datasets if not d.is_compilation]
    compiled = [(d, n) for d, n in datasets if d.is_compilation]
    if not own:
        own, compiled = compiled, []
    return render_template("agency.html", agency=found, datasets=own, compiled=compiled,
                           field_total=sum(n for _, n in own),
                           compiled_fields=sum(n for _, n in compiled))


@bp.get("/datasets/<int:dataset_id>")
def dataset(dataset_id: int) -> str:
    """A dataset's metadata and its full data dictionary."""
    found = visible_dataset(dataset_id)
    return render_template("dataset.html", dataset=found,
                           history=dataset_history(db(), found.id, limit=HISTORY_SHOWN),
                           landing_page=safe_href(found.landing_page),
                           category=request.args.get("category") or None,
                           suggestions=suggestion_map(db(), found.id),
                           may_review=may_edit(found), levels=LEVELS)


@bp.get("/fields/<int:field_id>")
def field(field_id: int) -> str:
    """Every attribute of one field, its code list, and similar fields elsewhere."""
    found = visible_field(field_id)
    suggestion = suggestion_map(db(), found.dataset_id).get(found.name)
    pending = suggestion.level if suggestion is not None and suggestion.status == "pending" \
        else None
    reviewed = (suggestion is not None and suggestion.status != "pending") \
        or "sensitivity" in (found.steward_edits or {})
    return render_template("field.html", field=found, dataset=found.dataset,
                           similar=similar_to(found), suggestion=suggestion,
                           working_level=working_level(found.sensitivity, pending),
                           sensitivity_reviewed=reviewed)
