"""``scrapy crawl <connector> -a connection=ID``: one connection, fetched as ``dextcore fetch ID`` fetches it.

The spider Scrapy's command runs is the connector's own spider (built by
:func:`dextcore.crawl.spider.spider_class`) plus :class:`CommandSpider`,
which only has what a command line gives it: a connection id. Inside the
process it opens dextcore from the environment (``DEXTCORE_HOME``,
``DEXTCORE_DATABASE_URL``, ``DEXTCORE_SECRET_KEY``...), then hands the
fetch to the bundled runner (:class:`dextcore.runner.Runner`) exactly as
``dextcore fetch`` does: run record, status changes and alerts, saved
session, inbox, failure classification. The only difference is where the
crawl comes from — the runner normally creates one per fetch; here the
fetch runs inside the crawl ``scrapy crawl`` already started, so ``-s``
settings, the log and the stats are those of the real fetch.

Secrets never come from the command line: they are read from the vault
inside the process, only when the plugin asks. A spider argument or a
``-s`` setting that looks like a secret is refused before anything runs,
because a command line is visible to every user of the machine (``ps``),
kept in shell history, and — under scrapyd — stored in the job queue and
shown by ``listjobs.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING, Any, AsyncIterator, ClassVar, Iterator, Mapping, cast

import attrs
from scrapy import Request, signals
from scrapy.exceptions import CloseSpider
from scrapy.settings import SETTINGS_PRIORITIES

from dextcore.api import Dextcore
from dextcore.crawl.hosts import AllowedHosts
from dextcore.crawl.offline import make_tldextract_offline
from dextcore.crawl.spider import ConnectorSpider, CrawlJob, spider_class
from dextcore.plugins import PluginHost
from dextcore.records import Connector
from dextcore.runner import FetchResult, NotRetryable, Runner
from dextcore.runner.daemon import stop_on_signals
from dextcore.runner.progress import Progress
from dextcore.statuses import Status

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

__all__ = [
    "ACCEPTED_ARGUMENTS",
    "COMMAND_SETTINGS",
    "CommandSpider",
    "CrawlArgumentError",
    "CrawlRequest",
    "command_spider_class",
    "refuse_secret_settings",
    "refuse_unsafe_settings",
]

log = logging.getLogger(__name__)

ACCEPTED_ARGUMENTS = ("connection", "force", "full", "wait_for_code")
"""The spider arguments (``-a NAME=VALUE``) a connector spider accepts."""

_SCRAPYD_ARGUMENTS = frozenset({"_job"})
"""Added by scrapyd to every crawl it launches (the job id): accepted, unused."""

COMMAND_SETTINGS: dict[str, Any] = {
    # The runner's crawls log at WARNING (hundreds of them share a log);
    # a `scrapy crawl` is one fetch someone (or scrapyd's job log) watches.
    "LOG_LEVEL": "INFO",
}
"""Settings of command spiders on top of the crawl layer's (``-s``/``-L`` still win)."""

_SECRET_MARKERS = ("pass", "secret", "token", "totp", "cookie", "credential", "session")
"""Parts of a name that make an argument or setting look like a secret."""

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
_COMMAND_URL = "data:text/plain,dextcore-command"


class CrawlArgumentError(ValueError):
    """A ``scrapy crawl`` invocation that cannot run; the message says why and what to do.

    Messages name arguments and settings, never their values.
    """


def _looks_secret(name: str, connector: Connector) -> bool:
    lowered = name.lower()
    secret_fields = {f.name.lower() for f in connector.fields if f.secret} | {"password", "totp_secret"}
    return lowered in secret_fields or any(marker in lowered for marker in _SECRET_MARKERS)


def _refusal(what: str, connector: Connector) -> str:
    return (f"refusing {what}: secrets are never spider arguments or settings (a command line is visible in "
            "`ps`, shell history and scrapyd's job list, and Scrapy logs its settings). dextcore reads the "
            "connection's secrets from its vault inside the crawl; store them with `dextcore edit ID --password` "
            f"(or --secret NAME) and run `scrapy crawl {connector.name} -a connection=ID`.")


