"""Which hosts a crawl may talk to.

A connector declares its domains (``amazon.co.uk`` allows
``www.amazon.co.uk`` too); a connection whose ``base_url`` is overridden
(a sandbox, a test portal, a self-hosted instance) may talk to exactly that
host and port instead. Anything else is foreign: credentials must never
reach it.
"""

from __future__ import annotations

from typing import Iterable
from urllib.parse import urlsplit

import attrs

__all__ = ["AllowedHosts", "allowed_hosts_for"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


@attrs.frozen
class AllowedHosts:
    """Domains (with their subdomains) and exact ``host:port`` pairs a crawl may reach."""

    domains: frozenset[str] = attrs.field(factory=frozenset, converter=lambda v: frozenset(d.lower().lstrip(".") for d in v))
    origins: frozenset[tuple[str, int]] = attrs.field(factory=frozenset, converter=frozenset)

    def allows(self, url: str) -> bool:
        """True when ``url`` may be requested. ``data:`` and ``about:`` URLs carry no host and are allowed."""
        parts = urlsplit(url)
        if parts.scheme in ("data", "about"):
            return True
        if parts.scheme not in ("http", "https"):
            return False
        host = (parts.hostname or "").lower()
        if not host:
            return False
        try:
            port = parts.port or _DEFAULT_PORTS[parts.scheme]
        except ValueError:  # a malformed port is never ours
            return False
        if (host, port) in self.origins:
            return True
        return any(host == d or host.endswith("." + d) for d in self.domains)

    @staticmethod
    def host_of(url: str) -> str:
        """``host[:port]`` of ``url``, for messages."""
        return urlsplit(url).netloc.rsplit("@", 1)[-1] or url


def allowed_hosts_for(domains: Iterable[str], base_url: str, *, override: bool) -> AllowedHosts:
    """The hosts of one connection.

    With ``override`` (the connection's base URL replaces the variant's),
    only the exact origin of ``base_url`` is allowed: a test portal on
    127.0.0.1 must not open every port of the machine. Otherwise the
    connector's domains, plus the variant's own host.
    """
    parts = urlsplit(base_url)
    origin = {((parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(parts.scheme, 80))}
    if override:
        return AllowedHosts(domains=(), origins=origin)
    return AllowedHosts(domains=tuple(domains), origins=origin)
