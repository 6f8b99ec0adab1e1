"""Downloader middlewares of every connector crawl."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from dextcore.crawl.hosts import AllowedHosts
from dextcore.outcomes import ForeignHostBlocked

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

__all__ = ["AllowedHostsMiddleware"]

log = logging.getLogger(__name__)


class AllowedHostsMiddleware:
    """Refuse every request to a host outside the crawl's allowed hosts.

    Scrapy's ``OffsiteMiddleware`` skips ``dont_filter`` requests and
    anything flagged ``allow_offsite``; this one has no way around it. It
    sits first in the chain, so it also sees each redirect hop (the engine
    feeds redirected requests through the whole chain again) *before* the
    cookie middleware attaches cookies and before anything is sent. The
    request fails with :class:`~dextcore.outcomes.ForeignHostBlocked`, and
    the spider remembers the host so a plugin that swallows the error still
    ends the run with that outcome.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AllowedHostsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        spider = self.crawler.spider
        allowed: AllowedHosts | None = getattr(spider, "allowed_hosts", None)
        if allowed is None:
            # A crawl without declared hosts is a programming error: fail closed.
            raise ForeignHostBlocked(AllowedHosts.host_of(request.url))
        if allowed.allows(request.url):
            return None
        host = AllowedHosts.host_of(request.url)
        if getattr(spider, "blocked_host", None) is None:
            spider.blocked_host = host
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("dextcore/foreign_host_blocked")
        log.warning("blocked a request to foreign host %s", host)
        raise ForeignHostBlocked(host)
