"""Scorecards (pages and API) and the stewards' review of sensitivity suggestions.

Every figure is counted over what the visitor may see (:func:`web.access.audience`): an
agency whose datasets are all hidden from them has no scorecard (404), and the trend shows
the public snapshots unless the visitor sees everything.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import RAISE, Schema, fields, validate

from catalog.models import Agency
from catalog.scorecards import EQUITY, agency_scorecards, dataset_scorecards, statewide, trend
from catalog.sensitivity import DECISIONS, LEVELS, review, suggestion_map
from web.access import audience, may_edit, visible_dataset
from web.auth import current_account, web_actor
from web.current import catalog, db
from web.present import shown_suggestion

log = logging.getLogger(__name__)
bp = Blueprint("scorecards", __name__)


def _agency_card(slug: str) -> tuple[Agency, dict[str, Any], list[dict[str, Any]]]:
    """An agency's scorecard and its datasets' for the visitor; 404 when none is visible."""
    cards = agency_scorecards(db(), audience(), slug)
    agency = db().query(Agency).filter_by(slug=slug).one_or_none()
    if not cards or agency is None:
        abort(404)  # unknown, or all of its datasets hidden: do not reveal it
    return agency, cards[0], dataset_scorecards(db(), audience(), slug)


@bp.get("/scorecards")
def state() -> str:
    """The statewide page: every agency's components side by side, and the trend."""
    figures = statewide(db(), audience())
    return render_template("scorecards.html", state=figures, trend=trend(db(), audience()),
                           dimensions=list(EQUITY))


@bp.get("/scorecards/<slug>")
def agency(slug: str) -> str:
    """One agency's scorecard, each of its datasets', the equity list and the trend."""
    found, card, datasets = _agency_card(slug)
    return render_template("agency_scorecard.html", agency=found, card=card, datasets=datasets,
                           trend=trend(db(), audience(), found.id), dimensions=list(EQUITY))


@bp.get("/api/v1/scorecards")
def api_agencies() -> ResponseReturnValue:
    """Every agency's scorecard the visitor may see, as a list."""
    return jsonify(agency_scorecards(db(), audience()))


@bp.get("/api/v1/scorecards/statewide")
def api_state() -> ResponseReturnValue:
    """The statewide figures, with each agency's and the trend."""
    return jsonify({**statewide(db(), audience()), "trend": trend(db(), audience())})


@bp.get("/api/v1/scorecards/<slug>")
def api_agency(slug: str) -> ResponseReturnValue:
    """One agency's scorecard with its datasets' and the trend."""
    found, card, datasets = _agency_card(slug)
    return jsonify({**card, "dataset_scorecards": datasets,
                    "trend": trend(db(), audience(), found.id)})


@bp.get("/api/v1/datasets/<int:dataset_id>/scorecard")
def api_dataset(dataset_id: int) -> ResponseReturnValue:
    """One dataset's scorecard."""
    dataset = visible_dataset(dataset_id)
    cards = [c for c in dataset_scorecards(db(), audience(), dataset.agency.slug)
             if c["dataset_id"] == dataset.id]
    if not cards:
        abort(404)
    return jsonify(cards[0])


@bp.get("/api/v1/datasets/<int:dataset_id>/sensitivity")
def api_suggestions(dataset_id: int) -> ResponseReturnValue:
    """A dataset's sensitivity suggestions, each with its reason and decision."""
    dataset = visible_dataset(dataset_id)
    rows = suggestion_map(db(), dataset.id)
    return jsonify([{"field": name, **(shown_suggestion(r) or {})}
                    for name, r in sorted(rows.items()) if r.level])


class DecisionSchema(Schema):
    """A sensitivity review through the API."""

    class Meta:
        unknown = RAISE

    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    level = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(LEVELS))
    names = fields.List(
        fields.String(validate=validate.Length(min=1, max=1000)), load_default=None,
        data_key="fields",
        validate=validate.Length(min=1, error="name at least one field, or leave fields out "
                                              "to decide every pending suggestion"))


@bp.post("/datasets/<int:dataset_id>/sensitivity")
@bp.post("/api/v1/datasets/<int:dataset_id>/sensitivity")
def decide(dataset_id: int) -> ResponseReturnValue:
    """A steward accepts, rejects or changes suggestions: the fields named, or (none named)
    every pending one. JSON: ``{"decision", "level"?, "fields"?: [names]}``, checked by
    :class:`DecisionSchema`; an empty ``fields`` list is refused, not read as "all"."""
    if current_account() is None:
        abort(401)
    dataset = visible_dataset(dataset_id)
    if not may_edit(dataset):
        abort(403, description="Only the agency's data stewards (and administrators) review "
                               "its sensitivity suggestions.")
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            abort(400, description="The body must be a JSON object: "
                                   '{"decision": ..., "fields": [...]}.')
        data = DecisionSchema().load(body)  # ValidationError: 400 naming each part
        decision, level, names = data["decision"], data["level"], data["names"]
    else:
        decision = request.form.get("decision", "")
        level = request.form.get("level") or None
        names = request.form.getlist("field") or None
    if decision not in DECISIONS or (decision == "changed" and level not in LEVELS):
        abort(400, description=f"decision must be one of {', '.join(DECISIONS)}; a change "
                               f"needs a level ({', '.join(LEVELS)})")
    actor = web_actor()
    try:
        with catalog().transaction() as session:
            target = session.get(type(dataset), dataset.id)
            count = review(session, target, decision, actor=actor, field_names=names,
                           level=level)
    except LookupError as exc:
        abort(404, description=str(exc))
    try:
        catalog().index_datasets([dataset.id])  # the new levels are searchable at once
    except Exception:  # the database holds the decision; `catalog reindex` repairs the index
        log.exception("indexing dataset %s after a sensitivity review failed", dataset.id)
    if request.is_json:
        return jsonify({"decided": count, "decision": decision})
    flash(f"{count} sensitivity suggestion(s) {decision}.", "info")
    return redirect(url_for("browse.dataset", dataset_id=dataset.id) + "#sensitivity")
