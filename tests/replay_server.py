"""A real HTTP server on 127.0.0.1 that replays recorded responses, for the harvest tests.

Routes map a path (without the query string) to either ``(status, headers, body)`` or a
callable ``handler(request) -> (status, headers, body)``, where ``request`` is a
:class:`Request` (path, parsed query, headers, count of earlier hits on the path). A body is
``bytes``, ``str``, a JSON-able ``dict``/``list``, or an iterable of ``bytes`` chunks, which is
streamed with chunked transfer encoding as it is produced (so a 200 MB body is never held in
memory). A handler may sleep to simulate a slow server. Every request is logged in
``server.log`` as ``(monotonic time, path, query dict, headers dict)``.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from indexer.url_policy import ALLOWED_HOSTS_VARIABLE

Response = tuple[int, dict[str, str], Any]
Route = Response | Callable[["Request"], Response]


@dataclass
class Request:
    """What a handler sees of one request."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    hits: int  # earlier requests to the same path


def allow_harvests_to(address: str, allowed: bool = True) -> None:
    """Add ``host:port`` to (or remove it from) CATALOG_HARVEST_ALLOWED_HOSTS of this process.

    Harvests refuse loopback addresses unless listed there; the variable is inherited by the
    ``catalog`` subprocesses that tests start.
    """
    entries = [e for e in os.environ.get(ALLOWED_HOSTS_VARIABLE, "").split(",") if e]
    entries = [e for e in entries if e != address] + ([address] if allowed else [])
    os.environ[ALLOWED_HOSTS_VARIABLE] = ",".join(entries)


class ReplayServer:
    """A threaded HTTP server serving ``routes``; use as a context manager.

    Harvests may reach it: it lists itself in CATALOG_HARVEST_ALLOWED_HOSTS while it runs,
    unless ``allow_harvests=False`` (an "internal" server that harvests must never reach).
    """

    def __init__(self, routes: dict[str, Route] | None = None, *,
                 allow_harvests: bool = True) -> None:
        self.allow_harvests = allow_harvests
        self.routes: dict[str, Route] = dict(routes or {})
        self.log: list[tuple[float, str, dict[str, str], dict[str, str]]] = []
        self._hits: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def hits(self, path: str) -> int:
        """How many requests reached ``path``."""
        with self._lock:
            return self._hits.get(path, 0)

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``."""
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        if self.allow_harvests:
            allow_harvests_to(self.address)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.allow_harvests:
            allow_harvests_to(self.address, allowed=False)
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
                headers = {key.lower(): value for key, value in self.headers.items()}
                with server._lock:
                    hits = server._hits.get(parts.path, 0)
                    server._hits[parts.path] = hits + 1
                    server.log.append((time.monotonic(), parts.path, query, headers))
                route = server.routes.get(parts.path)
                if route is None:
                    status, extra, body = 404, {}, {"success": False, "error": {
                        "__type": "Not Found Error", "message": f"no route {parts.path}"}}
                elif callable(route):
                    status, extra, body = route(Request(parts.path, query, headers, hits))
                else:
                    status, extra, body = route
                # The client may stop reading (size limit, timeout): expected, not an error.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._send(status, extra, body)

            def _send(self, status: int, extra: dict[str, str], body: Any) -> None:
                headers = {"Content-Type": "application/json; charset=utf-8", **extra}
                if isinstance(body, (dict, list)):
                    body = json.dumps(body).encode("utf-8")
                elif isinstance(body, str):
                    body = body.encode("utf-8")
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if isinstance(body, bytes):
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if "Content-Length" in headers:  # a declared length: send the chunks raw
                    self.end_headers()
                    for chunk in _chunks(body):
                        self.wfile.write(chunk)
                    return
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for chunk in _chunks(body):
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")

        return Handler


def _chunks(body: Iterable[bytes]) -> Iterable[bytes]:
    for chunk in body:
        if chunk:
            yield chunk
