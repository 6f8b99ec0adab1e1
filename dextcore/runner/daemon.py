"""``dextcore run``: the scheduler daemon.

Every ``poll`` seconds (or as soon as a fetch finishes) it asks the store
for due connections — one indexed query — claims them and starts their
fetches within the runner's caps. SIGINT/SIGTERM stop it cleanly: no new
work is taken, running fetches stop listing, the documents in flight are
stored (each atomically, file and row together) and the process exits; a
second signal cancels what is left — a document is then either wholly
stored or not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any, Iterator

from dextcore.runner.orchestrator import FetchResult, Runner
from dextcore.runner.schedule import claim, due_connections
from dextcore.store import utcnow

__all__ = ["serve", "stop_on_signals"]

log = logging.getLogger(__name__)


@contextlib.contextmanager
def stop_on_signals(runner: Runner) -> Iterator[None]:
    """First SIGINT/SIGTERM: graceful stop; second: abort."""
    loop = asyncio.get_event_loop()
    received = {"count": 0}

    def handle(signum: int) -> None:
        received["count"] += 1
        if received["count"] == 1:
            log.warning("%s received: finishing documents in flight, taking no new work",
                        signal.Signals(signum).name)
            runner.request_stop()
        else:
            log.warning("second signal: aborting running fetches")
            loop.create_task(runner.abort())

    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, handle, signum)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
            pass
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


async def serve(runner: Runner, *, poll: float = 30.0, once: bool = False) -> list[FetchResult]:
    """Run due connections until stopped (or, with ``once``, until nothing is due or running)."""
    app: Any = runner.app
    tasks: set[asyncio.Task[FetchResult]] = set()
    results: list[FetchResult] = []
    stopper = asyncio.ensure_future(runner.stop.wait())
    try:
        while not runner.stop.is_set():
            # Claim only what can start now: a connection claimed but queued
            # here could have run at once in another worker.
            free = runner.max_crawls - len(tasks)
            started = 0
            if free > 0:
                now = utcnow()
                ids = await runner._db(due_connections, app.store, now, limit=free,
                                              exclude=set(runner.running))
                for connection_id in ids:
                    if await runner._db(claim, app.store, connection_id, now):
                        task = asyncio.ensure_future(runner._guarded(connection_id))
                        tasks.add(task)
                        started += 1
                runner.progress.planned(started)
            if once and not tasks:
                break
            done, _ = await asyncio.wait(tasks | {stopper}, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopper:
                    tasks.discard(task)  # type: ignore[arg-type]
                    results.append(task.result())  # type: ignore[arg-type]
        if tasks:
            results.extend(await asyncio.gather(*tasks))
    finally:
        stopper.cancel()
    return results
