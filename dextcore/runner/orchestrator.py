"""Running many connections at once in one process.

One :class:`Runner` per process drives Scrapy's ``AsyncCrawlerRunner`` on
the asyncio reactor (:mod:`dextcore.runner.reactor`): one crawl per
connection, many crawls concurrently, under three caps — a global one, one
per connector (``Connector.max_concurrency``: a supplier should not see
hundreds of logins at once) and one for crawls that start a browser.
Around each crawl it keeps the books: the run row, the status, the next
scheduled run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import datetime as dt
import logging
from typing import Any, Iterable

import attrs
from scrapy.crawler import AsyncCrawlerRunner

from dextcore.crawl.hosts import allowed_hosts_for
from dextcore.crawl.pages import PageSaver
from dextcore.crawl.settings import RunnerSettings, runner_settings
from dextcore.crawl.spider import ConnectorSpider, CrawlJob, spider_class
from dextcore.records import Connector
from dextcore.runner.flow import FetchFlow, FlowOutcome, RunOptions
from dextcore.runner.progress import Progress, SilentProgress
from dextcore.runner.runs import finish_run, start_run
from dextcore.runner.schedule import claim, due_connections, plan_run, record_outcome
from dextcore.runner.writer import DocumentWriter
from dextcore.statuses import Status
from dextcore.store import utcnow

__all__ = ["FetchResult", "Runner"]

log = logging.getLogger(__name__)

UNAVAILABLE_ALERT_AFTER = 3
"""Consecutive "Portal unavailable" runs before the user is alerted."""


@attrs.frozen
class FetchResult:
    """How one connection's fetch ended."""

    connection_id: int
    connector: str
    status: Status
    message: str
    documents_new: int = 0
    documents_seen: int = 0
    requests: int = 0
    bytes: int = 0
    saved_page: str | None = None
    run_id: int | None = None
    full: bool = True
    interrupted: bool = False
    next_run_at: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["status"] = self.status.value
        data["status_label"] = self.status.label
        data["next_run_at"] = self.next_run_at.isoformat(timespec="seconds") if self.next_run_at else None
        return data


