"""Stewardship pages: edit a dataset or a field, the history with its reverts.

Only a steward of the dataset's agency or an administrator may edit (:func:`web.access.may_edit`);
anyone else who may see the dataset gets 403, anyone who may not gets 404. A save names the
version its form was read at: when someone saved in between, nothing is written and the page
shows what changed (a 409 with the two versions side by side, the form holding the steward's
own text merged over what is saved now). A save is searchable at once: the dataset is
reindexed before the answer (as ``catalog edit`` does).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError
from sqlalchemy import select

from catalog import accounts
from catalog.models import Agency, Change, Dataset, Field
from catalog.sensitivity import suggestion_map
from catalog.steward_schemas import DatasetEditSchema, FieldEditSchema
from catalog.stewardship import (
    COLUMN_LABELS,
    REVERTABLE,
    StaleVersion,
    StewardshipError,
    differences,
    editable_values,
    edited_columns,
    revert,
    reverted_by,
    save_edit,
    version_of,
)
from catalog.store import dataset_history
from catalog.vocabulary import AccessLevel, DataType, Sensitivity, values
from web.access import may_edit, visible_dataset, visible_field
from web.auth import current_account, web_actor
from web.current import catalog, db
from web.errors import field_messages
from web.present import shown_actor

log = logging.getLogger(__name__)
bp = Blueprint("steward", __name__)
HISTORY_LIMIT = 200


# ------------------------------------------------------------------- shared helpers


def reindex(dataset_id: int) -> bool:
    """Bring the dataset's search documents up to date now; False (and a notice) on failure.

    The edit is saved either way; a dataset the index missed stays pending
    (:meth:`catalog.service.Catalog.pending_index`) and the next reindex takes it.
    """
    try:
        catalog().index_datasets([dataset_id])
    except Exception:
        log.exception("reindexing dataset %s after a steward's edit failed", dataset_id)
        flash("Saved, but the search index could not be updated just now; search will show "
              "the change after the next reindex.", "error")
        return False
    return True


def require_edit(dataset: Dataset) -> None:
    """403 unless the visitor may edit this (visible) dataset."""
    if current_account() is None:
        abort(401)
    if not may_edit(dataset):
        abort(403)


def as_text(column: str, value: Any) -> str:
    """A column's value as a form shows it: keywords comma-separated, codes one a line."""
    if value is None:
        return ""
    if column == "keywords":
        return ", ".join(value)
    if column == "value_labels":
        return "\n".join(f"{c.get('code')} = {c.get('label')}" for c in value)
    return str(value)


def people_of(agency: Agency) -> dict[str, Any]:
    """An agency's data officers and stewards, for its page (see docs/stewardship.md)."""
    rows = accounts.stewards_of(db(), agency)
    signed_in = current_account() is not None
    people = []
    for user, officer in rows:
        people.append({"name": user.name or ("Data officer" if officer else "Data steward"),
                       "officer": officer,
                       "email": user.email if (officer or signed_in) else None})
    return {"officers": [p for p in people if p["officer"]],
            "stewards": [p for p in people if not p["officer"]]}


@bp.app_context_processor
def _steward_globals() -> dict[str, Any]:
    return {"steward_may_edit": may_edit, "agency_people": people_of,
            "shown_actor": shown_actor, "column_labels": COLUMN_LABELS,
            "as_text": as_text}


# --------------------------------------------------------------------------- editing


def _form_values(columns: tuple[str, ...]) -> dict[str, str]:
    return {c: request.form.get(c, "") for c in columns if c in request.form}


def _read_copy() -> dict[str, Any] | None:
    try:
        read = json.loads(request.form.get("read", ""))
    except ValueError:
        return None
    return read if isinstance(read, dict) else None


def _render_edit(target: Dataset | Field, dataset: Dataset, *, form: dict[str, Any] | None = None,
                 errors: dict[str, list[str]] | None = None, conflict: dict[str, Any] | None = None,
                 status: int = 200) -> ResponseReturnValue:
    current = editable_values(target)
    shown = {c: as_text(c, v) for c, v in current.items()}
    if form:
        shown.update(form)
    template = "steward_field_edit.html" if isinstance(target, Field) else \
        "steward_dataset_edit.html"
    suggestion = (suggestion_map(db(), dataset.id).get(target.name)
                  if isinstance(target, Field) else None)
    return render_template(
        template, target=target, dataset=dataset, values=shown, suggestion=suggestion,
        read=json.dumps(current, ensure_ascii=False, default=str), version=version_of(target),
        errors=errors or {}, conflict=conflict, edits=target.steward_edits or {},
        data_types=values(DataType), sensitivities=values(Sensitivity),
        access_levels=values(AccessLevel)), status


