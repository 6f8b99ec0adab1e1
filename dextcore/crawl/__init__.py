"""The Scrapy side of a fetch: the generic connector spider, the
:class:`~dextcore.portal.PortalSession` implemented on Scrapy's engine, the
downloader middleware that keeps every request on the connector's hosts,
and the settings every crawl runs with."""

from dextcore.crawl.hosts import AllowedHosts
from dextcore.crawl.settings import crawl_settings, runner_settings

__all__ = ["AllowedHosts", "crawl_settings", "runner_settings"]
