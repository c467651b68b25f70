"""Requesting data: the cart, the draft request, a request's page, its documents.

Every page is for signed-in people. The cart is the person's newest draft
(:func:`catalog.data_requests.cart_of`); "Request this" on search results, field and dataset
pages adds to it (a plain form: it works without JavaScript). What a request shows of its
items follows :func:`web.access.audience`: an item the reader may not see is counted, not
named — in pages, documents and the API alike.
"""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from catalog import accounts, data_requests, request_review
from catalog.data_requests import NotAllowed, RequestError
from catalog.linkage import propose
from catalog.models import MAX_ID, User
from catalog.request_documents import FORMATS, MEDIA_TYPES, RENDERERS, document, title_of
from catalog.request_form import FORM
from catalog.request_models import DataRequest
from catalog.vocabulary import Role
from web.access import audience
from web.auth import current_account, safe_next, signed_in_required
from web.current import catalog

bp = Blueprint("requests", __name__)


def me(session: Session) -> User:
    """The signed-in person's account, in this session."""
    account = current_account()
    user = session.get(User, account.user_id) if account is not None else None
    if user is None:
        abort(401)
    return user


def form_id(text: str | None) -> int | None:
    """An id from a form: ASCII digits only; None when not one. An id beyond what the
    database holds is 0, which names nothing (a 404, like a route's id)."""
    if not text or not re.fullmatch(r"[0-9]{1,40}", text):
        return None
    value = int(text)
    return value if value <= MAX_ID else 0


def readable(session: Session, request_id: int) -> tuple[DataRequest, User]:
    """A request the signed-in person may read (404 otherwise), and that person."""
    user = me(session)
    found = data_requests.get_request(session, request_id)
    if found is None or not data_requests.may_read(user, found):
        abort(404)
    return found, user


def contacts_for(session: Session, found: DataRequest) -> dict[int, list[tuple[User, bool]]]:
    """Each requested agency's stewards (the data officer first), of the agencies the
    visitor may be told of (:func:`catalog.data_requests.shown_agencies`)."""
    return {a.id: accounts.stewards_of(session, a)
            for a in data_requests.shown_agencies(found, audience())}


def view_of(session: Session, found: DataRequest, user: User) -> dict[str, Any]:
    """What a request's page shows."""
    lines, hidden = data_requests.lines_of(found, audience())
    groups: dict[str, dict[str, Any]] = {}
    for line in lines:
        agency = groups.setdefault(line.dataset.agency.slug, {
            "agency": line.dataset.agency, "datasets": {}})
        agency["datasets"].setdefault(line.dataset.id, {"dataset": line.dataset, "lines": []})
        agency["datasets"][line.dataset.id]["lines"].append(line)
    return {
        "req": found, "groups": groups, "hidden": hidden, "lines": lines,
        "events": request_review.visible_events(found, audience()),
        "signoffs": request_review.visible_signoffs(found, audience()),
        "moves": request_review.allowed_moves(found, user),
        "mine": found.requester_id == user.id,
        "editable": found.requester_id == user.id and found.status in data_requests.EDITABLE,
        "intake": data_requests.may_work_the_queue(user),
        "signable": request_review.signable_agencies(found, user),
        "contacts": contacts_for(session, found), "form": FORM,
        "title": title_of({"id": found.id, "form": [
            {"key": "title", "value": (found.form or {}).get("title")}]}),
        "flagged": [li for li in lines if li.state != "current"],
        "officers": accounts_intake(session) if data_requests.may_work_the_queue(user) else [],
        "when": accounts.when,
    }


def accounts_intake(session: Session) -> list[User]:
    """The intake officers (and administrators) a request can be assigned to."""
    return [u for u in accounts.list_users(session)
            if u.active and data_requests.may_work_the_queue(u)]


# ---------------------------------------------------------------------------- cart