def _last_change(dataset_id: int, target: Dataset | Field) -> Change | None:
    kind = "field" if isinstance(target, Field) else "dataset"
    return db().scalar(select(Change).where(Change.dataset_id == dataset_id,
                                            Change.entity_type == kind,
                                            Change.entity_id == target.id)
                       .order_by(Change.id.desc()).limit(1))


def _save(target: Dataset | Field, dataset: Dataset) -> ResponseReturnValue:
    is_field = isinstance(target, Field)
    schema = FieldEditSchema() if is_field else DatasetEditSchema()
    columns = tuple(editable_values(target))
    if not (request.form.get("version") or "").strip():
        abort(400, description="The form is incomplete: it carries no version of what it "
                               "edits. Open the edit page again and make the change there.")
    sent = _form_values(columns)
    try:
        loaded = schema.load(sent)
    except ValidationError as exc:
        return _render_edit(target, dataset, form=sent, errors=field_messages(exc.messages),
                            status=400)
    read = _read_copy()
    try:
        with catalog().transaction() as tx:
            _, change = save_edit(tx, dataset.id, loaded, version=request.form.get("version", ""),
                                  actor=web_actor(), field_id=target.id if is_field else None)
    except StaleVersion as stale:
        db().expire_all()
        fresh = db().get(Field if is_field else Dataset, target.id)
        if fresh is None:
            abort(404)
        diffs = differences(read, stale.current, loaded)
        # The form keeps the steward's own changes, over what is saved now for the rest.
        merged = {d.column: as_text(d.column, d.yours) for d in diffs
                  if read is None or d.yours != d.read}
        return _render_edit(fresh, dataset, form=merged, status=409, conflict={
            "differences": diffs, "last": _last_change(dataset.id, fresh)})
    except StewardshipError as exc:
        flash(str(exc), "error")
        return redirect(url_for("browse.dataset", dataset_id=dataset.id))
    if change is None:
        flash("Nothing changed.", "info")
    else:
        reindex(dataset.id)
        names = ", ".join(COLUMN_LABELS.get(c, c).lower() for c in edited_columns(change))
        flash(f"Saved: {names}. The change is in the history and searchable now.", "info")
    if is_field:
        return redirect(url_for("browse.field", field_id=target.id))
    return redirect(url_for("browse.dataset", dataset_id=dataset.id))


@bp.route("/datasets/<int:dataset_id>/edit", methods=["GET", "POST"])
def edit_dataset(dataset_id: int) -> ResponseReturnValue:
    """Edit a dataset's title, description, keywords, update frequency and contact."""
    dataset = visible_dataset(dataset_id)
    require_edit(dataset)
    if request.method == "POST":
        return _save(dataset, dataset)
    return _render_edit(dataset, dataset)


@bp.route("/fields/<int:field_id>/edit", methods=["GET", "POST"])
def edit_field(field_id: int) -> ResponseReturnValue:
    """Edit a field's label, description, data type, code list, sensitivity and notes."""
    field = visible_field(field_id)
    require_edit(field.dataset)
    if request.method == "POST":
        return _save(field, field.dataset)
    return _render_edit(field, field.dataset)


# --------------------------------------------------------------------------- history


@bp.get("/datasets/<int:dataset_id>/history")
def history(dataset_id: int) -> ResponseReturnValue:
    """Every change of a dataset: who, when, before and after; stewards may revert theirs."""
    dataset = visible_dataset(dataset_id)
    changes = dataset_history(db(), dataset.id, limit=HISTORY_LIMIT)
    done = reverted_by(db(), [c.id for c in changes])
    return render_template("steward_history.html", dataset=dataset, changes=changes,
                           reverted=done, revertable=REVERTABLE, may_revert=may_edit(dataset),
                           columns_of=edited_columns)


@bp.post("/changes/<int:change_id>/revert")
def revert_change(change_id: int) -> ResponseReturnValue:
    """Revert a steward's change (with its whole change set)."""
    found = db().get(Change, change_id)
    if found is None or found.dataset_id is None:
        abort(404)
    dataset = visible_dataset(found.dataset_id)
    require_edit(dataset)
    try:
        with catalog().transaction() as tx:
            made = revert(tx, change_id, actor=web_actor())
    except StewardshipError as exc:
        flash(str(exc), "error")
        return redirect(url_for("steward.history", dataset_id=dataset.id)), 303
    reindex(dataset.id)
    flash(f"Reverted: {len(made)} change{'s' if len(made) != 1 else ''} written back.", "info")
    return redirect(url_for("steward.history", dataset_id=dataset.id)), 303