def _flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise CrawlArgumentError(f"-a {name}= takes 1/true/yes or 0/false/no")


@attrs.frozen
class CrawlRequest:
    """What a ``scrapy crawl`` asks for, parsed from its spider arguments.

    The same choices as ``dextcore fetch``: ``force`` runs whatever the
    connection's status (``--force``); ``wait_for_code`` (seconds, with
    ``force``) waits for a 2FA code given with ``dextcore 2fa submit``;
    ``full`` re-checks the whole history.
    """

    connection_id: int
    force: bool = False
    full: bool = False
    wait_for_code: float | None = None

    @property
    def trigger(self) -> str:
        return "forced" if self.force else "scheduled"

    @classmethod
    def from_arguments(cls, connector: Connector, arguments: Mapping[str, Any]) -> CrawlRequest:
        """Parse ``-a`` arguments; :exc:`CrawlArgumentError` for anything else, secrets first."""
        for name in arguments:
            if name in ACCEPTED_ARGUMENTS or name in _SCRAPYD_ARGUMENTS:
                continue
            if _looks_secret(name, connector):
                raise CrawlArgumentError(_refusal(f"the spider argument {name!r}", connector))
            raise CrawlArgumentError(f"unknown spider argument {name!r} (accepted: {', '.join(ACCEPTED_ARGUMENTS)})")
        raw = str(arguments.get("connection", "")).strip()
        if not raw:
            raise CrawlArgumentError(f"say which connection to fetch: scrapy crawl {connector.name} -a connection=ID")
        try:
            connection_id = int(raw)
        except ValueError:
            raise CrawlArgumentError("-a connection= takes a connection id (a number; see `dextcore list`)") from None
        force = _flag("force", str(arguments.get("force", "")))
        full = _flag("full", str(arguments.get("full", "")))
        wait: float | None = None
        if "wait_for_code" in arguments:
            try:
                wait = float(arguments["wait_for_code"])
            except ValueError:
                raise CrawlArgumentError("-a wait_for_code= takes a number of seconds") from None
            if wait <= 0:
                raise CrawlArgumentError("-a wait_for_code= must be a positive number of seconds")
            if not force:
                raise CrawlArgumentError("-a wait_for_code needs -a force=1 (scheduled runs never wait for a person)")
        return cls(connection_id=connection_id, force=force, full=full, wait_for_code=wait)


def refuse_secret_settings(settings: BaseSettings, connector: Connector) -> None:
    """Refuse ``-s NAME=VALUE`` settings whose name looks like a secret.

    Only command-line settings are checked: Scrapy's own defaults include
    harmless names such as ``FTP_PASSWORD``.
    """
    cmdline = SETTINGS_PRIORITIES["cmdline"]
    for name in settings:
        if (settings.getpriority(name) or 0) >= cmdline and _looks_secret(name, connector):
            raise CrawlArgumentError(_refusal(f"the setting {name}", connector))


_HOST_CHECK = "dextcore.crawl.middlewares.AllowedHostsMiddleware"


def refuse_unsafe_settings(settings: BaseSettings) -> None:
    """Refuse settings (``-s``) that would open the process or drop the host check.

    The connector spider's own settings turn these off, but command-line
    settings outrank a spider's: a crawl holding credentials must not run
    the remote-control or telnet console, nor send requests to hosts
    outside the connection's.
    """
    for name in ("REMOTE_CONTROL_ENABLED", "TELNETCONSOLE_ENABLED"):
        if settings.getbool(name):
            raise CrawlArgumentError(f"refusing {name}=True: a crawl holds credentials; no console may inspect it")
    if settings.getwithbase("DOWNLOADER_MIDDLEWARES").get(_HOST_CHECK) is None:
        raise CrawlArgumentError(f"refusing DOWNLOADER_MIDDLEWARES without {_HOST_CHECK}: it keeps every request "
                                 "on the connection's hosts")


