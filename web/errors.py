"""Error pages for people and JSON errors for the API, from one set of handlers."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
FRIENDLY = {
    400: ("Bad request", "The address or the form had something we could not understand."),
    401: ("Sign in needed", "This needs you to be signed in (or, for the API, a token)."),
    403: ("Not allowed", "Your account may not do this."),
    429: ("Too many tries", "Too many tries in a short time; wait a moment and try again."),
    404: ("Page not found", "There is nothing at this address. It may have moved, or the "
          "link may be mistyped."),
    405: ("Method not allowed", "This page cannot be used that way."),
    500: ("Something went wrong", "An unexpected error occurred on our side. Please try "
          "again in a moment."),
    503: ("Service unavailable", "Part of the catalog is temporarily unavailable."),
}


def field_messages(messages: Any) -> dict[str, list[str]]:
    """marshmallow's nested messages flattened to ``{parameter: [messages]}``; a message
    from inside a parameter names where (``{"form": ["titel: Unknown field."]}``)."""
    if not isinstance(messages, dict):
        return {"_schema": _strings(messages)}
    return {str(key): _strings(value) for key, value in messages.items()}


def _strings(node: Any, path: tuple[str, ...] = ()) -> list[str]:
    if isinstance(node, dict):
        return [m for key, value in node.items()
                for m in _strings(value, path if key in _NOT_A_PLACE else (*path, str(key)))]
    if isinstance(node, (list, tuple)):
        return [m for item in node for m in _strings(item, path)]
    return [f"{'.'.join(path)}: {node}" if path else str(node)]


# marshmallow's own keys inside a parameter's messages: a dict's key or value, the schema.
_NOT_A_PLACE = ("key", "value", "_schema")


def wants_json() -> bool:
    """Whether the current request is an API request."""
    return request.path.startswith(API_PREFIX)


def json_error(
    status: int, message: str, fields: dict[str, list[str]] | None = None
) -> ResponseReturnValue:
    """A JSON error body ``{"error": {"status", "message", "fields"?}}`` with its status."""
    error: dict[str, Any] = {"status": status, "message": message}
    if fields:
        error["fields"] = fields
    return jsonify({"error": error}), status


def error_page(status: int, message: str | None = None) -> ResponseReturnValue:
    """A friendly HTML error page in the site layout."""
    title, text = FRIENDLY.get(status, (f"Error {status}", "The request could not be completed."))
    g.error_page = True  # the page names no address of its own (see web.auth.login_next)
    return render_template("error.html", status=status, title=title,
                           message=message or text), status


def own_description(exc: HTTPException) -> str | None:
    """The reason given where the error was raised (``abort(400, description=...)``,
    "The CSRF token has expired."), or None when the exception carries only its class's
    generic text, which the friendly page words better."""
    text = exc.description
    if not text or text == type(exc).description:
        return None
    return str(text)


def register_error_handlers(app: Flask) -> None:
    """JSON errors under ``/api/``, friendly pages everywhere else."""

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError) -> ResponseReturnValue:
        fields = field_messages(exc.messages)
        if wants_json():
            return json_error(400, "Invalid parameters", fields)
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items())
        return error_page(400, f"Invalid parameters. {detail}")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        if wants_json():
            text = FRIENDLY.get(status, (exc.name, ""))[1] if status >= 500 else exc.description
            body, code = json_error(status, text or exc.name)
            if status == 401:
                body.headers["WWW-Authenticate"] = 'Bearer realm="catalog"'
            return body, code
        return error_page(status, own_description(exc) if status < 500 else None)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        if isinstance(exc, HTTPException):  # pragma: no cover - handled above
            return _http(exc)
        log.exception("unhandled error on %s", request.path)
        if wants_json():
            return json_error(500, FRIENDLY[500][1])
        try:
            return error_page(500)
        except Exception:  # the layout itself failed: fall back to plain text
            log.exception("error page failed")
            return InternalServerError().get_response()
