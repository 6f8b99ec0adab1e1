"""Fetching from an asyncio application without blocking its event loop.

An app with its own asyncio loop (a web app's background worker, a bot, a
queue consumer) cannot call ``app.fetch()``: that drives the process's one
Twisted reactor with ``run_until_complete`` and would block the app's loop
for the whole fetch. Instead, one dedicated thread owns the reactor for the
life of the process; the app hands it fetches with
``asyncio.run_coroutine_threadsafe`` and awaits the results. dextcore's
events (documents collected, status changes) are handed back to the app's
loop with ``loop.call_soon_threadsafe`` into an ``asyncio.Queue``.

This program starts the BT sandbox portal, connects two of its demo
accounts, fetches both at once while a heartbeat task keeps ticking on the
app's loop, and prints what the app received. Run it in a scratch folder::

    DEXTCORE_HOME=/tmp/dextcore-async python docs/examples/worker_async.py

tests/docs/test_embedding_examples.py runs this file as it is.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any

from dextcore import Dextcore, hookimpl
from dextcore.runner import FetchResult, Runner
from dextcore.sandbox import SandboxServer
from dextcore_bt_business.sandbox import BTPortal

OWNER = "ops@webapp.example"
SCENARIOS = ("ok", "multi-account")  # two BT demo accounts: 1 and 3 billing accounts
HEARTBEAT = 0.02  # seconds between the app's heartbeat ticks


class DextcoreWorker:
    """The process's dextcore fetch thread: owns the Twisted reactor and one :class:`Runner`.

    Start it once and keep it for the life of the process (a Twisted reactor
    cannot be restarted). Every fetch runs on its thread; asyncio code on
    any other loop awaits :meth:`fetch`. Fetches run concurrently within
    the runner's caps (``max_crawls``, per-connector ``max_concurrency``).
    """

    def __init__(self, app: Dextcore, **runner_options: Any) -> None:
        self.app = app
        self._options = runner_options
        self._thread = threading.Thread(target=self._main, name="dextcore-reactor", daemon=True)
        self._ready = concurrent.futures.Future[None]()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: Runner | None = None
        self._stop: asyncio.Event | None = None
        self._running: set[asyncio.Task[FetchResult]] = set()

    def start(self) -> DextcoreWorker:
        """Start the thread; returns once it accepts fetches (raises what stopped it otherwise)."""
        self._thread.start()
        self._ready.result()
        return self

    def _main(self) -> None:
        from dextcore.runner import reactor

        try:
            # Installed here, so this thread is the reactor's (Twisted's "I/O thread").
            reactor.run(self._serve())
        except BaseException as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
            raise
        finally:
            reactor.shutdown()  # stops Twisted's thread pool; this process cannot crawl again

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._runner = Runner(self.app, **self._options)  # created on the reactor's loop, as it must be
        self._ready.set_result(None)
        try:
            await self._stop.wait()
            self._runner.request_stop()  # running fetches store the documents in flight, then end
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)
        finally:
            self._runner.close()

    async def _tracked(self, connection_id: int, kwargs: dict[str, Any]) -> FetchResult:
        assert self._runner is not None
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        try:
            return await self._runner.fetch(connection_id, **kwargs)
        finally:
            self._running.discard(task)

    async def fetch(self, connection_id: int, *, force: bool = False,
                    wait_for_code: float | None = None) -> FetchResult:
        """Fetch one connection on the worker thread; await it from any asyncio loop.

        ``force`` is a person's "Force fetch" (trigger ``forced``); with
        ``wait_for_code`` it waits that long for a code given with
        ``app.submit_code``. Cancelling the awaiting task does not stop the
        fetch: it ends on the worker and records its outcome (a crawl cut
        in the middle would leave the connection "Connecting");
        :meth:`close` stops every fetch cleanly.
        """
        if self._loop is None:
            raise RuntimeError("start() the worker first")
        kwargs = {"trigger": "forced" if force else "scheduled",
                  "wait_for_code": wait_for_code if force else None}
        future = asyncio.run_coroutine_threadsafe(self._tracked(connection_id, kwargs), self._loop)
        return await asyncio.shield(asyncio.wrap_future(future))

    def close(self) -> None:
        """Stop taking fetches, let running ones finish their documents in flight, stop the reactor."""
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()


class AppInbox:
    """The app's side of dextcore's event hooks.

    Hooks run on whichever thread made the change (the runner's store
    threads, here); each one only hands a plain tuple to the app's loop.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.events: asyncio.Queue[tuple[str, ...]] = asyncio.Queue()

    def _hand_over(self, *event: str) -> None:
        self.loop.call_soon_threadsafe(self.events.put_nowait, event)

    @hookimpl
    def document_collected(self, connection, document):
        self._hand_over("document", str(connection.id), document.number or document.stable_id, str(document.total))

    @hookimpl
    def status_changed(self, connection, old, new, reason):
        self._hand_over("status", str(connection.id), old.label if old else "new", new.label)

    @hookimpl
    def alert(self, recipient, subject, body, connection):
        self._hand_over("alert", recipient, subject)
        return True  # shown in the app's notifications: dextcore sends no e-mail


