"""Suggested corrections: a signed-in person suggests, the agency's stewards decide, the
suggester sees the outcome (see :mod:`catalog.suggestions`)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from catalog import suggestions
from catalog.models import Suggestion, User
from catalog.steward_schemas import DecisionSchema, SuggestionSchema
from catalog.stewardship import COLUMN_LABELS, StewardshipError, editable_values
from catalog.vocabulary import DataType, Role, Sensitivity, values
from web.access import audience, may_edit, visible_dataset, visible_field
from web.auth import current_account, role_required, signed_in_required, web_actor
from web.current import catalog, db
from web.errors import field_messages
from web.steward import as_text, reindex

bp = Blueprint("suggestions", __name__)
CHOICES = [(c, COLUMN_LABELS[c]) for c in suggestions.SUGGESTABLE]


@bp.route("/fields/<int:field_id>/suggest", methods=["GET", "POST"])
def new(field_id: int) -> ResponseReturnValue:
    """Suggest a correction of one part of a field to its agency's stewards."""
    field = visible_field(field_id)  # 404 first: a hidden field's existence is not revealed
    if current_account() is None:
        return redirect(url_for("auth.login", next=request.path))
    current = {c: as_text(c, v) for c, v in editable_values(field).items()}
    context = {"field": field, "dataset": field.dataset, "choices": CHOICES, "current": current,
               "data_types": values(DataType), "sensitivities": values(Sensitivity),
               "errors": {}, "form": {}}
    if request.method == "GET":
        return render_template("steward_suggest.html", **context)
    form = {k: request.form.get(k, "") for k in ("column", "value", "comment")}
    context["form"] = form
    try:
        loaded = SuggestionSchema().load(form)
        account = current_account()
        assert account is not None
        with catalog().transaction() as tx:
            user = tx.get(User, account.user_id)
            assert user is not None
            suggestions.suggest(tx, field, user, loaded["column"], loaded["value"],
                                loaded["comment"])
    except ValidationError as exc:
        context["errors"] = field_messages(exc.messages)
        return render_template("steward_suggest.html", **context), 400
    except StewardshipError as exc:
        context["errors"] = {"value": [str(exc)]}
        return render_template("steward_suggest.html", **context), 400
    flash("Thank you: the agency's stewards will review your suggestion. Its outcome is on "
          "your suggestions page.", "info")
    return redirect(url_for("browse.field", field_id=field.id))


@bp.get("/suggestions")
@signed_in_required
def mine() -> ResponseReturnValue:
    """What I suggested, and what became of it."""
    account = current_account()
    assert account is not None
    return render_template("steward_my_suggestions.html",
                           items=suggestions.suggestions_of(db(), account.user_id, audience()),
                           hidden=suggestions.hidden_count(db(), account.user_id, audience()),
                           column_labels=COLUMN_LABELS)


@bp.get("/steward/suggestions")
@role_required(Role.STEWARD, Role.ADMIN)
def queue() -> ResponseReturnValue:
    """Open suggestions on the datasets of the agencies I steward."""
    account = current_account()
    assert account is not None
    items = suggestions.queue(db(), account.role, account.agencies, audience())
    rows = []
    for item in items:
        found = suggestions.field_of(db(), item)
        now = as_text(item.column, getattr(found, item.column)) if found is not None else None
        rows.append({"item": item, "field": found, "now": now})
    return render_template("steward_queue.html", rows=rows)


@bp.post("/suggestions/<int:suggestion_id>/decide")
@role_required(Role.STEWARD, Role.ADMIN)
def decide(suggestion_id: int) -> ResponseReturnValue:
    """Accept (applied as my edit) or reject (with a reason) a suggestion."""
    found = db().get(Suggestion, suggestion_id)
    if found is None:
        abort(404)
    dataset = visible_dataset(found.dataset_id)
    if not may_edit(dataset):
        abort(403)
    try:
        loaded = DecisionSchema().load({k: request.form.get(k) for k in ("decision", "reason")})
    except ValidationError as exc:
        flash("; ".join(f"{k}: {' '.join(v)}" for k, v in field_messages(exc.messages).items()),
              "error")
        return redirect(url_for("suggestions.queue")), 303
    account = current_account()
    assert account is not None
    try:
        with catalog().transaction() as tx:
            item = tx.get(Suggestion, suggestion_id)
            assert item is not None
            if loaded["decision"] == "accept":
                suggestions.accept(tx, item, actor=web_actor(), decided_by=account.email)
            else:
                suggestions.reject(tx, item, decided_by=account.email, reason=loaded["reason"])
    except (StewardshipError, ValidationError) as exc:
        flash(str(exc), "error")
        return redirect(url_for("suggestions.queue")), 303
    if loaded["decision"] == "accept":
        reindex(dataset.id)
        flash(f"Suggestion #{suggestion_id} accepted and applied as your edit.", "info")
    else:
        flash(f"Suggestion #{suggestion_id} rejected; the suggester sees your reason.", "info")
    return redirect(url_for("suggestions.queue")), 303