class _NoJobYet:
    """Stands in for the :class:`CrawlJob` until the runner attaches one: no host is reachable."""

    allowed_hosts = AllowedHosts()


class CommandSpider(ConnectorSpider):
    """The connector spider as ``scrapy crawl`` runs it: ``-a connection=ID`` and nothing secret.

    Made per connector by :func:`command_spider_class`; ``plugin_host`` is
    the plugin host the spider loader found the connector in. Once the
    fetch is over, ``fetch_result`` holds how it ended
    (:class:`~dextcore.runner.FetchResult`).
    """

    plugin_host: ClassVar[PluginHost | None] = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> CommandSpider:
        connector = cls.connector
        if connector is None:
            raise TypeError("CommandSpider is used through command_spider_class(connector, host)")
        try:
            if args:
                raise CrawlArgumentError("positional spider arguments are not accepted; use -a connection=ID")
            request = CrawlRequest.from_arguments(connector, kwargs)
            refuse_secret_settings(crawler.settings, connector)
            refuse_unsafe_settings(crawler.settings)
            make_tldextract_offline()
            app = Dextcore.open(host=cls.plugin_host)
            try:
                _check_connection(app, connector, request)
            except BaseException:
                app.close()
                raise
        except ValueError as exc:
            # One readable line before Scrapy's traceback of the failed start
            # (these messages name arguments and ids, never values).
            log.error("cannot crawl %s: %s", connector.name, exc)
            raise
        spider = cast(CommandSpider, super().from_crawler(crawler, request=request, app=app))
        crawler.signals.connect(spider._close_app, signal=signals.spider_closed)
        return spider

    def __init__(self, *args: Any, request: CrawlRequest, app: Dextcore, **kwargs: Any) -> None:
        super().__init__(*args, job=cast(CrawlJob, _NoJobYet()), **kwargs)
        self.request = request
        self.app = app
        self.fetch_result: FetchResult | None = None

    def attach(self, job: CrawlJob) -> None:
        """Give the spider the job the runner prepared (from then on, the job's hosts are reachable)."""
        self.job = job
        self.allowed_hosts = job.allowed_hosts

    async def start(self) -> AsyncIterator[Request]:
        yield Request(_COMMAND_URL, callback=self._fetch_connection, dont_filter=True)

    async def _fetch_connection(self, response: Response) -> None:
        request = self.request
        runner = _RunnerOfThisCrawl(self.app, self, response)
        try:
            with _signals_stop(runner):
                result = await runner.fetch(request.connection_id, trigger=request.trigger,
                                            wait_for_code=request.wait_for_code,
                                            force_full=request.full)
        finally:
            runner.close()
        self.fetch_result = result
        self._report(result)
        if result.interrupted:
            raise CloseSpider("interrupted")
        if result.status is not Status.CONNECTED:
            raise CloseSpider(result.status.value)

    def _report(self, result: FetchResult) -> None:
        """Log how the fetch ended and keep it in the crawl's stats (scrapyd shows both)."""
        stats = self.crawler.stats
        if stats is not None:
            stats.set_value("dextcore/connection", result.connection_id)
            stats.set_value("dextcore/status", result.status.value)
            stats.set_value("dextcore/documents_new", result.documents_new)
            stats.set_value("dextcore/documents_seen", result.documents_seen)
            if result.run_id is not None:
                stats.set_value("dextcore/run", result.run_id)
        ok = result.status is Status.CONNECTED and not result.interrupted
        level = logging.INFO if ok else logging.WARNING
        # The label and counts only; the message (already scrubbed of the
        # connection's secrets by the fetch flow) says what went wrong.
        log.log(level, "connection %s (%s): %s; %d new documents, %d listed, %d requests",
                result.connection_id, result.connector, result.status.label, result.documents_new,
                result.documents_seen, result.requests)
        if not ok and result.message:
            log.log(level, "connection %s: %s", result.connection_id, result.message)

    def _close_app(self, spider: Any, reason: str) -> None:
        self.app.close()


