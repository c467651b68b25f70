"""Secrets stay hidden: URL credentials, credential-like options, quoted responses.

Unit cases for :mod:`catalog.redact`, then a real harvest of a source that carries secrets
in its URL and its options: its run record, its job record and the datasets' provenance hold
none of them. (The pages and the API are crawled for them in tests/test_leaks.py.)
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from catalog.models import Change, Dataset, HarvestRun, Job, Source
from catalog.redact import (
    MASK,
    QUOTE_HIDDEN,
    RedactingFilter,
    install_log_redaction,
    mask_options,
    mask_url,
    quoted,
    redact,
    secrets_in,
    without_quotes,
)
from catalog.service import Catalog
from catalog.sources import save_source, source_as_dict, validate_source
from indexer import jobs
from tests.replay_server import ReplayServer


@pytest.mark.parametrize("url, expected", [
    ("https://user:hunter22@portal.example/data.json",
     f"https://user:{MASK}@portal.example/data.json"),
    ("https://tokenonly@portal.example/x", f"https://{MASK}@portal.example/x"),
    ("https://portal.example/api?app_token=abc123&limit=5",
     f"https://portal.example/api?app_token={MASK}&limit=5"),
    ("https://portal.example/api?apikey=k&access_token=t&sig=s&page=2",
     f"https://portal.example/api?apikey={MASK}&access_token={MASK}&sig={MASK}&page=2"),
    ("https://portal.example/api?limit=5", "https://portal.example/api?limit=5"),
    ("/local/folder", "/local/folder"),
])
def test_mask_url(url: str, expected: str) -> None:
    assert mask_url(url) == expected


def test_mask_options_at_any_depth_and_of_any_type() -> None:
    options = {
        "apikey": "k-123", "app_token": 123456, "pwd": "p", "credentials": {"user": "u"},
        "headers": {"Authorization": "Bearer abc.def"}, "auth": ["a", "b"],
        "nested": {"deeper": {"password": "pw", "limit": 5}},
        "Cookie": "s=1", "session_id": "x", "client_secret": True,
        "env": "${SOCRATA_APP_TOKEN}", "token": "${SOCRATA_APP_TOKEN}",
        "organization": "health", "rows": 100, "empty_key": "",
        "url": "https://u:p4ss@h.example/x",
    }
    masked = mask_options(options)
    for key in ("apikey", "app_token", "pwd", "credentials", "headers", "auth", "Cookie",
                "session_id", "client_secret"):
        assert masked[key] == MASK, key
    assert masked["nested"] == {"deeper": {"password": MASK, "limit": 5}}
    assert masked["token"] == "${SOCRATA_APP_TOKEN}"  # a reference, not a value
    assert masked["organization"] == "health" and masked["rows"] == 100
    assert masked["empty_key"] == ""
    assert masked["url"] == f"https://u:{MASK}@h.example/x"
    assert options["apikey"] == "k-123"  # the original is not changed


def test_secrets_in_and_redact() -> None:
    options = {"headers": {"Authorization": "Bearer abc.def.ghi"}, "apikey": "k-98765",
               "app_token": 424242, "limit": 5}
    url = "https://user:hunter22@portal.example/api?app_token=tok-777"
    found = secrets_in(options, url)
    assert {"Bearer abc.def.ghi", "abc.def.ghi", "k-98765", "424242", "hunter22",
            "tok-777"} <= found
    assert "5" not in found
    text = (f"{url}: HTTP 401 for key k-98765 with abc.def.ghi; "
            "see https://portal.example/help?token=zzz9")
    cleaned = redact(text, found)
    for secret in ("hunter22", "tok-777", "k-98765", "abc.def.ghi", "zzz9"):
        assert secret not in cleaned
    assert "portal.example/api" in cleaned


def test_quoted_response_text_is_hidden_from_visitors() -> None:
    message = f"https://x.example/a: HTTP 500 Internal Server Error: {quoted('<h1>db pw=1</h1>')}"
    assert without_quotes(message) == (
        f"https://x.example/a: HTTP 500 Internal Server Error: {QUOTE_HIDDEN}")
    assert without_quotes("no quote here") == "no quote here"
    assert "pw=1" not in without_quotes(f"first: {quoted('cut short…')}")


def test_the_log_filter_masks_urls_in_messages_and_tracebacks() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "fetching %s failed",
                               ("https://u:secretpw@h.example/?apikey=abc123",), None)
    assert RedactingFilter().filter(record)
    assert "secretpw" not in record.getMessage() and "abc123" not in record.getMessage()
    try:
        raise ValueError("https://u:secretpw@h.example/")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    RedactingFilter().filter(record)
    assert "secretpw" not in (record.exc_text or "")


SECRETS = ("hunter22", "tok-777", "k-98765", "abc.def.ghi", "pw-nested-1", "31415926")


def test_a_harvest_of_a_secret_bearing_source_keeps_no_secret(new_catalog: Catalog) -> None:
    served: dict[str, Any] = {
        "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
        "dataset": [{"identifier": "d1", "title": "One", "describedBy": "/dict.csv",
                     "describedByType": "text/csv"},
                    {"identifier": "d2", "title": "Two"}]}
    routes = {
        "/data.json": (200, {"Content-Type": "application/json"}, served),
        "/dict.csv": (500, {"Content-Type": "text/plain"},
                      "internal error: key k-98765 rejected, token abc.def.ghi"),
    }
    with ReplayServer(routes) as server:
        host = server.url.removeprefix("http://")
        url = f"http://user:hunter22@{host}/data.json?app_token=tok-777"
        with new_catalog.transaction() as session:
            # Options a dcat harvester does not read, stored as before options were
            # checked per type: still masked and redacted.
            source = validate_source({"name": "secretive", "type": "dcat", "url": url,
                                      "options": {"retries": 0}})
            source["options"] = {"apikey": "k-98765", "retries": 0,
                                 "headers": {"Authorization": "Bearer abc.def.ghi"},
                                 "nested": {"password": "pw-nested-1"}, "app_token": 31415926}
            save_source(session, source)
        job = jobs.submit(new_catalog, "harvest", {"source": "secretive"}, actor="test")
        served["dataset"] = []  # the next run fails: the source suddenly lists nothing
        failed = jobs.submit(new_catalog, "harvest", {"source": "secretive"}, actor="test")
    assert job.status == "finished" and failed.status == "failed"
    with new_catalog.session() as session:
        kept = json.dumps([
            [(r.errors, r.counts) for r in session.query(HarvestRun)],
            [(j.error, j.result, j.traceback) for j in session.query(Job)],
            [(d.provenance, d.extra) for d in session.query(Dataset)],
            [(c.before, c.after) for c in session.query(Change)],
        ], default=str)
        shown = json.dumps(source_as_dict(session.query(Source).one()))
    assert "describedBy" in kept and "HTTP 500" in kept  # the errors are there…
    for secret in SECRETS:  # …without a single secret
        assert secret not in kept, secret
        assert secret not in shown, secret


def test_log_redaction_covers_loggers_with_handlers_of_their_own() -> None:
    """rq's worker logger writes through its own handler, not the root's: still masked."""
    import io

    stream = io.StringIO()
    own = logging.getLogger("rq.worker.test-redaction")
    handler = logging.StreamHandler(stream)
    own.addHandler(handler)
    own.propagate = False
    previous = logging.getLogRecordFactory()
    try:
        install_log_redaction()
        install_log_redaction()
        own.warning("fetching %s", "https://harvester:s3cr3t-pass@data.example.gov/api?app_token=tok12345")
        try:
            raise RuntimeError("GET https://u:hunter22@x.example.gov/ failed")
        except RuntimeError:
            own.exception("job failed")
    finally:
        logging.setLogRecordFactory(previous)
        own.removeHandler(handler)
    written = stream.getvalue()
    assert "data.example.gov" in written and "job failed" in written
    for secret in ("s3cr3t-pass", "tok12345", "hunter22"):
        assert secret not in written, written


def test_a_missing_variable_is_named_with_its_option(monkeypatch: pytest.MonkeyPatch) -> None:
    """``${VAR}`` names a secret without being one: the error says which option and which
    variable (it was masked as •••••• and the operator could not tell what to export)."""
    from catalog.sources import SourceError, expand_options

    monkeypatch.delenv("NOPE_TOKEN", raising=False)
    options = {"app_token": "${NOPE_TOKEN}", "headers": {"X-Key": "${NOPE_TOKEN}"}}
    assert secrets_in(options) == set()
    with pytest.raises(SourceError) as raised:
        expand_options(options)
    message = redact(str(raised.value), secrets_in(options))
    assert message.startswith("option app_token refers to ${NOPE_TOKEN}, which is not set")
    monkeypatch.setenv("NOPE_TOKEN", "tok-31337")
    assert "tok-31337" in secrets_in(expand_options(options))
