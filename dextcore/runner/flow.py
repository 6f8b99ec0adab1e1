"""The fetch of one connection, as one linear flow.

restore the saved session → ``authenticate`` → two-factor (stored TOTP
secret, or a code from a person, or push approval) → ``list_documents`` →
skip what the inbox holds → ``download`` (bounded concurrency per
connection) → ``inbox.accept`` → save the session. Every way this can end
is classified into a :class:`~dextcore.statuses.Status` here: typed
outcomes map to theirs, anything else is "Plugin broken" with the failing
page saved — a plugin bug never escapes into the runner.

The flow knows nothing of any portal: plugins bring the page knowledge.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import datetime as dt
import inspect
import logging
import time
import traceback
from typing import Any, Callable

import attrs
from scrapy.http import Response

from dextcore.crawl.pages import scrub
from dextcore.crawl.session import ScrapyPortalSession
from dextcore.inbox import Incoming
from dextcore.outcomes import (
    ConnectorOutcome,
    ForeignHostBlocked,
    IncorrectCode,
    IncorrectCredentials,
    LayoutChanged,
    PortalUnavailable,
    TwoFactorRequired,
)
from dextcore.records import Challenge, Connector, DocumentRef, TwoFactorMedium
from dextcore.runner.saved_sessions import drop_session, load_session, save_session
from dextcore.runner.twofactor import ChallengeDesk
from dextcore.runner.writer import DocumentWriter
from dextcore.statuses import Status

__all__ = ["FlowOutcome", "FetchFlow", "RunOptions"]

log = logging.getLogger(__name__)

MAX_CODE_ATTEMPTS = 3
_LISTING_AHEAD = 200
_END = object()


@attrs.frozen
class RunOptions:
    """How a fetch runs.

    ``wait_for_code`` (seconds) makes the run interactive: a code-based
    challenge is raised and awaited that long. ``None`` is unattended: the
    run never waits for a person.
    """

    trigger: str = "scheduled"
    wait_for_code: float | None = None
    force_full: bool = False
    downloads_per_connection: int = 4

    @property
    def interactive(self) -> bool:
        return self.wait_for_code is not None and self.wait_for_code > 0


@attrs.define
class FlowOutcome:
    """How the flow ended (filled in as it goes)."""

    status: Status = Status.PLUGIN_BROKEN
    message: str = ""
    documents_new: int = 0
    documents_seen: int = 0
    requests: int = 0
    saved_page: str | None = None
    retry_after: dt.timedelta | None = None
    interrupted: bool = False
    challenge_raised: bool = False


class _Stopped(Exception):
    """The runner is stopping while the flow waits for a person (internal)."""


class _Unanswered(Exception):
    """A challenge no stored secret answers and no person answered (internal)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@attrs.frozen
class _Slots:
    downloading: asyncio.Semaphore
    holding: asyncio.Semaphore


