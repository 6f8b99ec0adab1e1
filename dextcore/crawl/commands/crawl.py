"""``scrapy crawl <connector> -a connection=ID``, exiting as ``dextcore fetch`` does.

Scrapy's own ``crawl`` exits 0 whenever the crawl ran, however it ended;
a job scheduler (cron, scrapyd, CI) then cannot tell a fetch that failed.
This one exits 0 only when the spider closed ``finished`` — the connection
ended Connected — and 1 otherwise: any other status, or interrupted.
"""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.crawler import Crawler
from scrapy.spiders import Spider

__all__ = ["Command"]


class Command(ScrapyCrawlCommand):
    _crawler: Crawler | None = None

    def short_desc(self) -> str:
        return "Fetch one connection (exit status 0 only when it ends Connected)"

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        self._crawler = super()._create_crawler(spidercls)
        return self._crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        super().run(args, opts)
        crawler = self._crawler
        if self.exitcode == 0 and crawler is not None and crawler.stats is not None:
            if crawler.stats.get_value("finish_reason") != "finished":
                self.exitcode = 1
