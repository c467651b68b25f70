"""The catalog and the database session of the current request."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from catalog.service import Catalog


def catalog() -> Catalog:
    """The app's :class:`Catalog`."""
    return current_app.extensions["catalog"]


def db() -> Session:
    """A database session for this request, closed when the request ends."""
    if "db_session" not in g:
        g.db_session = catalog().session()
    return g.db_session


def close_db(_exc: BaseException | None = None) -> None:
    """Close the request's session, if one was opened."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
