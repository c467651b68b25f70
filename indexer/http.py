"""Fetching metadata over HTTP, robustly: one guarded ``requests`` session for every harvester.

What the :class:`Fetcher` guarantees for every request, including those ``ckanapi`` makes
through :attr:`Fetcher.session`:

* a clear ``User-Agent`` (``metadata-catalog/<version>``);
* connect and read timeouts (a server that sends nothing for ``read_timeout`` seconds fails);
* retries with exponential backoff (``backoff_factor * 2 ** (attempt - 1)``, capped) for
  connection errors, timeouts and HTTP 429/500/502/503/504, honouring ``Retry-After``
  (capped at ``max_retry_after`` seconds so that a portal cannot park a run for an hour);
* a maximum response size enforced while streaming: a declared ``Content-Length`` above the
  limit fails before the body is read, and a streamed body is cut off as soon as it passes the
  limit, so a huge response is never held in memory;
* JSON checked as it arrives: a body that is not JSON (an HTML error page, say) or that is
  cut short fails with the URL, the line and the column;
* a deadline per request (``request_seconds``: connecting, waiting and reading together, so
  a server that drips one byte at a time cannot hold a run) and one for all the requests of
  a run (``run_seconds``);
* every URL, each redirect hop and the address actually connected to checked against the
  :class:`~indexer.url_policy.AddressPolicy` (public addresses, and the hosts listed in
  ``CATALOG_HARVEST_ALLOWED_HOSTS``): a harvest never reaches the catalog's own network
  because harvested content pointed there.

Every failure is a :class:`FetchError` whose message starts with the URL and names the problem.
"""

from __future__ import annotations

import json
import time
from collections.abc import Hashable, Iterator
from importlib import metadata
from typing import Any, cast

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.util.retry import Retry

from catalog.redact import QUOTE_CLOSE, QUOTE_OPEN, quoted
from indexer.url_policy import AddressPolicy, BlockedURL, guarded_pool_classes

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 0.5
DEFAULT_MAX_BACKOFF = 30.0
DEFAULT_MAX_PAGES = 1000
DEFAULT_REQUEST_SECONDS = 300.0
DEFAULT_RUN_SECONDS = 6 * 3600.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
SNIPPET_CHARS = 200
CHUNK_BYTES = 64 * 1024
READ_ERRORS = (Urllib3Error, OSError)


def _version() -> str:
    try:
        return metadata.version("metadata-catalog")
    except metadata.PackageNotFoundError:
        return "0.1.0"


USER_AGENT = f"metadata-catalog/{_version()}"


class FetchError(Exception):
    """A request failed; the message names the URL and the problem."""

    # Whether trying again later may succeed (a portal down or slow): a queued harvest job
    # is retried only then.
    transient = True

    def __init__(self, url: str, problem: str, *, status: int | None = None) -> None:
        super().__init__(f"{url}: {problem}")
        self.url = url
        self.problem = problem
        self.status = status


class PagingError(FetchError):
    """A paging loop was stopped: it repeated a page or went past the page limit."""

    transient = False


class RefusedURL(FetchError):
    """The address policy refused the URL (see :mod:`indexer.url_policy`); nothing was sent."""

    transient = False


class OutOfTime(FetchError):
    """A request or the run as a whole used up its time budget."""

    transient = False


class _GuardedAdapter(HTTPAdapter):
    """An adapter whose direct connections go only where the address policy allows."""

    def __init__(self, policy: AddressPolicy, **kwargs: Any) -> None:
        self.policy = policy
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Create the pool manager with connection classes that check each address."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = guarded_pool_classes(self.policy)


class _CappedRetry(Retry):
    """urllib3 ``Retry`` whose ``Retry-After`` waits are capped."""

    max_retry_after: float = 60.0

    def new(self, **kw: Any) -> _CappedRetry:
        retry = super().new(**kw)
        retry.max_retry_after = self.max_retry_after
        return retry

    def get_retry_after(self, response: Any) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.max_retry_after)


