"""A Flask app served for real on a free localhost port, for clients that speak HTTP.

Harvests may reach it (it lists itself in ``CATALOG_HARVEST_ALLOWED_HOSTS`` while it runs),
so our own harvesters can read this catalog back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import make_server

from tests.replay_server import allow_harvests_to


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` from a background thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    address = f"127.0.0.1:{server.server_port}"
    allow_harvests_to(address)
    try:
        yield f"http://{address}"
    finally:
        allow_harvests_to(address, allowed=False)
        server.shutdown()
        thread.join(timeout=10)
