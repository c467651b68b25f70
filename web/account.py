"""A signed-in person's own page: who they are, what they may see, and their API tokens."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from catalog import accounts
from catalog.models import User
from web.auth import current_account, signed_in_required
from web.current import catalog

bp = Blueprint("account", __name__)


def _me(session: Session) -> User:
    account = current_account()
    assert account is not None
    user = session.get(User, account.user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/account")
@signed_in_required
def show() -> ResponseReturnValue:
    """The account page: role, agencies stewarded, API tokens."""
    return _render()


def _render(new_token: str | None = None, status: int = 200) -> ResponseReturnValue:
    with catalog().session() as session:
        user = _me(session)
        tokens = accounts.tokens_of(session, user)
        stewardships = [(s.agency, s.data_officer) for s in user.stewardships]
        return render_template("account.html", user=user, tokens=tokens,
                               stewardships=stewardships, new_token=new_token,
                               when=accounts.when), status


@bp.post("/account/tokens")
@signed_in_required
def create_token() -> ResponseReturnValue:
    """Create an API token; it is shown on this one page and never again."""
    label = request.form.get("label", "")[:200]
    with catalog().transaction() as session:
        token, _ = accounts.issue_token(session, _me(session), label)
    return _render(new_token=token, status=201)


@bp.post("/account/tokens/<int:token_id>/revoke")
@signed_in_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    """Revoke one of my tokens: it stops working at once."""
    with catalog().transaction() as session:
        done = accounts.revoke_token(session, _me(session), token_id)
    if not done:
        abort(404)
    flash("The token was revoked.", "info")
    return redirect(url_for("account.show"))