def _snippet(body: bytes) -> str:
    """The start of a response body, marked as quoted (shown to administrators only)."""
    text = " ".join(body[: SNIPPET_CHARS * 4].decode("utf-8", errors="replace").split())
    text = text.replace(QUOTE_OPEN, "<").replace(QUOTE_CLOSE, ">")
    return quoted(text[:SNIPPET_CHARS] + ("…" if len(text) > SNIPPET_CHARS else ""))


def _is_json_type(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json") or kind.endswith("/json")


class JSONResponse(requests.Response):
    """A response as :class:`GuardedSession` returns it: with its JSON body parsed (for typing)."""

    parsed_json: Any


class GuardedSession(requests.Session):
    """A ``requests.Session`` that applies the Fetcher's timeouts, size limit and checks.

    ``request`` always streams, reads at most ``max_bytes``, and raises :class:`FetchError`
    for transport failures, HTTP errors (>= 400) and, when ``expect_json`` (the default),
    for bodies that are not JSON. The parsed JSON is kept on ``response.parsed_json``.
    """

    def __init__(self, *, timeout: tuple[float, float], max_bytes: int, attempts: int,
                 policy: AddressPolicy | None = None,
                 request_seconds: float = DEFAULT_REQUEST_SECONDS,
                 run_seconds: float | None = None) -> None:
        super().__init__()
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.attempts = attempts
        self.expect_json = True
        self.policy = policy or AddressPolicy.from_env()
        self.request_seconds = request_seconds
        self.run_deadline = None if run_seconds is None else time.monotonic() + run_seconds

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send one request or redirect hop, after checking where its URL leads."""
        url = request.url or ""
        try:
            self.policy.check_url(url)
        except BlockedURL as exc:
            raise RefusedURL(url, exc.rule) from None
        return super().send(request, **kwargs)

    def _deadline(self, url: str) -> float:
        """When a request starting now must be done (monotonic); OutOfTime when no time is left."""
        now = time.monotonic()
        deadline = now + self.request_seconds
        if self.run_deadline is not None:
            if self.run_deadline <= now:
                raise OutOfTime(url, "not fetched: the run used up its time budget")
            deadline = min(deadline, self.run_deadline)
        return deadline

    def request(
        self, method: str, url: str, *args: Any, expect_json: bool | None = None, **kwargs: Any
    ) -> requests.Response:
        """Send one request (with retries) and read its body under the guards."""
        kwargs["stream"] = True
        url = _full_url(method, url, kwargs.get("params"))
        kwargs.pop("params", None)
        deadline = self._deadline(url)
        remaining = max(0.1, deadline - time.monotonic())
        # ckanapi passes its own default; the Fetcher's timeouts always apply, within the
        # time the request has left.
        kwargs["timeout"] = (min(self.timeout[0], remaining), min(self.timeout[1], remaining))
        try:
            response = super().request(method, url, *args, **kwargs)
        except BlockedURL as exc:  # the address connected to, after resolution
            raise RefusedURL(exc.url, exc.rule) from None
        except requests.exceptions.RetryError as exc:
            raise FetchError(url, f"gave up after {self.attempts} attempts ({_reason(exc)})") \
                from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise FetchError(url, f"gave up after {self.attempts} attempts (connect timeout "
                                  f"after {self.timeout[0]:g} s)") from exc
        except requests.exceptions.ReadTimeout as exc:
            raise FetchError(url, f"read timeout: no data for {self.timeout[1]:g} s") from exc
        except requests.exceptions.ConnectionError as exc:
            raise FetchError(url, f"gave up after {self.attempts} attempts ({_reason(exc)})") \
                from exc
        except requests.exceptions.RequestException as exc:
            raise FetchError(url, f"request failed: {exc}") from exc
        full_url = response.url or url
        try:
            body = self._read_capped(response, full_url, deadline)
        finally:
            response.close()
        response._content = body  # the checked body; .text and .json() read it
        response._content_consumed = True
        content_type = response.headers.get("Content-Type", "")
        if response.status_code >= 400:
            # A retryable status that comes back here has used up every retry.
            retried = response.status_code in RETRY_STATUSES and method.upper() == "GET"
            raise FetchError(
                full_url,
                (f"gave up after {self.attempts} attempts: " if retried else "")
                + f"HTTP {response.status_code} {response.reason or ''}".rstrip()
                + (f": {_snippet(body)}" if body.strip() else " (empty body)"),
                status=response.status_code,
            )
        if expect_json if expect_json is not None else self.expect_json:
            cast(JSONResponse, response).parsed_json = parse_json(full_url, body, content_type)
        return response

    def _read_capped(self, response: requests.Response, url: str, deadline: float) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(url, f"response larger than {self.max_bytes} bytes "
                                  f"(Content-Length {declared})")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in _chunks(response):
                size += len(chunk)
                if size > self.max_bytes:
                    raise FetchError(url, f"response larger than {self.max_bytes} bytes "
                                          f"(stopped reading at {size} bytes)")
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise OutOfTime(url, f"too slow: not complete within its time budget "
                                         f"(stopped reading after {size} bytes)")
        except requests.exceptions.RequestException as exc:
            raise FetchError(url, f"connection failed while reading the body after {size} "
                                  f"bytes ({_reason(exc)})") from exc
        except READ_ERRORS as exc:  # raised by urllib3 itself, unwrapped by requests
            wrapped = requests.exceptions.ConnectionError(exc)
            raise FetchError(url, f"connection failed while reading the body after {size} "
                                  f"bytes ({_reason(wrapped)})") from exc
        return b"".join(chunks)


def _chunks(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives: what each read returns, without waiting for a full chunk."""
    raw = response.raw
    if raw is None or not hasattr(raw, "read1"):
        yield from response.iter_content(CHUNK_BYTES)
        return
    while chunk := raw.read1(CHUNK_BYTES, decode_content=True):
        yield chunk


def _full_url(method: str, url: str, params: Any) -> str:
    """The URL with its query string, so that errors name exactly what was asked."""
    if not params:
        return url
    return requests.Request(method, url, params=params).prepare().url or url


def _reason(exc: BaseException) -> str:
    """The innermost useful reason of a requests/urllib3 exception chain."""
    reason: Any = exc.args[0] if exc.args else exc
    reason = getattr(reason, "reason", reason)
    text = str(reason)
    if "Caused by" in text:
        text = text.split("Caused by", 1)[1].strip(" ()")
    return text[:300]


def parse_json(url: str, body: bytes, content_type: str = "application/json") -> Any:
    """Decode a JSON body; FetchError for non-JSON content or JSON cut short or malformed."""
    stripped = body.lstrip()
    if stripped.startswith(b"\xef\xbb\xbf"):
        stripped = stripped[3:]
    kind = content_type.split(";", 1)[0].strip().lower() or "no content type"
    looks_json = stripped[:1] in (b"{", b"[")
    if not _is_json_type(content_type) and not looks_json:
        problem = f"expected JSON but got {kind}"
        if stripped:
            problem += f": {_snippet(stripped)}"
        raise FetchError(url, problem)
    if not stripped:
        raise FetchError(url, "expected JSON but the body is empty")
    try:
        text = stripped.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FetchError(url, f"JSON is not valid UTF-8 at byte {exc.start}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        text = text.rstrip()
        if exc.pos >= len(text) or exc.msg.startswith("Unterminated string"):
            line = text.count("\n") + 1
            column = len(text) - (text.rfind("\n") + 1) + 1
            raise FetchError(url, f"truncated JSON at line {line} column {column}: the body "
                                  f"ends after {len(body)} bytes inside an unfinished value") \
                from exc
        raise FetchError(url, f"invalid JSON at line {exc.lineno} column {exc.colno}: "
                              f"{exc.msg}") from exc
    except RecursionError as exc:
        raise FetchError(url, "invalid JSON: nested too deeply to read") from exc


class PageGuard:
    """Stops a paging loop that repeats a page or runs past ``max_pages``.

    Call :meth:`check` once per page fetched, with a fingerprint of the page's content
    (for example the tuple of its record identifiers); it raises :class:`PagingError`.
    """

    def __init__(self, url: str, max_pages: int = DEFAULT_MAX_PAGES) -> None:
        self.url = url
        self.max_pages = max_pages
        self.pages = 0
        self._seen: dict[Hashable, int] = {}

    def check(self, fingerprint: Hashable) -> None:
        """Count one page; raise PagingError when it is a repeat or one too many."""
        self.pages += 1
        if self.pages > self.max_pages:
            raise PagingError(self.url, f"paging stopped: more than {self.max_pages} pages")
        if fingerprint in self._seen:
            raise PagingError(
                self.url,
                f"paging stopped: page {self.pages} repeats page {self._seen[fingerprint]}",
            )
        self._seen[fingerprint] = self.pages


class Fetcher:
    """HTTP client for harvesting: timeouts, retries with backoff, size limit, clear errors."""

    def __init__(
        self,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff_factor: float = DEFAULT_BACKOFF,
        max_backoff: float = DEFAULT_MAX_BACKOFF,
        max_retry_after: float = 60.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_pages: int = DEFAULT_MAX_PAGES,
        user_agent: str = USER_AGENT,
        policy: AddressPolicy | None = None,
        request_seconds: float = DEFAULT_REQUEST_SECONDS,
        run_seconds: float | None = None,
    ) -> None:
        """Configure the guards; ``policy`` defaults to ``CATALOG_HARVEST_ALLOWED_HOSTS``'s.

        ``request_seconds`` bounds each request from connecting to its last byte;
        ``run_seconds`` (None: no bound) all requests of this fetcher together.
        """
        self.user_agent = user_agent
        self.max_pages = max_pages
        self.policy = policy or AddressPolicy.from_env()
        self.session = GuardedSession(
            timeout=(connect_timeout, read_timeout), max_bytes=max_bytes, attempts=retries + 1,
            policy=self.policy, request_seconds=request_seconds, run_seconds=run_seconds,
        )
        self.session.headers["User-Agent"] = user_agent
        self.session.headers["Accept"] = "application/json"
        retry = _CappedRetry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            backoff_factor=backoff_factor,
            backoff_max=max_backoff,
            status_forcelist=sorted(RETRY_STATUSES),
            allowed_methods=frozenset({"GET", "HEAD", "OPTIONS"}),
            respect_retry_after_header=True,
            raise_on_status=False,  # return the last response, so errors quote its body
        )
        retry.max_retry_after = max_retry_after
        adapter = _GuardedAdapter(self.policy, max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    @property
    def max_bytes(self) -> int:
        """The response size limit in bytes."""
        return self.session.max_bytes

    def get_json(self, url: str, *, params: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> Any:
        """GET ``url`` and return its decoded JSON body."""
        response = self.session.get(url, params=params, headers=headers)
        return cast(JSONResponse, response).parsed_json

    def get_bytes(self, url: str, *, params: dict[str, Any] | None = None,
                  headers: dict[str, str] | None = None) -> bytes:
        """GET ``url`` and return its body (any content type), within the size limit."""
        return self.session.request("GET", url, params=params, headers=headers,
                                    expect_json=False).content

    def page_guard(self, url: str, max_pages: int | None = None) -> PageGuard:
        """A :class:`PageGuard` for one paging loop over ``url``."""
        return PageGuard(url, max_pages or self.max_pages)

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
