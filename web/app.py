"""The Flask app factory: wires a :class:`Catalog` to the blueprints and templates."""

from __future__ import annotations

import logging
import os
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from markupsafe import Markup
from werkzeug.routing import IntegerConverter, Map

from catalog import accounts
from catalog.config import Settings, load_settings
from catalog.models import MAX_ID
from catalog.redact import install_log_redaction
from catalog.request_form import MAX_TEXT
from catalog.service import Catalog
from catalog.vocabulary import (
    AccessLevel,
    DatasetStatus,
    JobStatus,
    RequestStatus,
    ResultKind,
    Role,
    RunStatus,
    SearchMode,
    Sensitivity,
)
from web import (
    account,
    api,
    auth,
    browse,
    ckan_api,
    codebook,
    data_requests,
    dcat,
    discovery,
    exports,
    inputs,
    intake,
    jobs,
    jsonld,
    openapi,
    requests_api,
    scorecards,
    search,
    search_export,
    serving,
    sources,
    sso,
    steward,
    steward_api,
    steward_bulk,
    suggestions,
    users,
)
from web.access import shows_access_levels
from web.current import close_db
from web.errors import register_error_handlers
from web.present import ACCESS_HELP, FACET_TITLES, KIND_LABELS, SENSITIVITY_HELP, facet_label

# The vocabularies, for templates to compare with (``job.status == JobStatus.RUNNING``).
VOCABULARIES = {v.__name__: v for v in (AccessLevel, DatasetStatus, JobStatus, RequestStatus,
                                        ResultKind, RunStatus, SearchMode, Sensitivity)}
# Links of the account menu: (endpoint, label, roles that see it).
SIGNED_IN = tuple(r.value for r in Role)
ACCOUNT_LINKS = (
    ("requests.cart", "Request", SIGNED_IN),
    ("requests.index", "My requests", SIGNED_IN),
    ("requests.signoffs", "Sign-offs", (Role.STEWARD,)),
    ("suggestions.mine", "My suggestions", SIGNED_IN),
    ("suggestions.queue", "Review suggestions", (Role.STEWARD, Role.ADMIN)),
    ("intake.queue", "Intake", (Role.INTAKE, Role.ADMIN)),
    ("users.index", "Users", (Role.ADMIN,)),
)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class DatabaseId(IntegerConverter):
    """``<int:…>`` in routes: a non-negative id the database can hold; larger ones are 404."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


MAX_REQUEST_BYTES = 8 * 1024 * 1024


log = logging.getLogger(__name__)

SECRET_KEY_FILE = "secret_key"  # in the data directory, when CATALOG_SECRET_KEY is not set


def secret_key(settings: Settings) -> str:
    """The key that signs session cookies: ``CATALOG_SECRET_KEY``, else one kept in the data
    directory (made on first start, readable by its owner only).

    Every process that serves the app must sign with the same key, or a sign-in made on one
    gunicorn worker is "expired" on the next: a key drawn afresh per process broke sign-in
    under the documented two workers. The file serves the processes of one host (and
    survives restarts); several hosts need ``CATALOG_SECRET_KEY`` set alike.
    """
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / SECRET_KEY_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _read_key(path)
        with os.fdopen(handle, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32))
        log.info("made the web app's secret key in %s (set CATALOG_SECRET_KEY when several "
                 "hosts serve the app)", path)
        return _read_key(path)
    except OSError as exc:
        log.error("CATALOG_SECRET_KEY is not set and %s cannot hold one (%s): this process "
                  "signs sessions with a key of its own, so sign-ins do not carry over to "
                  "other processes or restarts; set CATALOG_SECRET_KEY", path, exc.strerror)
        return secrets.token_hex(32)


def _read_key(path: Path) -> str:
    """The key in ``path``, waiting briefly for the process that is writing it."""
    for _ in range(50):
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 32:
            return key
        time.sleep(0.02)
    raise OSError(0, f"{path} holds no key (remove it to have a new one made)")


def create_app(catalog: Catalog | None = None, settings: Settings | None = None) -> Flask:
    """Build the web app around a catalog (one is opened from settings when not given)."""
    settings = settings or (catalog.settings if catalog is not None else load_settings())
    if catalog is None:
        catalog = Catalog(settings)
    install_log_redaction()
    app = Flask(__name__)
    app.url_map.converters["int"] = DatabaseId
    secure = (settings.base_url or "").lower().startswith("https://")
    app.config.update(
        SECRET_KEY=secret_key(settings),
        JSON_SORT_KEYS=False,
        CATALOG_SETTINGS=settings,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=accounts.SESSION_LONGEST,
        PREFERRED_URL_SCHEME="https" if secure else "http",
        # No request body needs more (a steward's bulk upload is at most 5 MB): a larger
        # one is refused (413) before it is read.
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
    )
    inputs.install(app)
    app.json.sort_keys = False
    app.extensions["catalog"] = catalog

    app.register_blueprint(search.bp)
    app.register_blueprint(browse.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(sources.bp)
    app.register_blueprint(jobs.bp)
    auth.init_app(app)
    app.register_blueprint(account.bp)
    app.register_blueprint(users.bp)
    app.register_blueprint(data_requests.bp)
    app.register_blueprint(requests_api.bp)
    app.register_blueprint(intake.bp)
    sso.init_app(app, settings)
    app.register_blueprint(exports.bp)
    app.register_blueprint(ckan_api.bp)
    app.register_blueprint(dcat.bp)
    app.register_blueprint(jsonld.bp)
    app.register_blueprint(discovery.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(codebook.bp)
    app.register_blueprint(search_export.bp)
    serving.init_app(app, settings.cors_origins)
    for blueprint in (steward.bp, steward_api.bp, steward_bulk.bp, suggestions.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(scorecards.bp)
    register_error_handlers(app)
    app.teardown_appcontext(close_db)

    app.jinja_env.globals.update(VOCABULARIES)  # seen by imported macros too
    app.jinja_env.globals["max_text"] = MAX_TEXT  # the longest text a request part holds
    app.jinja_env.globals["access_help"] = ACCESS_HELP  # imported macros use it too

    @app.context_processor
    def _globals() -> dict[str, object]:
        return {
            "site_name": "State Data Catalog",
            "show_access_level": shows_access_levels(),
            "kind_labels": KIND_LABELS,
            "facet_label": facet_label,
            "facet_titles": FACET_TITLES,
            "sensitivity_help": SENSITIVITY_HELP,
            "current_endpoint": request.endpoint or "",
            "account": auth.current_account(),
            "account_links": ACCOUNT_LINKS,
            "login_next": auth.login_next,
            "is_admin": auth.is_admin(),
            "csrf_token": auth.csrf_token,
        }

    @app.template_filter("thousands")
    def _thousands(value: int | None) -> str:
        return f"{value or 0:,}"

    @app.template_filter("plural")
    def _plural(count: int, singular: str, plural: str | None = None) -> str:
        word = singular if count == 1 else (plural or singular + "s")
        return f"{count:,} {word}"

    @app.template_filter("mono")
    def _mono(value: str | None) -> Markup:
        return Markup("<code>{}</code>").format(value or "")

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app