def command_spider_class(connector: Connector, host: PluginHost) -> type[CommandSpider]:
    """The spider ``scrapy crawl <connector.name>`` runs: the factory's spider class, runnable from a command line."""
    base = spider_class(connector, COMMAND_SETTINGS)
    return type(base.__name__, (CommandSpider, base), {"plugin_host": host, "__module__": __name__})


# -- the fetch itself: the runner's, inside this crawl -------------------------------------------------


def _check_connection(app: Dextcore, connector: Connector, request: CrawlRequest) -> None:
    connection = app.connections.get(request.connection_id)
    if connection.connector != connector.name:
        raise CrawlArgumentError(
            f"connection {connection.id} is a {connection.connector} connection, not {connector.name}: "
            f"run `scrapy crawl {connection.connector} -a connection={connection.id}`")
    if not request.force and not connection.status.retryable:
        raise NotRetryable(
            f"connection {connection.id} is {connection.status.label!r}, which is not retried automatically; "
            "fix it, then add -a force=1")


class _ThisCrawl:
    """Takes the place of the runner's ``AsyncCrawlerRunner``: the crawl already runs.

    ``create_crawler`` returns ``scrapy crawl``'s own crawler, and
    ``crawl`` attaches the runner's job to the spider and runs the fetch
    flow in it (as the spider's start request callback would).
    """

    def __init__(self, spider: CommandSpider, response: Response) -> None:
        self.spider = spider
        self.response = response
        self._flow: asyncio.Future[None] | None = None
        self._aborted = False

    def create_crawler(self, spidercls: type[ConnectorSpider]) -> Crawler:
        if spidercls.name != self.spider.name:
            raise RuntimeError(f"this crawl runs {self.spider.name}, not {spidercls.name}")
        return self.spider.crawler

    async def crawl(self, crawler: Crawler, *, job: CrawlJob) -> None:
        self.spider.attach(job)
        self._flow = asyncio.ensure_future(self.spider._run_flow(self.response))
        try:
            await self._flow
        except asyncio.CancelledError:
            if not self._aborted:
                raise
            # Aborted by a second signal: the flow recorded the interruption; the runner settles it.

    async def stop(self) -> None:
        self._aborted = True
        if self._flow is not None:
            self._flow.cancel()


class _LogProgress(Progress):
    """Says in the crawl's log when the fetch itself starts (its run is recorded from then on)."""

    def started(self, connection_id: int, connector: str) -> None:
        log.info("fetching connection %s (%s); SIGINT or SIGTERM stops it cleanly", connection_id, connector)


class _RunnerOfThisCrawl(Runner):
    """The bundled runner, for one fetch run in the crawl ``scrapy crawl`` started."""

    def __init__(self, app: Dextcore, spider: CommandSpider, response: Response) -> None:
        super().__init__(app, max_crawls=1, max_browsers=1, progress=_LogProgress())
        # The one difference from `dextcore fetch`: the crawl is not created, it is this one.
        self._crawler_runner = _ThisCrawl(spider, response)  # type: ignore[assignment]


@contextlib.contextmanager
def _signals_stop(runner: Runner) -> Iterator[None]:
    """SIGINT/SIGTERM as ``dextcore fetch`` handles them, then Scrapy's handlers back.

    First signal: the fetch stops listing, stores the documents in flight
    and settles as interrupted; second: running downloads are cancelled.
    Scrapy's own handler would instead wait for the whole fetch, then kill
    it mid-way on a second signal, leaving the run unfinished.
    """
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        with stop_on_signals(runner):
            yield
    finally:
        for signum, handler in saved.items():
            if handler is not None:
                with contextlib.suppress(ValueError):  # not the main thread: nothing was replaced
                    signal.signal(signum, handler)
