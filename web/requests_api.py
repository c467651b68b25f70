"""The data-request API under ``/api/v1/requests``, through marshmallow schemas.

Signed-in sessions (with the ``X-CSRF-Token`` header for changes) and API tokens
(``Authorization: Bearer``) both work. 401 without credentials; 403 for the wrong party;
404 for a request the caller may not read; 409 for a move its status does not allow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from catalog import data_requests, request_review
from catalog.data_requests import NotAllowed, RequestError, WrongKeys
from catalog.models import User
from catalog.request_documents import FORMATS
from catalog.request_models import DataRequest
from catalog.request_schemas import (
    CommentInSchema,
    ItemInSchema,
    RequestInSchema,
    RequestOutSchema,
    SignoffInSchema,
    TransitionInSchema,
)
from web.access import audience
from web.auth import signed_in_required
from web.current import catalog
from web.data_requests import document_response, me, readable
from web.errors import json_error
from web.urls import external_url

bp = Blueprint("requests_api", __name__, url_prefix="/api/v1/requests")


def _body() -> dict[str, Any]:
    """The request's JSON object (none: an empty one); 400 for anything else."""
    data = request.get_json(silent=True)
    if data is None and request.content_length:
        abort(400, description="the body must be JSON" + (
            "" if request.is_json else ", sent with Content-Type: application/json"))
    if data is not None and not isinstance(data, dict):
        abort(400, description="the body must be a JSON object")
    return data or {}


def request_data(found: DataRequest, user: User) -> dict[str, Any]:
    """A request as plain data for :class:`RequestOutSchema`, as the caller may see it."""
    lines, hidden = data_requests.lines_of(found, audience())
    shown = [a.slug for a in data_requests.shown_agencies(found, audience())]
    return {
        "id": found.id, "status": found.status,
        "requester": found.requester.email if found.requester else None,
        "form": {k: v for k, v in (found.form or {}).items() if v is not None},
        "justifications": {k: v for k, v in (found.justifications or {}).items()
                           if any(str(li.dataset.id) == k for li in lines)},
        "items": [{
            "id": li.item.id, "dataset_id": li.dataset.id, "dataset": li.dataset.title,
            "agency": li.dataset.agency.slug, "field": li.item.field_name,
            "field_id": li.field.id if li.field else None,
            "whole_dataset": li.item.field_name is None,
            "access_level": li.dataset.access_level, "sensitivity": li.sensitivity,
            "sensitivity_suggested": li.sensitivity_suggested,
            "justification": li.item.justification, "state": li.state,
        } for li in lines],
        "items_not_shown": hidden,
        "agencies": shown,
        "signoffs": {s.agency.slug: s.decision
                     for s in request_review.visible_signoffs(found, audience())},
        "allowed_transitions": request_review.allowed_moves(found, user),
        "revisions": found.revisions,
        "assigned_to": found.officer.email if found.officer else None,
        "created_at": found.created_at, "updated_at": found.updated_at,
        "submitted_at": found.submitted_at,
        "events": request_review.visible_events(found, audience()),
        "url": external_url("requests.show", request_id=found.id),
    }


def _out(session: Session, request_id: int, user: User, status: int = 200
         ) -> ResponseReturnValue:
    session.flush()
    found = data_requests.get_request(session, request_id)
    assert found is not None
    session.refresh(found)
    return jsonify(RequestOutSchema().dump(request_data(found, user))), status


def _save(session: Session, found: DataRequest, user: User, form: dict[str, Any],
          data: dict[str, Any]) -> None:
    """Save a draft's form parts and justifications; a wrong key is a 400 naming it."""
    try:
        data_requests.save_draft(
            session, found, user, form, data["justifications"],
            {int(k): v for k, v in data["item_justifications"].items()},
            audience=audience(), strict=True)
    except WrongKeys as exc:
        raise ValidationError(exc.messages) from exc


def _refused(exc: Exception) -> ResponseReturnValue:
    if isinstance(exc, NotAllowed):
        return json_error(403, str(exc))
    if isinstance(exc, LookupError):
        return json_error(404, str(exc))
    return json_error(409, str(exc))


@bp.post("")
@signed_in_required
def create() -> ResponseReturnValue:
    """A new draft request (201). It holds no items yet, so any justification is refused
    (400, naming its key): add the items, then justify them."""
    data = RequestInSchema().load(_body())
    with catalog().transaction() as session:
        user = me(session)
        found = data_requests.new_request(session, user, data["form"])
        _save(session, found, user, {}, data)
        return _out(session, found.id, user, 201)


