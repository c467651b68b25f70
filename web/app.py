"""The Flask app factory: wires a :class:`Catalog` to the blueprints and templates."""

from __future__ import annotations

import os

from flask import Flask, Response, request
from markupsafe import Markup

from catalog.config import Settings, load_settings
from catalog.service import Catalog
from catalog.vocabulary import (
    AccessLevel,
    DatasetStatus,
    JobStatus,
    ResultKind,
    RunStatus,
    SearchMode,
    Sensitivity,
)
from web import admin, api, browse, exports, jobs, search, sources
from web.access import allowed_access
from web.current import close_db
from web.errors import register_error_handlers
from web.present import ACCESS_HELP, FACET_TITLES, KIND_LABELS, SENSITIVITY_HELP, facet_label

# The vocabularies, for templates to compare with (``job.status == JobStatus.RUNNING``).
VOCABULARIES = {v.__name__: v for v in (AccessLevel, DatasetStatus, JobStatus, ResultKind,
                                        RunStatus, SearchMode, Sensitivity)}
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(catalog: Catalog | None = None, settings: Settings | None = None) -> Flask:
    """Build the web app around a catalog (one is opened from settings when not given)."""
    settings = settings or (catalog.settings if catalog is not None else load_settings())
    if catalog is None:
        catalog = Catalog(settings)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key or os.urandom(32).hex(),
        JSON_SORT_KEYS=False,
        CATALOG_SETTINGS=settings,
    )
    app.json.sort_keys = False
    app.extensions["catalog"] = catalog

    app.register_blueprint(search.bp)
    app.register_blueprint(browse.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(sources.bp)
    app.register_blueprint(jobs.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(exports.bp)
    register_error_handlers(app)
    app.teardown_appcontext(close_db)

    app.jinja_env.globals.update(VOCABULARIES)  # seen by imported macros too

    @app.context_processor
    def _globals() -> dict[str, object]:
        return {
            "site_name": "State Data Catalog",
            "show_access_level": len(allowed_access()) > 1,
            "kind_labels": KIND_LABELS,
            "facet_label": facet_label,
            "facet_titles": FACET_TITLES,
            "access_help": ACCESS_HELP,
            "sensitivity_help": SENSITIVITY_HELP,
            "current_endpoint": request.endpoint or "",
            "admin_enabled": admin.admin_enabled(),
            "is_admin": admin.is_admin(),
            "csrf_token": admin.csrf_token,
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
