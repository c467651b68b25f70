"""Which addresses a harvest may connect to: public ones, and the hosts an operator allowed.

Harvested content names URLs (``describedBy``, a schema by reference, links on a page, a
redirect's ``Location``); a hostile or careless source could point them at the catalog's own
network (``127.0.0.1:6379``, ``169.254.169.254``, an intranet host) and have its answer
published as metadata. So every connection a harvest makes is checked after name
resolution, by :class:`AddressPolicy`:

* only ``http`` and ``https``;
* no loopback, private, link-local, multicast, reserved or otherwise not globally routable
  address (IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry),
* unless the URL's host, or host and port, is listed in ``CATALOG_HARVEST_ALLOWED_HOSTS``
  (comma-separated: ``data.agency.internal``, ``127.0.0.1:8080``, ``[::1]:8080``), which
  private deployments and the tests set.

The check runs twice: on the URL of every request and redirect hop (:meth:`check_url`), and
on the address actually connected to (:class:`GuardedHTTPConnection`), which connects to the
very address it checked, so a name that resolves once to a public and then to a private
address (DNS rebinding) gets nowhere.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

ALLOWED_HOSTS_VARIABLE = "CATALOG_HARVEST_ALLOWED_HOSTS"
SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedURL(Exception):
    """A URL or address a harvest may not reach; the message names it and the rule."""

    def __init__(self, url: str, rule: str) -> None:
        super().__init__(f"refused to fetch {url}: {rule}")
        self.url = url
        self.rule = rule


def address_rule(ip: IPAddress) -> str | None:
    """Why a harvest may not connect to ``ip`` ("a loopback address", ...), or None."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for test, words in (
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (not ip.is_global, "not a globally routable address"),
    ):
        if test:
            return words
    return None


def _split_entry(entry: str) -> tuple[str, int | None]:
    entry = entry.strip().lower()
    if entry.startswith("["):  # [v6]:port or [v6]
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif entry.count(":") == 1:
        host, _, port = entry.partition(":")
    else:  # a name, an IPv4 address, or a bare IPv6 address
        host, port = entry, ""
    return host, int(port) if port.isdigit() else None


def _entries(allowed: Iterable[str]) -> set[tuple[str, int | None]]:
    return {_split_entry(entry) for entry in allowed if entry.strip()}


class AddressPolicy:
    """Public addresses, plus the listed hosts (``host`` or ``host:port``)."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self._allowed = _entries(allowed)

    @property
    def allowed(self) -> set[tuple[str, int | None]]:
        """The listed (host, port) pairs; port None allows every port of the host."""
        return self._allowed

    @classmethod
    def from_env(cls) -> AddressPolicy:
        """The policy ``CATALOG_HARVEST_ALLOWED_HOSTS`` sets, read at each check."""
        return EnvironmentPolicy()

    def allows_host(self, host: str, port: int | None) -> bool:
        """Whether ``host`` (a name or an address literal) on ``port`` is listed."""
        host = host.strip("[]").lower()
        return (host, None) in self.allowed or (host, port) in self.allowed

    def check_url(self, url: str) -> None:
        """Raise :class:`BlockedURL` unless ``url`` is http(s) and leads to an allowed address."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise BlockedURL(url, f"not a valid URL ({exc})") from None
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            raise BlockedURL(url, f"only http and https URLs are fetched, not {scheme or 'a '}"
                                  f"{':' if scheme else 'relative'} URL")
        host = parts.hostname
        if not host:
            raise BlockedURL(url, "the URL names no host")
        self.check_address(url, host, port or DEFAULT_PORTS[scheme])

    def check_address(self, url: str, host: str, port: int) -> list[str]:
        """The addresses ``host`` resolves to, all allowed; else BlockedURL naming the first."""
        listed = self.allows_host(host, port)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            return []  # unresolvable: the connection itself fails with a clear error
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if listed:
            return addresses
        for address in addresses:
            rule = address_rule(ipaddress.ip_address(address.split("%", 1)[0]))
            if rule is not None:
                shown = host if host == address else f"{host} ({address})"
                raise BlockedURL(url, f"{shown} is {rule}; harvests reach only public "
                                      f"addresses unless the host is listed in "
                                      f"{ALLOWED_HOSTS_VARIABLE}")
        return addresses


class EnvironmentPolicy(AddressPolicy):
    """The hosts listed in ``CATALOG_HARVEST_ALLOWED_HOSTS`` when a check runs."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def allowed(self) -> set[tuple[str, int | None]]:
        """The entries of the variable as it is now."""
        return _entries(os.environ.get(ALLOWED_HOSTS_VARIABLE, "").split(","))


class _GuardedConnectionMixin:
    """Connects only to an address the policy allows, the very one it checked."""

    policy: AddressPolicy = AddressPolicy()
    host: str
    port: int
    _dns_host: str

    def _new_conn(self) -> socket.socket:
        scheme = "https" if isinstance(self, HTTPSConnection) else "http"
        url = f"{scheme}://{self.host}:{self.port}/"
        addresses = self.policy.check_address(url, self._dns_host, self.port)
        connect = super()._new_conn  # the next class in the MRO: urllib3's HTTPConnection
        if not addresses or self.policy.allows_host(self.host, self.port):
            return connect()
        resolved = self._dns_host
        failure: Exception | None = None
        try:
            for address in addresses:  # connect to what was checked, not to a new lookup
                self._dns_host = address
                try:
                    return connect()
                except (NewConnectionError, ConnectTimeoutError) as exc:
                    failure = exc
        finally:
            self._dns_host = resolved
        assert failure is not None
        raise failure


def guarded_pool_classes(policy: AddressPolicy) -> dict[str, type]:
    """urllib3 pool classes (by scheme) whose connections obey ``policy``."""
    http_conn = type("GuardedHTTPConnection", (_GuardedConnectionMixin, HTTPConnection),
                     {"policy": policy})
    https_conn = type("GuardedHTTPSConnection", (_GuardedConnectionMixin, HTTPSConnection),
                      {"policy": policy})
    return {
        "http": type("GuardedHTTPConnectionPool", (HTTPConnectionPool,),
                     {"ConnectionCls": http_conn}),
        "https": type("GuardedHTTPSConnectionPool", (HTTPSConnectionPool,),
                      {"ConnectionCls": https_conn}),
    }