class FetchFlow:
    """The coroutine the spider awaits for one connection (``await flow(session)``)."""

    def __init__(self, *, app: Any, connection: Any, connector: Connector, view: Any, options: RunOptions,
                 stop: asyncio.Event, on_document: Callable[[bool], None] | None = None,
                 executor: concurrent.futures.Executor | None = None,
                 writer: DocumentWriter | None = None) -> None:
        self.app = app
        self.connection = connection
        self.connector = connector
        self.view = view
        self.options = options
        self.stop = stop
        self.on_document = on_document
        self.outcome = FlowOutcome()
        self.desk = ChallengeDesk(app.store, app.vault)
        self.session: ScrapyPortalSession | None = None
        self.executor = executor
        self.writer = writer
        self._storing: set[asyncio.Future[Any]] = set()

    async def db(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a blocking store/vault call off the event loop, on the runner's store threads."""
        if self.executor is None:
            return func(*args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self.executor, functools.partial(func, *args, **kwargs))

    # -- entry ----------------------------------------------------------------------

    async def __call__(self, session: ScrapyPortalSession) -> FlowOutcome:
        self.session = session
        out = self.outcome
        try:
            state = await self.db(load_session, self.app.vault, self.connection.id)
            if state:
                session.restore_state(state)
            await self._login()
            # Keep the logged-in session (and any remembered device) now: a
            # listing or download failing later must not cost the user a new
            # 2FA code on the next run.
            await self._save_session()
            if self.stop.is_set():
                out.interrupted = True
            else:
                await self._collect()
            if session.blocked_host:
                raise ForeignHostBlocked(session.blocked_host)
            await self._save_session()
            out.status = Status.CONNECTED
            out.message = self._summary()
        except _Stopped:
            out.interrupted = True
        except asyncio.CancelledError:
            out.interrupted = True
            raise
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a status
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            await self._classify(exc)
        finally:
            out.requests = session.requests
        return out

    async def _save_session(self) -> None:
        assert self.session is not None
        if self.session.blocked_host:
            return
        saved = await self.session.export_state()
        await self.db(save_session, self.app.vault, self.connection.id, saved)

    def _summary(self) -> str:
        out = self.outcome
        if out.interrupted:
            return f"Interrupted by a shutdown after {out.documents_new} new documents; resumes at the next start."
        return f"{out.documents_new} new documents ({out.documents_seen} listed)."

    # -- login and two-factor --------------------------------------------------------

    async def _hook(self, name: str, **kwargs: Any) -> Any:
        return await self.app.host.acall(self.connector, name, **kwargs)

    async def _login(self) -> None:
        try:
            await self._hook("authenticate", session=self.session)
        except TwoFactorRequired as exc:
            await self._two_factor(exc.challenge)

    async def _two_factor(self, challenge: Challenge) -> None:
        session = self.session
        assert session is not None
        if challenge.medium is TwoFactorMedium.APP:
            code = await asyncio.to_thread(session.totp)
            if code is not None:
                try:
                    await self._hook("handle_2fa", session=session, challenge=challenge, code=code)
                    return
                except IncorrectCode:
                    raise _Unanswered("The portal rejected the code generated from the stored authenticator "
                                      "(TOTP) secret: check the secret and the machine's clock.") from None
        if not self.options.interactive:
            await self.db(self.desk.open, self.connection.id, challenge, waiting=False)
            self.outcome.challenge_raised = True
            self.app.host.emit("challenge_raised", connection=self.view, challenge=challenge, interactive=False)
            raise _Unanswered(f"The portal asked for a verification code ({challenge.medium.value}): "
                              f"{challenge.prompt}")
        deadline = time.monotonic() + float(self.options.wait_for_code or 0)
        if challenge.medium is TwoFactorMedium.PUSH:
            self.app.host.emit("challenge_raised", connection=self.view, challenge=challenge, interactive=True)
            await self._hook("handle_2fa", session=session, challenge=challenge, code=None)
            return
        for attempt in range(1, MAX_CODE_ATTEMPTS + 1):
            challenge_id = await self.db(self.desk.open, self.connection.id, challenge)
            self.outcome.challenge_raised = True
            self.app.host.emit("challenge_raised", connection=self.view, challenge=challenge, interactive=True)
            code = await self._wait_for_code(challenge_id, deadline)
            if code is None:
                raise _Unanswered(f"No verification code was submitted within {self.options.wait_for_code:g} s.")
            try:
                await self._hook("handle_2fa", session=session, challenge=challenge, code=code)
                return
            except IncorrectCode as exc:
                if attempt == MAX_CODE_ATTEMPTS or time.monotonic() >= deadline:
                    raise _Unanswered(f"{exc.message} ({attempt} codes refused).") from None
                log.info("connection %s: code refused, asking again", self.connection.id)
                challenge = exc.challenge or challenge

    async def _wait_for_code(self, challenge_id: int, deadline: float) -> str | None:
        waiter = asyncio.ensure_future(self.desk.wait_for_code(challenge_id, deadline))
        stopper = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        if not waiter.done():
            waiter.cancel()
            await self.db(self.desk.close, challenge_id)
            raise _Stopped()
        return waiter.result()

    # -- documents -------------------------------------------------------------------

    async def _collect(self) -> None:
        session = self.session
        assert session is not None
        listing = self.app.host.call(self.connector, "list_documents", session=session, since=session.since)
        if inspect.isawaitable(listing):
            listing = await listing
        if listing is None:
            raise LayoutChanged("the plugin does not implement list_documents")
        per_connection = max(1, self.options.downloads_per_connection)
        # Two bounds: requests to the portal (the politeness cap), and
        # documents held in memory — downloading, or downloaded and waiting
        # to be stored. The next download starts while the last one is
        # being written, and memory stays bounded however long the listing.
        slots = _Slots(downloading=asyncio.Semaphore(per_connection),
                       holding=asyncio.Semaphore(2 * per_connection))
        # Listing runs ahead of downloads (bounded): refs arrive in bursts,
        # one per page, and each burst costs one "already stored?" query.
        refs: asyncio.Queue[Any] = asyncio.Queue(maxsize=_LISTING_AHEAD)
        listed: set[str] = set()

        async def produce() -> None:
            try:
                async for ref in listing:
                    if self.stop.is_set():
                        self.outcome.interrupted = True
                        break
                    if not isinstance(ref, DocumentRef):
                        raise TypeError(f"list_documents yielded {type(ref).__name__}, not a DocumentRef")
                    await refs.put(ref)
            finally:
                aclose = getattr(listing, "aclose", None)
                if aclose is not None:
                    await aclose()
            await refs.put(_END)

        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(produce())
                ended = False
                while not ended:
                    burst = [await refs.get()]
                    while not refs.empty() and len(burst) < _LISTING_AHEAD:
                        burst.append(refs.get_nowait())
                    if burst[-1] is _END:
                        ended = True
                        burst.pop()
                    fresh = [r for r in burst if r.stable_id not in listed]
                    listed.update(r.stable_id for r in fresh)
                    self.outcome.documents_seen += len(fresh)
                    if not fresh:
                        continue
                    # Per-document store calls run on the loop: one short
                    # SQLite statement is cheaper than a thread hand-off.
                    known = self.app.inbox.known(self.connection.id, [r.stable_id for r in fresh])
                    for ref in fresh:
                        if ref.stable_id in known:
                            continue
                        if self.stop.is_set():
                            self.outcome.interrupted = True
                            break
                        await slots.holding.acquire()
                        try:
                            await slots.downloading.acquire()
                        except BaseException:
                            slots.holding.release()
                            raise
                        group.create_task(self._download(ref, slots))
        except BaseExceptionGroup as group_error:
            raise _first(group_error) from None
        finally:
            # A failing download cancels its siblings, but documents already
            # handed to the writer are stored all the same: wait for them,
            # so the run counts every document it stored.
            if self._storing:
                await asyncio.gather(*self._storing, return_exceptions=True)

    async def _download(self, ref: DocumentRef, slots: _Slots) -> None:
        try:
            try:
                if self.stop.is_set():
                    self.outcome.interrupted = True
                    return
                file = await self._hook("download", session=self.session, document=ref)
            finally:
                slots.downloading.release()
            if file is None:
                raise LayoutChanged(f"download of {ref.stable_id} returned nothing")
            if file.document is not None:
                # What the file itself says (a number printed on the invoice)
                # wins over what the listing showed; the identity may not change.
                if file.document.stable_id != ref.stable_id:
                    raise LayoutChanged(
                        f"download of {ref.stable_id} described another document ({file.document.stable_id})")
                ref = file.document
            connection = self.connection
            incoming = Incoming(connection_id=connection.id, connector=self.connector.name,
                                owner=connection.owner, direction=connection.direction, ref=ref, file=file)
            # Shielded: if this task is cancelled (a sibling failed, the
            # runner stops), the document is still stored and counted.
            storing = asyncio.ensure_future(self._store(incoming))
            self._storing.add(storing)
            storing.add_done_callback(self._storing.discard)
            await asyncio.shield(storing)
        finally:
            slots.holding.release()

    async def _store(self, incoming: Incoming) -> None:
        # The inbox writes the file atomically and commits its row in one
        # transaction, on the writer's thread: its fsyncs take milliseconds
        # that would otherwise stall every crawl of the process.
        if self.writer is not None:
            accepted = await self.writer.accept(incoming)
        else:
            accepted = self.app.inbox.accept(**attrs.asdict(incoming, recurse=False))
        if accepted.new:
            self.outcome.documents_new += 1
        if self.on_document is not None:
            self.on_document(accepted.new)

    # -- classification -------------------------------------------------------------

    async def _classify(self, exc: BaseException) -> None:
        out = self.outcome
        session = self.session
        assert session is not None
        secrets = await self.db(session.scrub_values)
        blocked = session.blocked_host
        if blocked is not None and not isinstance(exc, ForeignHostBlocked):
            exc = ForeignHostBlocked(blocked)  # the plugin swallowed it: the foreign host still ends the run
        if isinstance(exc, _Unanswered):
            out.status, out.message = Status.ADDITIONAL_INFO_REQUIRED, exc.message
        elif isinstance(exc, ConnectorOutcome):
            out.status, out.message = exc.status, exc.message
            if isinstance(exc, IncorrectCredentials):
                if exc.hint:
                    out.message = f"{exc.message} {exc.hint}"
                # A session of rejected credentials is worthless; the next login starts clean.
                await self.db(drop_session, self.app.vault, self.connection.id)
            if isinstance(exc, PortalUnavailable):
                out.retry_after = exc.retry_after
            if isinstance(exc, LayoutChanged):
                page = exc.page if isinstance(exc.page, Response) else session.last_response
                out.saved_page = self._save(page, exc.message)
        elif _is_invalid_document(exc):
            out.status = Status.PLUGIN_BROKEN
            out.message = f"A downloaded document was refused by the inbox: {exc}"
            out.saved_page = self._save(session.last_response, "invalid document")
        else:
            out.status = Status.PLUGIN_BROKEN
            out.message = f"Unexpected error in the plugin: {type(exc).__name__}: {exc}"
            # Frames only: the exception's own text could quote a secret, so it is logged scrubbed.
            log.error("connection %s: plugin %s failed: %s\n%s", self.connection.id, self.connector.name,
                      scrub(out.message, secrets), "".join(traceback.format_tb(exc.__traceback__)))
            out.saved_page = self._save(session.last_response, f"unexpected {type(exc).__name__}")
        out.message = scrub(out.message, secrets)[:1000]
        if out.saved_page:
            out.message += f" (page saved: {out.saved_page})"

    def _save(self, page: Response | None, reason: str) -> str | None:
        if page is None or self.session is None:
            return None
        try:
            return self.session.save_page(page, reason)
        except Exception:  # saving evidence must not hide the failure itself
            log.warning("could not save the failing page of connection %s", self.connection.id, exc_info=True)
            return None


def _first(group: BaseExceptionGroup) -> BaseException:
    """The first real failure of a task group (not the cancellations it caused)."""
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first(exc)
        if not isinstance(exc, asyncio.CancelledError):
            return exc
    return group.exceptions[0]


def _is_invalid_document(exc: BaseException) -> bool:
    try:
        from dextcore.inbox import InvalidDocument
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, InvalidDocument)
