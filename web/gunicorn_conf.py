"""gunicorn settings for the web app: ``gunicorn -c python:web.gunicorn_conf web.wsgi:app``.

Sizing (environment variables, with defaults for a 2-core machine with 4 GB or more):

``CATALOG_WEB_WORKERS`` (default 2)
    Processes. Each holds its own embedding model: with the default e5-small-v2
    (onnxruntime) about 215 MB resident once it has answered a semantic search
    (tests/test_serving.py prints it: 211 MB); with all-MiniLM-L6-v2, which loads PyTorch,
    about 1 GB. Workers are not forked from a loaded model (``preload_app`` is off): the
    runtimes' thread pools do not survive a fork. Rule of thumb: at most one worker per
    core, and their memory must fit beside the database and the search engine. Every
    worker signs sessions with the same key (``CATALOG_SECRET_KEY``, or the one kept in the
    data directory: ``web.app.secret_key``).
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
