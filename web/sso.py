"""Optional single sign-on with OpenID Connect (Authlib), configured by environment.

Set ``CATALOG_OIDC_ISSUER``, ``CATALOG_OIDC_CLIENT_ID`` and ``CATALOG_OIDC_CLIENT_SECRET``
(register ``<CATALOG_BASE_URL>/login/sso/callback`` as the redirect URI at the provider).
The sign-in page then offers "Sign in with …" beside the password form; it is never
required. A person is matched to an account by the provider's subject (once linked) or by
a verified e-mail address; without an account they are refused, unless
``CATALOG_OIDC_CREATE_VIEWERS=1`` lets them in as a new viewer. Roles and agencies are
always set in the catalog, never taken from the provider.
"""

from __future__ import annotations

import logging
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, current_app, flash, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from catalog import accounts
from catalog.config import Settings
from catalog.models import User
from catalog.vocabulary import Role
from web.auth import safe_next, sign_in
from web.current import catalog
from web.urls import external_url

log = logging.getLogger(__name__)
bp = Blueprint("sso", __name__)
PROVIDER = "catalog_oidc"


def _settings() -> Settings:
    return current_app.config["CATALOG_SETTINGS"]


def init_app(app: Flask, settings: Settings) -> None:
    """Register the provider and the routes when single sign-on is configured."""
    app.register_blueprint(bp)
    if not (settings.oidc_issuer and settings.oidc_client_id):
        return
    oauth = OAuth(app)
    issuer = settings.oidc_issuer.rstrip("/")
    oauth.register(
        PROVIDER, client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile"})
    app.extensions["catalog_oauth"] = oauth


def _client() -> Any:
    oauth = current_app.extensions.get("catalog_oauth")
    return getattr(oauth, PROVIDER) if oauth is not None else None


@bp.get("/login/sso")
def start() -> ResponseReturnValue:
    """Send the visitor to the provider (with state and nonce, checked on return)."""
    client = _client()
    if client is None:
        return redirect(url_for("auth.login"))
    session["sso_next"] = safe_next(request.args.get("next"))
    try:
        return client.authorize_redirect(external_url("sso.callback"))
    except Exception as exc:  # the provider is down or misconfigured: passwords still work
        log.warning("single sign-on provider unavailable: %s", exc)
        flash("Single sign-on is unavailable right now; sign in with a password.", "error")
        return redirect(url_for("auth.login"))


@bp.get("/login/sso/callback")
def callback() -> ResponseReturnValue:
    """Back from the provider: match the person to an account and sign them in."""
    client = _client()
    if client is None:
        return redirect(url_for("auth.login"))
    try:
        token = client.authorize_access_token()
        claims = token.get("userinfo") or client.userinfo()
    except Exception as exc:  # any protocol failure: refuse, and say so without details
        log.warning("single sign-on failed: %s", exc)
        flash("Single sign-on did not succeed; try again or sign in with a password.", "error")
        return redirect(url_for("auth.login"))
    user_id = _match(claims)
    if user_id is None:
        flash("There is no account for you in the catalog yet; ask an administrator.", "error")
        return redirect(url_for("auth.login"))
    target = safe_next(session.pop("sso_next", None))  # before sign-in renews the session
    with catalog().session() as tx:
        user = tx.get(User, user_id)
        assert user is not None
        sign_in(user, via="sso")
    flash("Signed in.", "info")
    return redirect(target)


def _match(claims: dict[str, Any]) -> int | None:
    """The id of the account the provider's claims belong to (linked on first match)."""
    subject = f"{claims.get('iss', '')}|{claims.get('sub', '')}"
    email = str(claims.get("email") or "").strip().lower()
    verified = claims.get("email_verified") in (True, "true", "True", 1)
    with catalog().transaction() as tx:
        from sqlalchemy import select

        user = tx.scalar(select(User).where(User.sso_subject == subject))
        if user is None and email and verified:
            user = accounts.get_user(tx, email)
            if user is not None and user.sso_subject is None:
                user.sso_subject = subject
        if user is None and email and verified and _settings().oidc_create_viewers:
            user = accounts.create_user(tx, email, Role.VIEWER, name=claims.get("name"),
                                        sso_subject=subject)
        if user is None or not user.active:
            return None
        return user.id
