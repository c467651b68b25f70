"""Who is asking: sign-in and sign-out, sessions, API tokens, CSRF, and role checks.

A person signs in with an e-mail address and password (:mod:`catalog.accounts` checks it,
throttles guessing, and opens a server-side session whose random key is what Flask-Login
keeps in the signed cookie), or through single sign-on (:mod:`web.sso`, when configured).
A program sends ``Authorization: Bearer <token>`` with a personal API token instead; such a
request carries no cookie and needs no CSRF token.

Every request that changes something (POST, PUT, PATCH, DELETE) made with a session cookie
must carry the session's CSRF token, as a form field ``csrf`` or an ``X-CSRF-Token``
header: one check, for every form and every endpoint, in :func:`check_csrf_globally`.

:func:`current_account` is the signed-in :class:`Account` or None; :mod:`web.access` turns it
into what the visitor may see.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from catalog import accounts
from catalog.audience import PUBLIC, Audience
from catalog.models import User
from catalog.vocabulary import Role
from web.current import catalog, db

bp = Blueprint("auth", __name__)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/api/"


@dataclass
class Account(UserMixin):
    """The signed-in person, as the request sees them (a detached copy of their account)."""

    user_id: int
    email: str
    name: str | None
    role: str
    agencies: tuple[str, ...]
    officer_of: tuple[str, ...]
    session_key: str | None = None  # None when signed in with an API token

    def get_id(self) -> str | None:
        """What Flask-Login keeps in the cookie: the key of the server-side session."""
        return self.session_key

    @property
    def label(self) -> str:
        """How the person is named on pages and in the history."""
        return self.name or self.email

    @property
    def audience(self) -> Audience:
        """What this person may see."""
        return accounts.audience_for(self.role, self.agencies)

    def stewards(self, agency_slug: str) -> bool:
        """Whether this person may edit the agency's datasets (administrators: every agency)."""
        return accounts.may_edit_for(self.role, self.agencies, agency_slug)


def account_of(user: User, session_key: str | None) -> Account:
    """The request's copy of an account."""
    return Account(user_id=user.id, email=user.email, name=user.name, role=user.role,
                   agencies=accounts.agency_slugs(user),
                   officer_of=tuple(sorted(s.agency.slug for s in user.stewardships
                                           if s.data_officer)),
                   session_key=session_key)


def current_account() -> Account | None:
    """The signed-in person, or None for an anonymous visitor."""
    user = current_user._get_current_object() if current_user else None
    return user if isinstance(user, Account) and user.is_authenticated else None


def current_audience() -> Audience:
    """What the current visitor may see."""
    account = current_account()
    return account.audience if account is not None else PUBLIC


def is_admin() -> bool:
    """Whether the visitor is a signed-in administrator."""
    account = current_account()
    return account is not None and account.role == Role.ADMIN


def web_actor() -> str:
    """How the history and job records name the visitor: ``web:<e-mail>`` signed in to the
    site, ``api:<e-mail>`` with an API token (or ``web``)."""
    account = current_account()
    if account is None:
        return "web"
    return f"{'web' if account.session_key is not None else 'api'}:{account.email}"


def client_address() -> str:
    """The visitor's address (the proxy's when behind one that is not trusted)."""
    return (request.remote_addr or "unknown")[:100]


# --------------------------------------------------------------------------- setup


def init_app(app: Flask) -> None:
    """Attach sign-in (Flask-Login), bearer tokens and the CSRF check to the app."""
    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.login_message = "Sign in to continue."
    manager.login_message_category = "info"
    manager.session_protection = None  # the server-side session is the protection
    manager.user_loader(_load_session)
    manager.request_loader(_load_bearer)
    manager.unauthorized_handler(_unauthorized)
    manager.init_app(app)
    app.before_request(refuse_bad_tokens)
    app.before_request(check_csrf_globally)
    app.register_blueprint(bp)


