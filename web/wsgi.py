"""The WSGI entry point for production servers: ``gunicorn web.wsgi:app``.

The app is built from ``CATALOG_*`` environment variables, once per worker process (each
worker loads its own copy of the embedding model on the first search; see
:mod:`web.gunicorn_conf` for sizing).
"""

from __future__ import annotations

from web.app import create_app

app = create_app()