@bp.post("/cart/items")
@signed_in_required
def add_to_cart() -> ResponseReturnValue:
    """Add a field or a whole dataset to the cart (only what the visitor may see)."""
    back = safe_next(request.form.get("next"), url_for("requests.cart"))
    dataset_id, field_id = (form_id(request.form.get("dataset_id")),
                            form_id(request.form.get("field_id")))
    if dataset_id is None or (request.form.get("field_id") and field_id is None):
        abort(400, description="dataset_id and field_id are ids: digits only")
    with catalog().transaction() as session:
        user = me(session)
        cart = data_requests.cart_of(session, user)
        assert cart is not None
        try:
            item = data_requests.add_item(session, cart, user, audience(), dataset_id, field_id)
        except LookupError:
            abort(404)
        except (RequestError, NotAllowed) as exc:
            flash(str(exc), "error")
            return redirect(back)
        count = len(cart.items)
        covered = field_id is not None and item.field_name is None
        what = item.field_name or "the whole dataset"
    if covered:
        flash("Your request holds the whole dataset already, this field with it "
              f"({count} item{'s' if count != 1 else ''}).", "info")
    else:
        flash(f"Added {what} to your request ({count} item{'s' if count != 1 else ''}).",
              "info")
    return redirect(back)


@bp.get("/cart")
@signed_in_required
def cart() -> ResponseReturnValue:
    """The cart: the newest draft, or an empty cart to start from search."""
    with catalog().session() as session:
        found = data_requests.cart_of(session, me(session), create=False)
        if found is None:
            return render_template("cart_empty.html")
        return redirect(url_for("requests.edit", request_id=found.id))


# ------------------------------------------------------------------------ requests


@bp.get("/requests")
@signed_in_required
def index() -> ResponseReturnValue:
    """My requests, with their status and age."""
    with catalog().session() as session:
        user = me(session)
        rows = [(r, len(data_requests.shown_agencies(r, audience()))) for r in
                request_review.requests_for(session, user)]
        waiting = [a for a in request_review.awaiting_signoff(session, user) if a.pending]
        return render_template("requests.html", rows=rows, when=accounts.when,
                               waiting=len(waiting))


@bp.get("/requests/signoffs")
@signed_in_required
def signoffs() -> ResponseReturnValue:
    """A steward's queue: the requests in agency review that ask their agencies' data."""
    with catalog().session() as session:
        user = me(session)
        if user.role != Role.STEWARD:
            abort(403, description="Only an agency's stewards sign off on its requests.")
        found = request_review.awaiting_signoff(session, user)
        return render_template("signoffs.html", found=found, when=accounts.when)


@bp.post("/requests")
@signed_in_required
def create() -> ResponseReturnValue:
    """Start a new, empty draft (the cart becomes it)."""
    with catalog().transaction() as session:
        found = data_requests.new_request(session, me(session))
        request_id = found.id
    return redirect(url_for("requests.edit", request_id=request_id))


@bp.get("/requests/<int:request_id>")
@signed_in_required
def show(request_id: int) -> ResponseReturnValue:
    """A request: its items by agency, its status and history, the actions one may take."""
    with catalog().session() as session:
        found, user = readable(session, request_id)
        return render_template("request.html", **view_of(session, found, user))


@bp.route("/requests/<int:request_id>/edit", methods=["GET", "POST"])
@signed_in_required
def edit(request_id: int) -> ResponseReturnValue:
    """The draft's form, saved as one goes; "Submit" checks that nothing is missing."""
    with catalog().transaction() as session:
        found, user = readable(session, request_id)
        if found.requester_id != user.id or found.status not in data_requests.EDITABLE:
            return redirect(url_for("requests.show", request_id=request_id))
        problems: dict[str, list[str]] = {}
        status = 200
        if request.method == "POST":
            # Only the parts the form sends change (a script may send one part alone).
            form = {key: request.form[key] for key, _, _, _ in FORM if key in request.form}
            justifications = {k.removeprefix("why_dataset_"): v for k, v in request.form.items()
                              if k.startswith("why_dataset_")}
            items = {int(k.removeprefix("why_item_")): v for k, v in request.form.items()
                     if re.fullmatch(r"why_item_[0-9]{1,18}", k)}
            data_requests.save_draft(session, found, user, form, justifications, items,
                                     audience=audience())
            removing = request.form.get("remove")
            if removing:  # "Remove" on an item: what was typed is saved first
                if removing == "not-shown":
                    count = data_requests.remove_hidden(session, found, user, audience())
                    flash(f"Removed {count} item{'s' if count != 1 else ''} you can no "
                          "longer see. What you wrote is saved.", "info")
                else:
                    item_id = form_id(removing)
                    try:
                        data_requests.remove_item(session, found, user, item_id or 0,
                                                  audience=audience())
                    except LookupError:
                        abort(404)
                    flash("Removed the item. What you wrote is saved.", "info")
                return redirect(url_for("requests.edit", request_id=request_id))
            if request.form.get("action") == "submit":
                problems = data_requests.submission_problems(found, audience())
                if not problems:
                    request_review.transition(session, found, user, "submitted",
                                              request.form.get("comment"))
                    flash("Submitted. The intake office will screen it; you can follow it "
                          "here.", "info")
                    return redirect(url_for("requests.show", request_id=request_id))
                status = 400
            else:
                flash("Saved.", "info")
        view = view_of(session, found, user)
        view["problems"] = problems
        view["proposals"] = [p.as_dict() for p in propose(catalog(), found, audience())]
        return render_template("request_edit.html", **view), status


