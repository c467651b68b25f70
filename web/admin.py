"""Administrators: who may start work from the web app (harvest now, rebuild, retry).

Admin actions are off unless ``CATALOG_ADMIN_TOKEN`` is set. An administrator signs in with
that token and gets a session flag. Every action is a POST carrying the session's CSRF
token. Being an administrator does not widen what metadata one sees: access levels are
decided in :mod:`web.access` alone.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

bp = Blueprint("admin", __name__)


def admin_enabled() -> bool:
    """True when an admin token is configured."""
    return bool(current_app.config["CATALOG_SETTINGS"].admin_token)


def is_admin() -> bool:
    """True when the visitor signed in as an administrator."""
    return admin_enabled() and bool(session.get("admin"))


def csrf_token() -> str:
    """The session's CSRF token (created on first use)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Abort with 400 unless the form carries the session's CSRF token."""
    sent = request.form.get("csrf", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        abort(400, description="The form expired or did not come from this site; try again.")


def admin_action(view: Callable[..., Any]) -> Callable[..., Any]:
    """A POST view only administrators may use (403 otherwise), CSRF-checked."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not is_admin():
            abort(403)
        check_csrf()
        return view(*args, **kwargs)
    return wrapped


def safe_next(target: str | None) -> str:
    """A local path to go back to (never another site)."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("jobs.index")


@bp.route("/admin/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign in with the admin token."""
    if not admin_enabled():
        return render_template("admin_login.html", disabled=True), 404
    if request.method == "POST":
        check_csrf()
        given = request.form.get("token", "")
        expected = current_app.config["CATALOG_SETTINGS"].admin_token
        if given and hmac.compare_digest(given.encode(), expected.encode()):
            session["admin"] = True
            flash("Signed in as an administrator.", "info")
            return redirect(safe_next(request.form.get("next")))
        flash("That token is not right.", "error")
        return render_template("admin_login.html", disabled=False), 403
    return render_template("admin_login.html", disabled=False)


@bp.post("/admin/logout")
def logout() -> ResponseReturnValue:
    """Sign out."""
    check_csrf()
    session.pop("admin", None)
    flash("Signed out.", "info")
    return redirect(url_for("search.home"))
