"""gunicorn settings for the web app: ``gunicorn -c python:web.gunicorn_conf web.wsgi:app``.

Sizing (environment variables, with defaults for a 2-core machine with 4 GB or more):

``CATALOG_WEB_WORKERS`` (default 2)
    Processes. Each holds its own embedding model and PyTorch runtime: about 1 GB
    resident once it has answered a semantic search (measured by tests/test_serving.py:
    996 MB; all-MiniLM-L6-v2 is 90 MB of weights, the rest is PyTorch). Workers are not
    forked from a loaded model (``preload_app`` is off): PyTorch's thread pools do not
    survive a fork. Rule of thumb: at most one worker
    per core, and ``workers x 1 GB`` must fit beside the database and the search engine.
``CATALOG_WEB_THREADS`` (default 4)
    Threads per worker (gthread workers). Searches spend most of their time waiting on the
    search engine or the database, so a few threads keep a core busy.
``CATALOG_WEB_TIMEOUT`` (default 60 seconds)
    A request that takes longer (a huge export) is killed and its worker replaced.
``CATALOG_WEB_BIND`` (default ``0.0.0.0:5000``)

Workers are recycled after 2,000 requests (with jitter), which bounds any slow growth of
memory; access logs go to standard output in the combined format.
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else default


bind = os.environ.get("CATALOG_WEB_BIND", "0.0.0.0:5000")
workers = _int("CATALOG_WEB_WORKERS", 2)
threads = _int("CATALOG_WEB_THREADS", 4)
worker_class = "gthread"
timeout = _int("CATALOG_WEB_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
preload_app = False
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("CATALOG_FORWARDED_ALLOW_IPS", "127.0.0.1")
