"""Secrets kept out of sight: credentials in URLs and options, and text quoted from sources.

Where something reaches a person other than an administrator (pages, the API, run and job
records, dataset provenance, logs) it passes through here:

* :func:`mask_url` hides a URL's password (``https://user:••••••@host``) and the values of
  query parameters whose names look like credentials (``?app_token=••••••``);
* :func:`mask_options` hides, at any depth and whatever their type, the values of options
  whose names look like credentials (token, key, secret, password, pwd, pass, auth,
  credential, cookie, session, signature, and ``headers`` as a whole); ``${VAR}`` references
  stay visible, since they name a variable, not its value;
* :func:`redact` masks every URL in a text and any of the given secret values;
* :func:`quoted` marks text quoted from a source's response (an error page, say), and
  :func:`without_quotes` replaces it for those who may not read it: what a remote server
  says is shown to administrators only, and cut short.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

MASK = "••••••"
SECRET_NAME = re.compile(
    r"token|key|secret|passw|pwd|pass\b|^pass|auth|credential|cookie|session|signature|"
    r"^sig$|headers?$|bearer|private", re.IGNORECASE)
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>«»]+")
QUOTE_OPEN, QUOTE_CLOSE = "«", "»"
QUOTED = re.compile(f"{QUOTE_OPEN}.*?(?:{QUOTE_CLOSE}|$)", re.DOTALL)
QUOTE_HIDDEN = "(the source's response is shown to administrators only)"
MIN_SECRET = 4  # shorter values ("1", "yes") would mask ordinary words


def secret_name(name: str) -> bool:
    """Whether an option or parameter name looks like it holds a credential."""
    return bool(SECRET_NAME.search(name))


def mask_options(options: Any) -> Any:
    """Options with the values of credential-like names hidden, at any depth."""
    if isinstance(options, dict):
        out = {}
        for key, value in options.items():
            if secret_name(str(key)) and not _env_reference(value) and value not in (None, ""):
                out[key] = MASK
            else:
                out[key] = mask_options(value)
        return out
    if isinstance(options, list):
        return [mask_options(item) for item in options]
    if isinstance(options, str):
        return mask_url(options) if URL_IN_TEXT.fullmatch(options) else options
    return options


def _env_reference(value: Any) -> bool:
    return isinstance(value, str) and bool(ENV_REFERENCE.fullmatch(value.strip()))


def mask_url(url: str) -> str:
    """The URL with its password and credential-like query values hidden."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{host}" if ":" in userinfo else f"{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(secret_name(k) for k, _ in pairs):
            query = "&".join(
                f"{quote(k, safe='')}={MASK if secret_name(k) and v else quote(v, safe='')}"
                for k, v in pairs)
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def secrets_in(options: Any, url: str | None = None) -> set[str]:
    """The secret values a source carries: credential-like options, URL passwords and tokens."""
    found: set[str] = set()

    def walk(value: Any, secret: bool) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, secret or secret_name(str(key)))
        elif isinstance(value, list):
            for item in value:
                walk(item, secret)
        elif secret and value is not None and not isinstance(value, bool) \
                and not _env_reference(value):  # "${TOKEN}" names a secret, is none
            text = str(value)
            found.add(text)
            if " " in text:  # "Bearer abc…": the token alone too
                found.update(text.split())
        if isinstance(value, str) and URL_IN_TEXT.fullmatch(value):
            found.update(_url_secrets(value))

    walk(options, False)
    if url:
        found.update(_url_secrets(url))
    return {s for s in found if len(s) >= MIN_SECRET}


def _url_secrets(url: str) -> set[str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return set()
    found = set()
    if parts.password:
        found.add(parts.password)
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if secret_name(key) and value:
            found.add(value)
    return found


def redact(text: str | None, secrets: Iterable[str] = ()) -> str | None:
    """``text`` with every URL masked and each of ``secrets`` replaced by the mask."""
    if not text:
        return text
    text = URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= MIN_SECRET:
            text = text.replace(secret, MASK)
    return text


def quoted(text: str) -> str:
    """Mark text quoted from a source's response, so that visitors are not shown it."""
    return f"{QUOTE_OPEN}{text}{QUOTE_CLOSE}"


def without_quotes(text: str | None) -> str | None:
    """``text`` with what it quotes from a source's response replaced by a note."""
    if not text:
        return text
    return QUOTED.sub(QUOTE_HIDDEN, text)


class RedactingFilter(logging.Filter):
    """A logging filter that masks credentials in URLs of messages and tracebacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's text with its URLs masked; never drops a record."""
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_log_redaction() -> None:
    """Mask credentials in every log record, whichever logger or handler writes it.

    The record factory covers loggers with handlers of their own (rq's worker logger,
    Werkzeug's, gunicorn's) as well as the root's; the filter on the root's handlers
    covers records made before this was installed. Installing twice changes nothing.
    """
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "redacting", False):
        return
    masking = RedactingFilter()

    def redacting_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        masking.filter(record)
        return record

    setattr(redacting_record, "redacting", True)  # noqa: B010 (a mark on a function)
    logging.setLogRecordFactory(redacting_record)