@bp.get("")
@signed_in_required
def index() -> ResponseReturnValue:
    """My requests; for intake officers, every request past its draft too; for stewards,
    the requests in agency review that ask their agencies' data."""
    with catalog().session() as session:
        user = me(session)
        found = {r.id: r for r in request_review.requests_for(session, user)}
        if data_requests.may_work_the_queue(user):
            found.update({r.id: r for r in request_review.requests_for(session, user,
                                                                       everyone=True)})
        found.update({a.request.id: a.request
                      for a in request_review.awaiting_signoff(session, user)})
        items = [request_data(r, user) for r in sorted(found.values(), key=lambda r: -r.id)]
        return jsonify({"total": len(items),
                        "requests": RequestOutSchema(many=True, exclude=("events",)).dump(items)})


@bp.get("/<int:request_id>")
@signed_in_required
def show(request_id: int) -> ResponseReturnValue:
    """One request with its items and history."""
    with catalog().session() as session:
        found, user = readable(session, request_id)
        return jsonify(RequestOutSchema().dump(request_data(found, user)))


def _act(request_id: int, change: Callable[[Session, DataRequest, User], Any],
         status: int = 200) -> ResponseReturnValue:
    """Apply a change to a request the caller may read, and answer with the request; a
    refusal is 403 (the wrong party), 404 (nothing such) or 409 (not in this status) — the
    changes of :mod:`catalog.data_requests` and :mod:`catalog.request_review` check before
    they write, so a refused one has written nothing."""
    with catalog().transaction() as session:
        found, user = readable(session, request_id)
        try:
            change(session, found, user)
        except (LookupError, RequestError, NotAllowed) as exc:
            return _refused(exc)
        return _out(session, found.id, user, status)


@bp.patch("/<int:request_id>")
@signed_in_required
def update(request_id: int) -> ResponseReturnValue:
    """Change a draft (the requester, while it may change): the ``form`` parts given, the
    ``justifications`` by dataset id and the ``item_justifications`` by item id, each merged
    into what is saved (an empty text clears one). A key naming no dataset or item of the
    request is refused (400, naming it) and nothing is saved."""
    data = RequestInSchema().load(_body())
    return _act(request_id, lambda session, found, user: _save(session, found, user,
                                                               data["form"], data))


@bp.post("/<int:request_id>/items")
@signed_in_required
def add_item(request_id: int) -> ResponseReturnValue:
    """Add ``{"field_id": N}`` or ``{"dataset_id": N}`` (only what the caller may see)."""
    data = ItemInSchema().load(_body())

    def add(session: Session, found: DataRequest, user: User) -> None:
        item = data_requests.add_item(session, found, user, audience(), data["dataset_id"],
                                      data["field_id"])
        if data["justification"]:
            item.justification = data["justification"]

    return _act(request_id, add, 201)


@bp.delete("/<int:request_id>/items/<int:item_id>")
@signed_in_required
def remove_item(request_id: int, item_id: int) -> ResponseReturnValue:
    """Take an item out of a draft (the request as it is now)."""
    return _act(request_id, lambda session, found, user: data_requests.remove_item(
        session, found, user, item_id, audience=audience()))


@bp.delete("/<int:request_id>/items/not-shown")
@signed_in_required
def remove_not_shown(request_id: int) -> ResponseReturnValue:
    """Take out the items the requester can no longer see (``items_not_shown``): a dataset
    restricted since it was added. A request holding any cannot be submitted."""
    return _act(request_id, lambda session, found, user: data_requests.remove_hidden(
        session, found, user, audience()))


@bp.post("/<int:request_id>/transitions")
@signed_in_required
def transition(request_id: int) -> ResponseReturnValue:
    """Move the request: ``{"to": STATUS, "comment": "..."}``."""
    data = TransitionInSchema().load(_body())
    return _act(request_id, lambda session, found, user: request_review.transition(
        session, found, user, data["to"], data["comment"]))


@bp.post("/<int:request_id>/signoffs")
@signed_in_required
def signoff(request_id: int) -> ResponseReturnValue:
    """An agency's decision: ``{"agency": SLUG, "decision": "approved"|"denied"}``."""
    data = SignoffInSchema().load(_body())
    return _act(request_id, lambda session, found, user: request_review.signoff(
        session, found, user, data["agency"], data["decision"], data["comment"]), 201)


@bp.post("/<int:request_id>/comments")
@signed_in_required
def comment(request_id: int) -> ResponseReturnValue:
    """A message in the request's thread: ``{"comment": "..."}`` (201). Everyone who may read
    the request reads it; a draft has no thread yet and a closed request takes no more."""
    data = CommentInSchema().load(_body())
    return _act(request_id, lambda session, found, user: request_review.comment(
        session, found, user, data["comment"]), 201)


@bp.get("/<int:request_id>/document")
@signed_in_required
def download(request_id: int) -> ResponseReturnValue:
    """The request as ``?format=docx|pdf|md|json``."""
    fmt = request.args.get("format", "json")
    if fmt not in FORMATS:
        return json_error(400, f"format must be one of {', '.join(FORMATS)}",
                          {"format": [f"{fmt!r} is not one of {', '.join(FORMATS)}"]})
    with catalog().session() as session:
        found, _ = readable(session, request_id)
        return document_response(session, found, fmt)
