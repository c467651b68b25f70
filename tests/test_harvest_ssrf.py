"""Harvests never reach addresses they may not: URLs found in harvested content are checked.

An allowed source (a local server listed in CATALOG_HARVEST_ALLOWED_HOSTS, as every
ReplayServer lists itself) points, in its content, at an "internal" server on another
loopback port that is NOT listed: a ``describedBy`` dictionary, a Table Schema by reference,
links of an index page, and redirects. The internal server must receive no request at all,
and each refusal is a per-record error naming the URL and the rule. Real HTTP, real catalog.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from catalog.service import Catalog
from catalog.sources import save_source, validate_source
from indexer.harvest import harvest_source
from indexer.http import Fetcher, OutOfTime, RefusedURL
from indexer.url_policy import AddressPolicy, BlockedURL, address_rule
from tests.replay_server import ReplayServer

SECRET = "INTERNAL_ONLY_MARKER"
SECRET_CSV = f"name,description\n{SECRET}_FIELD,{SECRET} must never be published\n"


@pytest.fixture
def internal() -> Iterator[ReplayServer]:
    """A server on loopback that harvests may not reach (not in the allowed hosts)."""
    routes = {
        "/secret.csv": (200, {"Content-Type": "text/csv"}, SECRET_CSV),
        "/schema.json": (200, {"Content-Type": "application/json"},
                         {"fields": [{"name": f"{SECRET}_COLUMN", "type": "string"}]}),
        "/data.json": (200, {"Content-Type": "application/json"},
                       {"conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
                        "dataset": [{"identifier": "x", "title": SECRET}]}),
    }
    with ReplayServer(routes, allow_harvests=False) as server:
        yield server


def fetcher() -> Fetcher:
    return Fetcher(connect_timeout=1.0, read_timeout=1.0, retries=1, backoff_factor=0.01,
                   max_backoff=0.05, max_retry_after=0.5)


def harvest(catalog: Catalog, name: str, kind: str, url: str, **options: Any) -> Any:
    with catalog.transaction() as session:
        save_source(session, validate_source(
            {"name": name, "type": kind, "url": url, "options": options}))
    with fetcher() as f:
        return harvest_source(catalog, name, fetcher=f, actor="test")


def redirect(to: str) -> Any:
    return (302, {"Location": to, "Content-Length": "0"}, b"")


def test_content_pointing_at_an_internal_port_is_never_fetched(
    new_catalog: Catalog, internal: ReplayServer
) -> None:
    inside = internal.url
    dcat = {"conformsTo": "https://project-open-data.cio.gov/v1.1/schema", "dataset": [
        {"identifier": "direct", "title": "Direct", "describedBy": f"{inside}/secret.csv",
         "describedByType": "text/csv"},
        {"identifier": "redirected", "title": "Redirected",
         "describedBy": "/hop.csv", "describedByType": "text/csv"},
        {"identifier": "decimal-ip", "title": "Another spelling of loopback",
         "describedBy": f"http://2130706433:{internal.address.split(':')[1]}/secret.csv",
         "describedByType": "text/csv"},
        {"identifier": "fine", "title": "Fine", "describedBy": "/ok.csv",
         "describedByType": "text/csv"},
    ]}
    package = {"name": "pkg", "resources": [
        {"name": "table", "path": "table.csv", "schema": f"{inside}/schema.json"}]}
    index = (f'<html><body><a href="{inside}/secret.csv">secret</a>'
             f'<a href="/hop.csv">hop</a><a href="/ok.csv">ok</a></body></html>')
    routes = {
        "/data.json": (200, {"Content-Type": "application/json"}, dcat),
        "/hop.csv": redirect(f"{inside}/secret.csv"),
        "/ok.csv": (200, {"Content-Type": "text/csv"}, "name,description\nok,A fine field\n"),
        "/datapackage.json": (200, {"Content-Type": "application/json"}, package),
        "/index.html": (200, {"Content-Type": "text/html"}, index),
        "/moved.json": redirect(f"{inside}/data.json"),
    }
    with ReplayServer(routes) as allowed:
        dcat_run = harvest(new_catalog, "dcat", "dcat", f"{allowed.url}/data.json")
        package_run = harvest(new_catalog, "pkg", "frictionless",
                              f"{allowed.url}/datapackage.json")
        web_run = harvest(new_catalog, "pages", "web", f"{allowed.url}/index.html",
                          index=True)
        moved_run = harvest(new_catalog, "moved", "dcat", f"{allowed.url}/moved.json")

    assert internal.log == []  # the internal server received no request at all
    dcat_errors = {e["identifier"]: e["message"] for e in dcat_run.errors}
    assert set(dcat_errors) == {"direct", "redirected", "decimal-ip"}
    for message in dcat_errors.values():
        assert "refused to fetch" in message or "is a loopback address" in message
        assert "CATALOG_HARVEST_ALLOWED_HOSTS" in message
    assert f"{inside}/secret.csv" in dcat_errors["direct"]
    assert dcat_run.counts["created"] == 1  # "fine" still loads, with its field
    assert [e["message"] for e in package_run.errors] and \
        "loopback" in package_run.errors[0]["message"]
    web_errors = " ".join(e["message"] for e in web_run.errors)
    assert web_run.counts["created"] == 1 and web_errors.count("loopback") == 2
    assert moved_run.failed and "loopback" in (moved_run.failure or "")
    with new_catalog.session() as session:
        from catalog.dump import dump_json

        assert SECRET not in dump_json(session)


@pytest.mark.parametrize("address, rule", [
    ("127.0.0.1", "a loopback address"),
    ("127.8.9.10", "a loopback address"),
    ("::1", "a loopback address"),
    ("::ffff:127.0.0.1", "a loopback address"),
    ("10.1.2.3", "a private address"),
    ("172.16.0.1", "a private address"),
    ("192.168.1.1", "a private address"),
    ("fd00::1", "a private address"),
    ("169.254.169.254", "a link-local address"),
    ("fe80::1", "a link-local address"),
    ("224.0.0.251", "a multicast address"),
    ("ff02::1", "a multicast address"),
    ("0.0.0.0", "an unspecified address"),
    ("240.0.0.1", "a reserved address"),
    ("100.64.0.1", "not a globally routable address"),
    ("8.8.8.8", None),
    ("2606:4700:4700::1111", None),
])
def test_address_rules(address: str, rule: str | None) -> None:
    assert address_rule(ipaddress.ip_address(address)) == rule


@pytest.mark.parametrize("url, allowed, refused", [
    ("http://127.0.0.1:9/x", "", "127.0.0.1 is a loopback address"),
    ("http://localhost:9/x", "", r"localhost \(127.0.0.1\) is a loopback address"),
    ("http://127.0.0.1:9/x", "127.0.0.1:9", None),
    ("http://127.0.0.1:9/x", "127.0.0.1", None),
    ("http://127.0.0.1:9/x", "127.0.0.1:10", "loopback"),
    ("http://[::1]:9/x", "[::1]:9", None),
    ("ftp://example.org/x", "", "only http and https"),
    ("file:///etc/passwd", "", "only http and https"),
    ("gopher://127.0.0.1:6379/_INFO", "127.0.0.1", "only http and https"),
    ("http:///nohost", "", "names no host"),
])
def test_url_policy(url: str, allowed: str, refused: str | None) -> None:
    policy = AddressPolicy(allowed.split(","))
    if refused is None:
        policy.check_url(url)
        return
    with pytest.raises(BlockedURL, match=refused):
        policy.check_url(url)


def test_the_connection_itself_is_checked_not_only_the_url(internal: ReplayServer) -> None:
    """Even a request that skipped the URL check cannot connect to a refused address."""
    with fetcher() as f:
        adapter = f.session.get_adapter(internal.url)
        pool = adapter.poolmanager.connection_from_url(internal.url)
        with pytest.raises(BlockedURL, match="loopback"):
            pool.urlopen("GET", "/secret.csv", retries=False)
    assert internal.log == []


def test_a_server_dripping_bytes_is_cut_off_by_the_request_deadline() -> None:
    def drip(_: Any) -> Any:
        def body() -> Iterator[bytes]:
            for _ in range(100):
                time.sleep(0.1)
                yield b" "
        return 200, {"Content-Type": "application/json"}, body()

    with ReplayServer({"/data.json": drip}) as server, \
            Fetcher(read_timeout=5, retries=0, request_seconds=1.0) as f:
        started = time.monotonic()
        with pytest.raises(OutOfTime, match="not complete within its time budget"):
            f.get_json(f"{server.url}/data.json")
        assert time.monotonic() - started < 3


def test_a_run_budget_stops_every_later_request() -> None:
    with ReplayServer({"/a.json": (200, {}, {"ok": True})}) as server, \
            Fetcher(retries=0, run_seconds=0.3) as f:
        assert f.get_json(f"{server.url}/a.json") == {"ok": True}
        time.sleep(0.4)
        with pytest.raises(OutOfTime, match="run used up its time budget"):
            f.get_json(f"{server.url}/a.json")


def test_a_refusal_is_not_retried_and_is_not_transient(internal: ReplayServer) -> None:
    with Fetcher(retries=3) as f, pytest.raises(RefusedURL) as caught:
        f.get_json(f"{internal.url}/data.json")
    assert not caught.value.transient
    assert internal.log == []


def test_a_name_that_does_not_resolve_fails_as_a_connection_error() -> None:
    with Fetcher(retries=0, connect_timeout=1) as f, pytest.raises(Exception) as caught:
        f.get_json("http://no-such-host.invalid/data.json")
    assert "no-such-host.invalid" in str(caught.value)
    assert not isinstance(caught.value, RefusedURL)


def test_allowed_hosts_come_from_the_environment_at_each_check(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = AddressPolicy.from_env()
    monkeypatch.setenv("CATALOG_HARVEST_ALLOWED_HOSTS", "")
    with pytest.raises(BlockedURL):
        policy.check_url("http://127.0.0.1:8/x")
    monkeypatch.setenv("CATALOG_HARVEST_ALLOWED_HOSTS", "example.internal, 127.0.0.1:8")
    policy.check_url("http://127.0.0.1:8/x")
    assert json.dumps(sorted(policy.allowed)) == '[["127.0.0.1", 8], ["example.internal", null]]'