class Runner:
    """Runs fetches of ``app``'s connections (``app``: the :class:`~dextcore.api.Dextcore` facade).

    Create it inside the reactor's loop (:func:`dextcore.runner.reactor.run`).
    """

    def __init__(self, app: Any, *, max_crawls: int = 32, max_browsers: int = 2,
                 downloads_per_connection: int = 4, settings: dict[str, Any] | None = None,
                 progress: Progress | None = None, store_threads: int = 2) -> None:
        self.app = app
        self.max_crawls = max_crawls
        self.downloads_per_connection = downloads_per_connection
        self.progress: Progress = progress or SilentProgress()
        self._settings = dict(settings or {})
        self._crawls = asyncio.Semaphore(max_crawls)
        self._browsers = asyncio.Semaphore(max_browsers)
        self._per_connector: dict[str, asyncio.Semaphore] = {}
        self._spiders: dict[str, type[ConnectorSpider]] = {}
        self.stop = asyncio.Event()
        self._accounting_lock = asyncio.Lock()
        self.running: set[int] = set()
        self._crawler_runner = AsyncCrawlerRunner(RunnerSettings(runner_settings(self._settings)))
        # Store and vault calls block (SQLite commits, fsync); a few dedicated
        # threads keep them off the event loop without a crowd of threads
        # fighting over the database lock and the GIL.
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=store_threads, thread_name_prefix="dextcore-store") if store_threads > 0 else None
        # Documents of all crawls go through one writer (group commit), not
        # the store threads: see dextcore.runner.writer.
        self._writer = DocumentWriter(app.inbox) if store_threads > 0 else None

    async def _db(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        if self._executor is None:
            return func(*args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor,
                                                                functools.partial(func, *args, **kwargs))

    def close(self) -> None:
        """Release the store threads (running fetches must be over); documents
        handed to the writer are all stored before this returns."""
        if self._writer is not None:
            self._writer.close()
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    # -- stopping -----------------------------------------------------------------------

    def request_stop(self) -> None:
        """Take no new work; running fetches stop listing, finish the documents in flight, and end."""
        self.stop.set()

    async def abort(self) -> None:
        """Hard stop: cancel running crawls (documents being stored still complete atomically)."""
        self.stop.set()
        await self._crawler_runner.stop()

    # -- running ---------------------------------------------------------------------

    def _spider(self, connector: Connector) -> type[ConnectorSpider]:
        if connector.name not in self._spiders:
            self._spiders[connector.name] = spider_class(connector, self._settings)
        return self._spiders[connector.name]

    def _cap(self, connector: Connector) -> asyncio.Semaphore:
        if connector.name not in self._per_connector:
            self._per_connector[connector.name] = asyncio.Semaphore(max(1, connector.max_concurrency))
        return self._per_connector[connector.name]

    async def fetch(self, connection_id: int, *, trigger: str = "scheduled", wait_for_code: float | None = None,
                    force_full: bool = False) -> FetchResult:
        """Fetch one connection now (subject to the caps) and return how it ended."""
        app = self.app
        connection = await self._db(app.connections.get, connection_id)
        connector = app.host.connector(connection.connector)
        options = RunOptions(trigger=trigger, wait_for_code=wait_for_code, force_full=force_full,
                             downloads_per_connection=self.downloads_per_connection)
        browser = self._browsers if connector.uses_browser else _NoCap()
        async with self._crawls, self._cap(connector), browser:
            if self.stop.is_set():
                return FetchResult(connection_id, connector.name, connection.status,
                                   "Not started: the runner is stopping.", interrupted=True)
            self.running.add(connection_id)
            try:
                return await self._fetch(connection, connector, options)
            finally:
                self.running.discard(connection_id)

    async def _fetch(self, connection: Any, connector: Connector, options: RunOptions) -> FetchResult:
        app = self.app
        now = utcnow()
        full, since = plan_run(connection, now, force_full=options.force_full)
        run_id = await self._db(start_run, app.store, connection.id, trigger=options.trigger, full=full)
        before = connection.status
        await self._db(app.connections.set_status, connection.id, Status.CONNECTING,
                                "Fetching documents now.")
        view = await self._db(app.connections.view, connection)
        self.progress.started(connection.id, connector.name)
        flow = FetchFlow(app=app, connection=connection, connector=connector, view=view, options=options,
                         stop=self.stop, on_document=lambda new: self.progress.document(connection.id, new),
                         executor=self._executor, writer=self._writer)
        variant_url = view.variant.base_url if connector.variants else ""
        base_url = connection.base_url or variant_url
        job = CrawlJob(
            connection=view, base_url=base_url, since=since,
            allowed_hosts=allowed_hosts_for(connector.allowed_domains, base_url,
                                            override=bool(connection.base_url)),
            secrets=lambda name, _id=connection.id: app.connections.secret(_id, name),
            pages=PageSaver(app.config.pages_dir, connection.id), flow=flow,
        )
        crawler = self._crawler_runner.create_crawler(self._spider(connector))
        crawl_error: BaseException | None = None
        try:
            await self._crawler_runner.crawl(crawler, job=job)
        except Exception as exc:  # Scrapy itself failed (settings, a handler): never crash the runner
            crawl_error = exc
            log.exception("crawl of connection %s failed", connection.id)
        outcome: FlowOutcome = flow.outcome
        spider = crawler.spider
        if flow.session is None and not outcome.interrupted:
            # The flow never ran (the crawl failed to start or was cancelled first).
            error = crawl_error or getattr(spider, "error", None)
            if self.stop.is_set() and error is None:
                outcome.interrupted = True
            else:
                outcome.status = Status.PLUGIN_BROKEN
                outcome.message = f"The crawl could not run: {type(error).__name__ if error else 'cancelled'}."
        elif getattr(spider, "error", None) is not None and outcome.status is Status.CONNECTED:
            outcome.status = Status.PLUGIN_BROKEN
            outcome.message = f"Unexpected error: {type(spider.error).__name__}"
        stats = crawler.stats.get_stats() if crawler.stats is not None else {}
        nbytes = int(stats.get("downloader/response_bytes", 0))
        return await self._settle(connection, connector, options, outcome, before=before, run_id=run_id,
                                  full=full, nbytes=nbytes)

    async def _settle(self, connection: Any, connector: Connector, options: RunOptions, outcome: FlowOutcome, *,
                      before: Status, run_id: int, full: bool, nbytes: int) -> FetchResult:
        app = self.app
        now = utcnow()
        if outcome.interrupted:
            # Back to where it was: an interrupted run says nothing about the portal.
            status = before
            message = (f"Interrupted by a shutdown after {outcome.documents_new} new documents; "
                       "resumes at the next start.")
            await self._db(app.connections.set_status, connection.id, before,
                                    connection.status_reason if before is not Status.CONNECTING else message)
            next_run = await self._db(record_outcome, app.store, connection, before, now=now, full=full,
                                               interrupted=True)
            interrupted = True
        else:
            status, message = outcome.status, outcome.message
            alert = None
            if status is Status.PORTAL_UNAVAILABLE and connection.failures + 1 >= UNAVAILABLE_ALERT_AFTER:
                alert = True
            await self._db(app.connections.set_status, connection.id, status, message, alert=alert)
            next_run = await self._db(record_outcome, app.store, connection, status, now=now, full=full,
                                               retry_after=outcome.retry_after)
            interrupted = False
        await self._db(finish_run, app.store, run_id, outcome=status.value if not interrupted else "interrupted",
                                message=message, documents_new=outcome.documents_new,
                                documents_seen=outcome.documents_seen, requests=outcome.requests, bytes=nbytes,
                                saved_page=outcome.saved_page)
        result = FetchResult(
            connection_id=connection.id, connector=connector.name, status=status, message=message,
            documents_new=outcome.documents_new, documents_seen=outcome.documents_seen,
            requests=outcome.requests, bytes=nbytes, saved_page=outcome.saved_page, run_id=run_id, full=full,
            interrupted=interrupted, next_run_at=next_run,
        )
        self.progress.finished(result)
        if result.documents_new and not interrupted:
            await self._publish_new_documents()
        return result

    async def _publish_new_documents(self) -> None:
        """Hand new documents to the accounting side: items are created and
        those whose supplier rule says auto-publish are published. Runs one
        at a time (publishing is idempotent per item, not per caller) and
        never turns a good fetch into a failure."""
        async with self._accounting_lock:
            try:
                accounting = self.app.accounting
                if not await self._db(accounting.connections):
                    return
                await accounting.aafter_fetch()
            except Exception:
                log.exception("publishing after a fetch failed; the items stay queued")

    async def fetch_many(self, connection_ids: Iterable[int], *, trigger: str = "scheduled",
                         wait_for_code: float | None = None, force_full: bool = False) -> list[FetchResult]:
        """Fetch several connections concurrently (within the caps); results in the given order."""
        ids = list(connection_ids)
        self.progress.planned(len(ids))
        return list(await asyncio.gather(*(
            self._guarded(i, trigger=trigger, wait_for_code=wait_for_code, force_full=force_full) for i in ids)))

    async def _guarded(self, connection_id: int, **kwargs: Any) -> FetchResult:
        try:
            return await self.fetch(connection_id, **kwargs)
        except Exception as exc:  # e.g. the connector's plugin is not installed
            log.error("connection %s could not be fetched: %s", connection_id, exc)
            result = FetchResult(connection_id, "?", Status.PLUGIN_BROKEN, f"Could not start: {exc}")
            self.progress.finished(result)
            return result

    async def run_due(self, *, now: dt.datetime | None = None, limit: int | None = None) -> list[FetchResult]:
        """Fetch every connection due at ``now`` (claimed first, so two workers never run the same one)."""
        now = now or utcnow()
        ids = await self._db(due_connections, self.app.store, now, limit=limit or self.max_crawls * 4,
                                      exclude=set(self.running))
        claimed = [i for i in ids if await self._db(claim, self.app.store, i, now)]
        return await self.fetch_many(claimed)


class _NoCap:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None
