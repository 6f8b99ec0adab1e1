"""Scrapy's spider loader for dextcore: one spider per installed portal connector.

A Scrapy project normally finds spider classes in ``SPIDER_MODULES``.
dextcore has no hand-written spiders: every supplier connector of an
installed plugin *is* a spider, built with the crawl layer's factory
(:func:`dextcore.crawl.spider.spider_class`) and made runnable from the
command line by :class:`~dextcore.crawl.command.CommandSpider`. With
``SPIDER_LOADER_CLASS`` pointing here (see :mod:`dextcore.crawl.project`)::

    $ scrapy list
    amazon_uk
    bt_business
    spotify
    $ scrapy crawl bt_business -a connection=12

Accounting connectors (Bill.com) publish bills through an API and have no
spider. The loader implements Scrapy's spider loader interface
(``from_settings``, ``load``, ``list``, ``find_by_request``: the
``scrapy.interfaces.ISpiderLoader`` of old, ``SpiderLoaderProtocol`` in
Scrapy 2.19).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from dextcore.crawl.command import command_spider_class
from dextcore.crawl.hosts import AllowedHosts
from dextcore.plugins import PluginHost
from dextcore.records import Connector

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.settings import BaseSettings

__all__ = ["ConnectorSpiderLoader"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class ConnectorSpiderLoader:
    """Lists and loads the spiders of the supplier connectors of ``host``."""

    def __init__(self, host: PluginHost) -> None:
        self.host = host
        self._classes: dict[str, type[Spider]] = {}

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> ConnectorSpiderLoader:
        """The loader of every plugin installed through entry points.

        A plugin that fails to import is left out (and logged by the plugin
        host), like a broken spider module with ``SPIDER_LOADER_WARN_ONLY``.
        """
        return cls(PluginHost())

    def _suppliers(self) -> dict[str, Connector]:
        return {c.name: c for c in self.host.supplier_connectors()}

    def list(self) -> list[str]:
        """The spider names: one per installed supplier connector, sorted."""
        return sorted(self._suppliers())

    def load(self, spider_name: str) -> type[Spider]:
        """The spider class of the connector ``spider_name``; :exc:`KeyError` when there is none."""
        connector = self._suppliers().get(spider_name)
        if connector is None:
            if spider_name in self.host.connectors:
                kind = self.host.connector(spider_name).kind.value
                raise KeyError(f"Spider not found: {spider_name} (a {kind} connector has no spider)")
            raise KeyError(f"Spider not found: {spider_name}")
        if spider_name not in self._classes:
            self._classes[spider_name] = command_spider_class(connector, self.host)
        return self._classes[spider_name]

    def find_by_request(self, request: Request) -> list[str]:
        """The connectors whose hosts (declared domains and variant sites) serve ``request``'s URL."""
        if _carries_no_host(request.url):
            return []
        return [name for name, connector in sorted(self._suppliers().items())
                if _hosts_of(connector).allows(request.url)]


def _hosts_of(connector: Connector) -> AllowedHosts:
    origins = set()
    for variant in connector.variants:
        parts = urlsplit(variant.base_url)
        if parts.hostname:
            origins.add((parts.hostname.lower(), parts.port or _DEFAULT_PORTS.get(parts.scheme, 80)))
    return AllowedHosts(domains=connector.allowed_domains, origins=frozenset(origins))


def _carries_no_host(url: str) -> bool:
    # AllowedHosts lets data: and about: URLs through (they reach no host);
    # no connector "handles" them.
    return urlsplit(url).scheme.lower() in ("data", "about")
