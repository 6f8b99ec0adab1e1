"""The runner's document writer: one batch per commit, each caller its own outcome."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Sequence

import pytest

from dextcore.inbox import Accepted, Inbox, Incoming, InvalidDocument
from dextcore.records import DocumentRef, Downloaded
from dextcore.runner.reactor import run
from dextcore.runner.writer import DocumentWriter
from dextcore.sandbox.pdf import simple_pdf
from dextcore.store import Store

MiB = 1024 * 1024


def item(connection_id: int, stable_id: str, body: bytes | None = None) -> Incoming:
    return Incoming(connection_id=connection_id, connector="acme", owner="owner@example.com", direction="cost",
                    ref=DocumentRef(stable_id=stable_id),
                    file=Downloaded(body if body is not None else simple_pdf([(12, stable_id)]), filename="x.pdf"))


class GatedInbox(Inbox):
    """Records each batch; the first one waits for ``gate`` (so others queue up behind it)."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.batches: list[list[str]] = []
        self.gate = threading.Event()
        self.entered = threading.Event()

    def accept_many(self, items: Sequence[Incoming]) -> list[Accepted | Exception]:
        self.batches.append([i.ref.stable_id for i in items])
        if len(self.batches) == 1:
            self.entered.set()
            assert self.gate.wait(timeout=30)
        return super().accept_many(items)


def test_documents_arriving_during_a_write_form_the_next_batch(store: Store, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                               new_connection) -> None:
    cid = new_connection()
    inbox = GatedInbox(store, tmp_path / "inbox", max_bytes=MiB)
    writer = DocumentWriter(inbox, threads=1)

    async def main() -> list[Accepted | BaseException]:
        first = asyncio.ensure_future(writer.accept(item(cid, "D-0")))
        await asyncio.get_running_loop().run_in_executor(None, inbox.entered.wait, 30)
        rest = [asyncio.ensure_future(writer.accept(item(cid, f"D-{n}"))) for n in range(1, 11)]
        await asyncio.sleep(0)  # one turn of the loop: each task hands its document over
        inbox.gate.set()
        return list(await asyncio.gather(first, *rest, return_exceptions=True))

    results = run(main())
    writer.close()
    assert inbox.batches == [["D-0"], [f"D-{n}" for n in range(1, 11)]]
    assert all(isinstance(r, Accepted) and r.new for r in results)
    assert [r.document.stable_id for r in results] == [f"D-{n}" for n in range(11)]  # type: ignore[union-attr]


def test_a_refused_document_fails_only_its_caller(store: Store, tmp_path: Path, new_connection) -> None:  # type: ignore[no-untyped-def]
    cid = new_connection()
    writer = DocumentWriter(Inbox(store, tmp_path / "inbox", max_bytes=MiB))

    async def main() -> list[Accepted | BaseException]:
        return list(await asyncio.gather(
            writer.accept(item(cid, "good")), writer.accept(item(cid, "login page", b"<html>Sign in</html>")),
            writer.accept(item(cid, "also good")), return_exceptions=True))

    good, refused, also_good = run(main())
    writer.close()
    assert isinstance(refused, InvalidDocument) and "HTML page" in str(refused)
    assert isinstance(good, Accepted) and good.new and isinstance(also_good, Accepted) and also_good.new


def test_a_cancelled_caller_does_not_lose_its_document(store: Store, tmp_path: Path, new_connection) -> None:  # type: ignore[no-untyped-def]
    cid = new_connection()
    inbox = GatedInbox(store, tmp_path / "inbox", max_bytes=MiB)
    writer = DocumentWriter(inbox)

    async def main() -> bool:
        waiting = asyncio.ensure_future(writer.accept(item(cid, "shutdown")))
        await asyncio.get_running_loop().run_in_executor(None, inbox.entered.wait, 30)
        waiting.cancel()  # e.g. the runner is shutting down
        with pytest.raises(asyncio.CancelledError):
            await waiting
        return waiting.cancelled()

    assert run(main())
    inbox.gate.set()
    writer.close()  # waits for the document handed over
    assert inbox.known(cid, ["shutdown"]) == {"shutdown"}
    assert [p.name.endswith(".pdf") for p in (tmp_path / "inbox").rglob("*") if p.is_file()] == [True]
