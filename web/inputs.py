"""What every request body must be before any view reads it.

A JSON body is parsed by :class:`CatalogJSONProvider`, which refuses what would break later:
text that cannot be written as UTF-8 (a lone surrogate such as ``"\\ud800"``, which JSON
allows but no page, document or database can hold), NUL characters (PostgreSQL refuses
them), and nesting too deep to parse. :func:`check_bodies` turns such a body, or a form
field holding a NUL, into a 400 that says what is wrong, before the view runs — so nothing
of it is ever stored.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, current_app, request
from flask.json.provider import DefaultJSONProvider

CHANGES = ("POST", "PUT", "PATCH", "DELETE")
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def text_problem(value: Any) -> str | None:
    """What makes a parsed JSON value unstorable (None: nothing), walked without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            problem = _string_problem(item)
            if problem:
                return problem
    return None


def _string_problem(text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "a string holds a lone UTF-16 surrogate (such as \\ud800), which is no text"
    if "\x00" in text:
        return "a string holds a NUL character (\\u0000)"
    return None


class CatalogJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with the input rules above on every body parsed."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("the JSON is nested too deeply") from None
        except ValueError as exc:
            if "integer string conversion" in str(exc):  # Python's cap on digits
                raise ValueError("a number has more than 4,300 digits") from None
            raise
        problem = text_problem(value)
        if problem:
            raise ValueError(problem)
        return value


def check_bodies() -> None:
    """400 for a JSON body or a form field that breaks the rules, naming the problem."""
    if request.method not in CHANGES:
        return
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    too_large = f"The body is larger than the {(limit or 0) // (1024 * 1024)} MB the " \
        "catalog reads; nothing of it was used."
    if limit and (request.content_length or 0) > limit:
        abort(413, description=too_large)
    # A body sent in chunks has no length to check first: the stream is cut at the limit,
    # and a body that reaches it is refused rather than the cut part used.
    if limit and request.content_length is None and request.mimetype not in FORMS \
            and len(request.get_data(cache=True)) >= limit:
        abort(413, description=too_large)
    if request.is_json and request.get_data(cache=True):
        try:
            current_app.json.loads(request.get_data(cache=True))
        except ValueError as exc:  # json's own errors are ValueErrors too
            abort(400, description=f"The body is not valid JSON: {_short(exc)}.")
    elif request.mimetype in FORMS:
        for key, value in request.form.items(multi=True):
            problem = _string_problem(key) or _string_problem(value)
            if problem:
                abort(400, description=f"The form is not valid: {problem}.")


def _short(exc: BaseException) -> str:
    return str(exc)[:200].rstrip(".")


def install(app: Flask) -> None:
    """Use the JSON provider and check every body before its view."""
    app.json_provider_class = CatalogJSONProvider
    app.json = CatalogJSONProvider(app)
    app.before_request(check_bodies)