class Heartbeat:
    """Ticks on the app's loop; counts the ticks that happen while fetches run."""

    def __init__(self) -> None:
        self.ticks = 0
        self.during_fetches = 0
        self.fetching = False

    async def run(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)  # the app's own periodic work, not synchronisation
            self.ticks += 1
            if self.fetching:
                self.during_fetches += 1


async def feed(inbox: AppInbox, heartbeat: Heartbeat, received: list[tuple[bool, tuple[str, ...]]]) -> None:
    """The app's consumer: where it would store documents and notify users."""
    while True:
        event = await inbox.events.get()
        received.append((heartbeat.fetching, event))
        inbox.events.task_done()


async def main() -> int:
    loop = asyncio.get_running_loop()
    inbox = AppInbox(loop)
    heartbeat = Heartbeat()
    received: list[tuple[bool, tuple[str, ...]]] = []
    background = [asyncio.create_task(heartbeat.run()), asyncio.create_task(feed(inbox, heartbeat, received))]

    with SandboxServer([BTPortal]) as sandbox:
        # Opening the store and creating connections are short blocking
        # calls: a thread keeps them off the app's loop too.
        app = await asyncio.to_thread(Dextcore.open, plugins=[inbox])
        worker = await asyncio.to_thread(DextcoreWorker(app).start)
        try:
            accounts = {a.scenario: a for a in sandbox.portal("bt").demo_accounts()}
            ids = []
            for scenario in SCENARIOS:
                account = accounts[scenario]
                created = await asyncio.to_thread(
                    app.connections.create, connector=account.connector, variant=account.variant,
                    owner=OWNER, created_by=OWNER, username=account.username, password=account.password,
                    base_url=sandbox.base_url("bt", account.variant))  # the sandbox instead of bt.com
                ids.append(created.connection.id)
                print(f"connection {created.connection.id}: BT Business as {account.username}")

            # Both fetches at once, awaited from the app's loop.
            heartbeat.fetching = True
            results = await asyncio.gather(*(worker.fetch(i, force=True) for i in ids))
            heartbeat.fetching = False
        finally:
            await asyncio.to_thread(worker.close)
            app.close()
    # Every hook has run by now and handed its event over: let the feed drain them.
    await inbox.events.join()
    for task in background:
        task.cancel()

    print()
    for result in results:
        print(f"fetched connection {result.connection_id}: {result.status.label}, "
              f"{result.documents_new} new documents, {result.requests} requests")
    events = [event for _, event in received]
    documents = [e for e in events if e[0] == "document"]
    statuses = [e for e in events if e[0] == "status"]
    alerts = [e for e in events if e[0] == "alert"]
    print(f"events on the app's loop: {len(documents)} documents, {len(statuses)} status changes, "
          f"{len(alerts)} alerts ({sum(during for during, _ in received)} while fetches ran)")
    for connection_id in map(str, ids):
        changes = [f"{old} -> {new}" for _, cid, old, new in statuses if cid == connection_id]
        print(f"  connection {connection_id}: {sum(1 for e in documents if e[1] == connection_id)} documents; "
              f"statuses: {'; '.join(changes)}")
    for _, recipient, subject in alerts:
        print(f"  alert for {recipient}: {subject}")
    # Concurrency, seen from the app: documents of the two connections arrived interleaved.
    order = [e[1] for e in documents]
    switches = sum(1 for a, b in zip(order, order[1:]) if a != b)
    print(f"document events switched connection {switches} times")
    print(f"heartbeat: {heartbeat.during_fetches} ticks while fetching ({heartbeat.ticks} in all)")
    return 0 if all(r.status.value == "connected" for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