def _load_session(key: str) -> Account | None:
    with catalog().transaction() as session:
        user = accounts.user_for_session(session, key)
        return account_of(user, key) if user is not None else None


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer`` header, if any — or of a bare
    ``Authorization: cat_…`` header, the way CKAN clients (ckanapi) send an API key."""
    header = request.headers.get("Authorization", "").strip()
    scheme, _, token = header.partition(" ")
    if not token and scheme.startswith(accounts.TOKEN_PREFIX):
        return scheme
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _load_bearer(_request: Any) -> Account | None:
    token = bearer_token()
    if token is None:
        return None
    with catalog().transaction() as session:
        user = accounts.user_for_token(session, token)
        if user is None:
            g.bad_token = True
            return None
        return account_of(user, None)


def refuse_bad_tokens() -> None:
    """A request with an unknown or revoked API token is refused (401), not served as public;
    so is an API request with credentials of another scheme (``Basic``), which the caller
    meant to be served as someone."""
    if bearer_token() is not None and current_account() is None:
        abort(401, description="The API token is unknown or revoked.")
    scheme, named, _ = request.headers.get("Authorization", "").strip().partition(" ")
    if named and scheme.lower() != "bearer" and request.path.startswith(API_PREFIX):
        abort(401, description="The API takes its tokens as 'Authorization: Bearer <token>'; "
                               f"{scheme[:20]!r} credentials are not used.")


def _unauthorized() -> ResponseReturnValue:
    if request.path.startswith(API_PREFIX):
        abort(401)
    flash("Sign in to continue.", "info")
    return redirect(url_for("auth.login", next=safe_next(request.full_path, "")))


def login_next() -> str | None:
    """Where the "Sign in" link returns to: this page (not a sign-in page, not an error)."""
    if request.method != "GET" or request.endpoint in (None, "auth.login", "static") \
            or g.get("error_page"):
        return None
    return safe_next(request.full_path, "") or None


# ---------------------------------------------------------------------------- CSRF


def csrf_token() -> str:
    """The session's CSRF token (created on first use)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf_globally() -> None:
    """Refuse a state-changing request made with a cookie unless it carries the CSRF token."""
    if request.method not in UNSAFE_METHODS or request.routing_exception is not None:
        return None  # nothing to protect (a 404 or 405 answers it)
    if bearer_token() is not None:
        return None  # a token in a header cannot be sent by another site's form
    if request.path.startswith(API_PREFIX) and current_account() is None:
        return None  # no one signed in: nothing to forge; the endpoint answers 401
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf", "")
    expected = session.get("csrf", "")
    if not sent or not expected or not hmac.compare_digest(str(sent), str(expected)):
        if request.path.startswith(API_PREFIX):
            abort(400, description="A change made with a signed-in session needs the "
                                   "X-CSRF-Token header (the session's token); or use an API "
                                   "token (Authorization: Bearer).")
        abort(400, description="The form expired or did not come from this site; try again.")
    return None


# -------------------------------------------------------------------- role checks


def signed_in_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view for signed-in people (anonymous visitors go to the sign-in page, API: 401)."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_account() is None:
            return _unauthorized()
        return view(*args, **kwargs)
    return wrapped


def role_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A view for these roles: 401 (or the sign-in page) when signed out, 403 otherwise."""
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            account = current_account()
            if account is None:
                return _unauthorized()
            if account.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorate


admin_required = role_required(Role.ADMIN)


def safe_next(target: str | None, default: str | None = None) -> str:
    """A same-site path to go to after signing in; anything else gives ``default`` (home).

    Refused: absolute URLs, scheme-relative ``//host``, backslashes (browsers read ``/\\``
    as ``//``), control characters and their percent-encodings (``/%09/evil``).
    """
    fallback = default if default is not None else url_for("search.home")
    if not target or len(target) > 2000:
        return fallback
    decoded = unquote(unquote(target))
    for text in (target, decoded):
        if not text.startswith("/") or text.startswith("//") or "\\" in text:
            return fallback
        if any(ord(c) < 32 or ord(c) == 127 for c in text):
            return fallback
        stripped = text.lstrip("/")
        if text.startswith("/") and stripped != text[1:]:
            return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target.rstrip("?") or fallback


# ------------------------------------------------------------------------- routes


def sign_in(user: User, *, via: str = "password") -> None:
    """Start a fresh session for a user (the old cookie's content is dropped first)."""
    session.clear()  # no fixation: nothing of the anonymous session is carried over
    with catalog().transaction() as tx:
        fresh = tx.get(User, user.id)
        assert fresh is not None
        opened = accounts.open_session(tx, fresh, client_address())
        account = account_of(fresh, opened.session_key)
    login_user(account)
    session.permanent = True
    session["via"] = via


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign in with an e-mail address and password (or single sign-on, when set up)."""
    target = safe_next(request.values.get("next"))
    if current_account() is not None and request.method == "GET":
        return redirect(target)
    context = {"next": target, "sso": "catalog_oauth" in current_app.extensions,
               "sso_label": current_app.config["CATALOG_SETTINGS"].oidc_label, "email": ""}
    if request.method == "GET":
        return render_template("login.html", **context)
    email = request.form.get("email", "")[:320]
    password = request.form.get("password", "")
    context["email"] = email
    try:
        with catalog().transaction() as tx:
            user = accounts.authenticate(tx, email, password, client_address())
            user_id = user.id if user is not None else None
    except accounts.Throttled as exc:
        flash(f"Too many failed sign-ins. Try again in {exc.retry_after} seconds.", "error")
        response = current_app.make_response((render_template("login.html", **context), 429))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except accounts.AccountDisabled:
        flash("This account is disabled. Ask the catalog's administrators to enable it "
              "again.", "error")
        return render_template("login.html", **context), 403
    if user_id is None:
        flash("That e-mail address and password do not match an account.", "error")
        return render_template("login.html", **context), 401
    with catalog().session() as tx:
        found = tx.get(User, user_id)
        assert found is not None
        sign_in(found)
    flash("Signed in.", "info")
    return redirect(target)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out: the session ends on the server, so a copy of its cookie is worthless."""
    account = current_account()
    if account is not None and account.session_key:
        with catalog().transaction() as tx:
            accounts.end_session(tx, account.session_key)
    logout_user()
    session.clear()
    flash("Signed out.", "info")
    return redirect(url_for("search.home"))


__all__ = [
    "Account", "admin_required", "bp", "csrf_token", "current_account", "current_audience",
    "db", "init_app", "is_admin", "role_required", "safe_next", "sign_in",
    "signed_in_required",
]
