"""What a production server adds to every answer: compression, validators, cache rules, CORS,
and the ``/healthz`` probe.

* **Compression** (flask-compress): gzip, Brotli or zstd as the client accepts, for HTML,
  JSON, XML, CSV and the RDF and feed formats, above 500 bytes.
* **ETag and Cache-Control** on every successful GET: a strong ETag of the body, and
  ``304 Not Modified`` when ``If-None-Match`` names it (whatever encoding it was sent in).
  What an anonymous visitor gets (no cookie, no token, no cookie set) is the same for
  everyone: ``public, max-age=0, must-revalidate``, so shared caches may keep it and must
  check back; anything else is ``private, no-cache``. Errors are ``no-store``. Static files
  may be kept an hour.
* **CORS** for ``/api/`` and ``/data.json``, off unless ``CATALOG_CORS_ORIGINS`` names the
  origins (or ``*``); no credentials are ever allowed cross-origin.
* ``/healthz``: whether the database, the search engine and Redis (when configured) answer,
  each with how long it took; 503 when the database or the search engine does not, 200
  ("degraded") when only Redis does not. It names no address and quotes no error (either
  could carry a password).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request, session
from flask_compress import Compress
from flask_cors import CORS
from sqlalchemy import text

from indexer.jobs.connection import queue_available
from web.current import catalog, db

bp = Blueprint("serving", __name__)

COMPRESSED = [
    "text/html",
    "text/css",
    "text/plain",
    "text/csv",
    "text/xml",
    "text/turtle",
    "text/markdown",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/ld+json",
    "application/schema+json",
    "application/atom+xml",
    "application/opensearchdescription+xml",
    "image/svg+xml",
]
ENCODINGS = ("gzip", "br", "deflate", "zstd")
PUBLIC = "public, max-age=0, must-revalidate"
PRIVATE = "private, no-cache"


def _personal() -> bool:
    """Whether the request carries who is asking (a cookie or a token)."""
    return bool(request.headers.get("Cookie") or request.headers.get("Authorization"))


def _matches(etag: str) -> bool:
    """Whether If-None-Match names this body, in any encoding flask-compress tagged it."""
    wanted = {etag, *(f"{etag}:{e}" for e in ENCODINGS)}
    sent = request.if_none_match
    return sent.star_tag or any(tag in wanted for tag in sent.as_set())


def cache_headers(response: Response) -> Response:
    """ETag, Cache-Control and 304s for successful GETs; no-store for errors."""
    if request.method not in ("GET", "HEAD"):
        return response
    if response.status_code >= 400:
        response.headers.setdefault("Cache-Control", "no-store")
        return response
    if response.status_code != 200 or response.is_streamed or response.direct_passthrough:
        return response
    if "Cache-Control" not in response.headers:
        # The session cookie is written after this runs: ask the session itself.
        personal = _personal() or session.modified
        response.headers["Cache-Control"] = PRIVATE if personal else PUBLIC
    vary = {v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()}
    for header in ("Cookie", "Authorization"):
        if header.lower() not in vary:
            response.vary.add(header)
    if response.get_etag()[0] is None:
        response.set_etag(hashlib.blake2b(response.get_data(), digest_size=16).hexdigest())
    etag = response.get_etag()[0]
    if etag and _matches(etag):
        response.status_code = 304
        response.set_data(b"")
        response.headers.pop("Content-Length", None)
    return response


def _timed(check: Callable[[], Any]) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        result = check()
    except Exception:  # the probe says down; the error itself may quote a URL with a password
        return {"ok": False, "ms": round((time.perf_counter() - start) * 1000, 1)}
    return {"ok": result is not False, "ms": round((time.perf_counter() - start) * 1000, 1)}


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Whether the database, the search engine and Redis answer: 503 when the database or
    the search engine does not (the node cannot serve), 200 with status "degraded" when only
    Redis does not (searching and browsing work; jobs cannot be queued), so that a load
    balancer or the compose health check does not pull a working web node."""
    engine = catalog().search_engine
    checks = {
        "database": _timed(lambda: db().execute(text("SELECT 1")).scalar_one()),
        "search": {
            **_timed(engine.count),
            "engine": type(engine).__name__.removesuffix("Engine").lower(),
        },
    }
    if catalog().settings.redis_url:
        checks["redis"] = _timed(lambda: queue_available(catalog()))
    else:
        checks["redis"] = {"ok": True, "configured": False}
    healthy = checks["database"]["ok"] and checks["search"]["ok"]
    status = "unavailable" if not healthy else "ok" if checks["redis"]["ok"] else "degraded"
    response = jsonify({"status": status, "checks": checks})
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if healthy else 503


def init_app(app: Flask, cors_origins: tuple[str, ...]) -> None:
    """Compression, cache headers, CORS (when origins are configured) and /healthz."""
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault("SEND_FILE_MAX_AGE_DEFAULT", 3600)
    # Flask runs after_request functions last-registered first: cache_headers sees the body
    # before flask-compress compresses it (and then tags the ETag with the encoding).
    Compress(app)
    app.after_request(cache_headers)
    if cors_origins:
        origins: Any = "*" if "*" in cors_origins else list(cors_origins)
        CORS(
            app,
            resources={r"/api/*": {"origins": origins}, r"/data.json": {"origins": origins}},
            supports_credentials=False,
            expose_headers=["ETag"],
        )
    app.register_blueprint(bp)
