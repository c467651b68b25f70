"""Absolute URLs of the catalog's pages, on its public address."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL: on ``CATALOG_BASE_URL`` when set, never on a Host header then."""
    base = current_app.config["CATALOG_SETTINGS"].base_url
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)