@bp.post("/requests/<int:request_id>/transition")
@signed_in_required
def move(request_id: int) -> ResponseReturnValue:
    """Move a request to another status (with a comment)."""
    with catalog().transaction() as session:
        found, user = readable(session, request_id)
        try:
            request_review.transition(session, found, user, request.form.get("to", ""),
                                      request.form.get("comment"))
            flash(f"The request is now {found.status.replace('_', ' ')}.", "info")
        except NotAllowed as exc:
            abort(403, description=str(exc))
        except RequestError as exc:
            flash(str(exc), "error")
    return redirect(url_for("requests.show", request_id=request_id))


@bp.post("/requests/<int:request_id>/signoff")
@signed_in_required
def signoff(request_id: int) -> ResponseReturnValue:
    """An agency's sign-off, by its steward or an intake officer."""
    with catalog().transaction() as session:
        found, user = readable(session, request_id)
        try:
            request_review.signoff(session, found, user, request.form.get("agency", ""),
                                   request.form.get("decision", ""),
                                   request.form.get("comment"))
            flash("The sign-off is recorded.", "info")
        except NotAllowed as exc:
            abort(403, description=str(exc))
        except RequestError as exc:
            flash(str(exc), "error")
    return redirect(url_for("requests.show", request_id=request_id))


@bp.post("/requests/<int:request_id>/comment")
@signed_in_required
def comment(request_id: int) -> ResponseReturnValue:
    """A message in the request's thread (everyone who may read the request reads it)."""
    with catalog().transaction() as session:
        found, user = readable(session, request_id)
        try:
            request_review.comment(session, found, user, request.form.get("comment", ""))
        except RequestError as exc:
            flash(str(exc), "error")
    return redirect(url_for("requests.show", request_id=request_id) + "#thread")


@bp.post("/requests/<int:request_id>/assign")
@signed_in_required
def assign(request_id: int) -> ResponseReturnValue:
    """Assign the request to an intake officer."""
    with catalog().transaction() as session:
        found, user = readable(session, request_id)
        officer = None
        if request.form.get("officer"):
            officer = accounts.get_user(session, request.form["officer"])
            if officer is None:
                abort(400, description="no such officer")
        try:
            request_review.assign(session, found, user, officer)
        except NotAllowed as exc:
            abort(403, description=str(exc))
        except RequestError as exc:
            flash(str(exc), "error")
    return redirect(url_for("requests.show", request_id=request_id))


def document_response(session: Session, found: DataRequest, fmt: str) -> Response:
    """The request as a document in one of :data:`FORMATS`, as its reader may see it."""
    if fmt not in FORMATS:
        abort(404)
    lines, hidden = data_requests.lines_of(found, audience())
    doc = document(found, lines, hidden, contacts_for(session, found))
    response = Response(RENDERERS[fmt](doc), mimetype=MEDIA_TYPES[fmt])
    response.headers.set("Content-Disposition", "attachment",
                         filename=f"data-request-{found.id}.{fmt}")
    return response


@bp.get("/requests/<int:request_id>/document.<fmt>")
@signed_in_required
def download(request_id: int, fmt: str) -> ResponseReturnValue:
    """The request as DOCX, PDF, Markdown or JSON."""
    with catalog().session() as session:
        found, _ = readable(session, request_id)
        return document_response(session, found, fmt)
