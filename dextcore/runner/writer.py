"""One writer for the documents of every crawl in the process (group commit).

Each crawl hands its downloaded documents to :class:`DocumentWriter`; its
threads (two by default) store them with :meth:`Inbox.accept_many`.
Documents that arrive while a batch is being written form the next batch,
so there is no timer and no added wait: a lone document is written at
once, and under load one transaction and one flush per folder carry many
documents. With two threads one batch's files are written and flushed
while the other batch commits (the inbox lets one commit at a time, rather
than have SQLite make writers poll for its lock). Storing each document on
its own store thread cost more CPU and more waiting (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import threading
from typing import Any

from dextcore.inbox import Accepted, Inbox, Incoming

__all__ = ["DocumentWriter"]

log = logging.getLogger(__name__)

_Queued = tuple[Incoming, "asyncio.Future[Accepted]", asyncio.AbstractEventLoop]


class DocumentWriter:
    """Stores documents handed over by concurrent crawls, a batch per commit."""

    def __init__(self, inbox: Inbox, *, threads: int = 2, max_batch: int = 64) -> None:
        self.inbox = inbox
        self.max_batch = max_batch
        self.threads = threads
        self._queue: collections.deque[_Queued] = collections.deque()
        self._lock = threading.Lock()
        self._draining = 0
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dextcore-inbox")

    async def accept(self, item: Incoming) -> Accepted:
        """Store ``item``; raises what :meth:`Inbox.accept` would raise.

        Cancelling the caller does not cancel the write: a document handed
        over is stored (or refused) whole, and :meth:`close` waits for it.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Accepted] = loop.create_future()
        with self._lock:
            self._queue.append((item, future, loop))
            start = self._draining < self.threads
            if start:
                self._draining += 1
        if start:
            self._pool.submit(self._drain)
        return await future

    def close(self) -> None:
        """Wait until every document handed over has been written."""
        self._pool.shutdown(wait=True)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._draining -= 1
                    return
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), self.max_batch))]
            try:
                outcomes: list[Any] = self.inbox.accept_many([item for item, _, _ in batch])
            except Exception as exc:  # accept_many reports per document; this is the store itself failing
                log.exception("storing %d documents failed", len(batch))
                outcomes = [exc] * len(batch)
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Accepted], Any]]] = {}
            for (_, future, loop), outcome in zip(batch, outcomes):
                by_loop.setdefault(loop, []).append((future, outcome))
            for loop, settled in by_loop.items():
                try:
                    loop.call_soon_threadsafe(_settle, settled)
                except RuntimeError:  # the loop has closed: nobody is waiting any more
                    pass


def _settle(settled: list[tuple[asyncio.Future[Accepted], Any]]) -> None:
    for future, outcome in settled:
        if future.done():  # the caller was cancelled; the document is stored all the same
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
