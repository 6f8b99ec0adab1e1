"""The one spider class every portal crawl runs.

A connector is not a hand-written spider: plugins provide page knowledge
through the connector hooks, and this generic spider runs the fetch as one
linear flow. Its ``start()`` yields a single ``data:`` request whose
callback builds the :class:`~dextcore.crawl.session.ScrapyPortalSession`
and awaits the runner's flow (restore session → authenticate → 2FA → list →
download → store); every portal request of the flow is sent with
``engine.download_async`` so it still goes through the downloader
middlewares.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable

import attrs
from scrapy import Request, Spider

from dextcore.crawl.hosts import AllowedHosts
from dextcore.crawl.pages import PageSaver
from dextcore.crawl.session import ScrapyPortalSession, SecretSource
from dextcore.crawl.settings import crawl_settings
from dextcore.portal.session import ConnectionView
from dextcore.records import Connector

if TYPE_CHECKING:
    from scrapy.http import Response

__all__ = ["ConnectorSpider", "CrawlJob", "spider_class"]

log = logging.getLogger(__name__)

_START_URL = "data:text/plain,dextcore"


@attrs.define(eq=False)
class CrawlJob:
    """What one crawl needs: handles, never secret values.

    ``secrets`` is a lookup resolved inside the process (the vault), and
    ``flow`` is the coroutine function the spider awaits with the session.
    """

    connection: ConnectionView
    base_url: str
    since: dt.date | None
    allowed_hosts: AllowedHosts
    secrets: SecretSource = attrs.field(repr=False)
    pages: PageSaver
    flow: Callable[[ScrapyPortalSession], Awaitable[Any]] = attrs.field(repr=False)


class ConnectorSpider(Spider):
    """Generic spider; :func:`spider_class` makes the per-connector subclass."""

    name = "dextcore"
    connector: Connector | None = None

    def __init__(self, *args: Any, job: CrawlJob, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.job = job
        self.allowed_hosts: AllowedHosts = job.allowed_hosts
        self.blocked_host: str | None = None
        self.session: ScrapyPortalSession | None = None
        self.result: Any = None
        self.error: BaseException | None = None

    async def start(self) -> AsyncIterator[Request]:
        yield Request(_START_URL, callback=self._run_flow, dont_filter=True)

    async def _run_flow(self, response: Response) -> None:
        job = self.job
        session = ScrapyPortalSession(
            crawler=self.crawler, connection=job.connection, base_url=job.base_url, since=job.since,
            allowed_hosts=job.allowed_hosts, secrets=job.secrets, pages=job.pages,
        )
        self.session = session
        try:
            self.result = await job.flow(session)
        except Exception as exc:  # the flow classifies failures itself; this is a last resort
            log.exception("fetch flow of connection %s failed", job.connection.id)
            self.error = exc
        finally:
            await session.close()
        return None


def spider_class(connector: Connector, settings: dict[str, Any] | None = None) -> type[ConnectorSpider]:
    """The spider class of ``connector``: named after it, with its settings."""
    return type(
        f"{connector.name.title().replace('_', '')}Spider",
        (ConnectorSpider,),
        {
            "name": connector.name,
            "connector": connector,
            "custom_settings": crawl_settings(connector, settings),
            "__module__": __name__,
        },
    )
