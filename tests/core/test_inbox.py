"""The inbox: validation, deduplication, atomic storage, bookkeeping."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

import dextcore.inbox as inbox_module
from dextcore.inbox import Accepted, Inbox, Incoming, InvalidDocument, StoredDocument, sanitize_filename
from dextcore.records import Direction, DocumentKind, DocumentRef, Downloaded
from dextcore.sandbox.pdf import simple_pdf
from dextcore.store import Store, schema

MiB = 1024 * 1024


def pdf(text: str) -> bytes:
    return simple_pdf([(12, text)], title=text)


def files_under(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file()) if directory.exists() else []


def connection_row(store: Store, connection_id: int) -> sa.RowMapping:
    with store.begin() as conn:
        return conn.execute(sa.select(schema.connections).where(schema.connections.c.id == connection_id)).one()._mapping


def document_count(store: Store) -> int:
    with store.begin() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(schema.documents)).scalar_one()


@pytest.fixture
def collected() -> list[StoredDocument]:
    return []


@pytest.fixture
def inbox(store: Store, tmp_path: Path, collected: list[StoredDocument]) -> Inbox:
    return Inbox(store, tmp_path / "inbox", max_bytes=1 * MiB, on_collected=collected.append)


def accept(inbox: Inbox, connection_id: int, stable_id: str, body: bytes, *, filename: str | None = "invoice.pdf",
           **ref: object) -> Accepted:
    return inbox.accept(connection_id=connection_id, connector="acme", owner="owner@example.com",
                        direction=Direction.COST, ref=DocumentRef(stable_id=stable_id, **ref),  # type: ignore[arg-type]
                        file=Downloaded(body, filename=filename, content_type="application/pdf"))


def test_accept_stores_file_row_and_counts(inbox: Inbox, store: Store, new_connection,  # type: ignore[no-untyped-def]
                                           collected: list[StoredDocument]) -> None:
    cid = new_connection()
    body = pdf("Invoice INV-1")
    seen_in_callback: list[StoredDocument] = []
    # The callback runs after the commit: a fresh read already sees the row.
    inbox.on_collected = lambda doc: (collected.append(doc), seen_in_callback.append(inbox.get(doc.id)))

    result = accept(inbox, cid, "order-1/invoice-1", body, kind=DocumentKind.INVOICE, number="INV-1",
                    date=dt.date(2026, 3, 1), total="12.30", tax="2.05", currency="GBP", supplier="Acme Ltd")

    assert result.new and result.duplicate_of is None
    doc = result.document
    assert doc is not None
    sha = hashlib.sha256(body).hexdigest()
    assert doc.sha256 == sha and doc.size == len(body)
    assert doc.path == inbox.directory / sha[:2] / f"{sha}.pdf"
    assert doc.path.is_absolute() and doc.path.read_bytes() == body
    assert (doc.connection_id, doc.connector, doc.owner, doc.direction) == (cid, "acme", "owner@example.com", Direction.COST)
    assert (doc.kind, doc.number, doc.date, doc.supplier) == (DocumentKind.INVOICE, "INV-1", dt.date(2026, 3, 1), "Acme Ltd")
    assert (doc.total, doc.tax, doc.currency) == (Decimal("12.30"), Decimal("2.05"), "GBP")
    assert doc.original_filename == "invoice.pdf"
    assert files_under(inbox.directory) == [doc.path]

    assert inbox.get(doc.id) == doc
    assert inbox.list(cid) == [doc]
    assert collected == [doc] and seen_in_callback == [doc]

    row = connection_row(store, cid)
    assert row["documents_count"] == 1
    fetched = row["last_fetched_at"]
    assert fetched is not None
    assert abs((fetched.replace(tzinfo=dt.timezone.utc) if fetched.tzinfo is None else fetched) - doc.fetched_at) \
        < dt.timedelta(seconds=1)


def test_duplicates_by_stable_id_and_by_content(inbox: Inbox, store: Store, new_connection,  # type: ignore[no-untyped-def]
                                                collected: list[StoredDocument]) -> None:
    first_conn, second_conn = new_connection(), new_connection(connector="other")
    first = accept(inbox, first_conn, "A-1", pdf("one")).document
    assert first is not None

    # Same stable id, different bytes (Amazon regenerates PDFs): duplicate.
    again = accept(inbox, first_conn, "A-1", pdf("one, regenerated"))
    assert again == Accepted(None, first.id) and not again.new
    # Same bytes through another path or another connection: duplicate.
    assert accept(inbox, first_conn, "A-1-other-path", pdf("one")) == Accepted(None, first.id)
    assert accept(inbox, second_conn, "B-9", pdf("one")) == Accepted(None, first.id)
    # The same stable id in another connection is another document.
    other = accept(inbox, second_conn, "A-1", pdf("two"))
    assert other.new

    assert collected == [first, other.document]
    assert connection_row(store, first_conn)["documents_count"] == 1
    assert connection_row(store, second_conn)["documents_count"] == 1
    assert len(files_under(inbox.directory)) == 2
    assert inbox.known(first_conn, ["A-1", "A-2", "A-1-other-path"]) == {"A-1"}
    assert inbox.known(second_conn, ["A-1"]) == {"A-1"}
    assert inbox.known(first_conn, [f"X-{i}" for i in range(1200)] + ["A-1"]) == {"A-1"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"  \r\n\t ", "empty"),
        (b"\xef\xbb\xbf\n  <!DOCTYPE html><html><body><form id='signIn'>", "the portal sent an HTML page"),
        (b"<HTML><head><title>Sign in</title></head></HTML>", "probably its sign-in page"),
        (b"PK\x03\x04 a zip file", "does not start with %PDF-"),
        (pdf("cut short")[:-200], "no %%EOF marker"),
        (b"%PDF-1.4\n" + b"0" * (1 * MiB) + b"\n%%EOF\n", r"larger than 1 MiB \(1\.0 MiB\)"),
    ],
    ids=["empty", "blank", "html-with-bom", "html-uppercase", "zip", "truncated", "too-large"],
)
def test_invalid_documents_are_refused_and_nothing_is_stored(inbox: Inbox, store: Store, new_connection,  # type: ignore[no-untyped-def]
                                                             collected: list[StoredDocument], body: bytes,
                                                             message: str) -> None:
    cid = new_connection()
    with pytest.raises(InvalidDocument, match=message):
        accept(inbox, cid, "X", body)
    assert document_count(store) == 0
    assert files_under(inbox.directory) == []
    assert collected == []
    assert connection_row(store, cid)["documents_count"] == 0


def test_pdf_after_bom_and_whitespace_is_accepted(inbox: Inbox, new_connection) -> None:  # type: ignore[no-untyped-def]
    body = b"\xef\xbb\xbf\r\n " + pdf("leading junk")
    doc = accept(inbox, new_connection(), "bom", body).document
    assert doc is not None and doc.path.read_bytes() == body


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\evil.pdf", "evil.pdf"),
        ("in\x00voice\x1b[31m.pdf", "invoice[31m.pdf"),
        ("\u202efdp.exe", "fdp.exe"),
        ("..hidden.pdf", "hidden.pdf"),
        ('what?<is>"this".pdf', "what__is__this_.pdf"),
        ("  many   spaces  .pdf", "many spaces .pdf"),
        ("/", None),
        ("", None),
        (None, None),
    ],
)
def test_sanitize_filename(raw: str | None, clean: str | None) -> None:
    assert sanitize_filename(raw) == clean


def test_long_filename_keeps_extension() -> None:
    cleaned = sanitize_filename("a" * 400 + ".pdf")
    assert cleaned is not None and len(cleaned) == 255 and cleaned.endswith(".pdf")


def test_stored_filename_is_sanitised_and_not_a_path(inbox: Inbox, new_connection) -> None:  # type: ignore[no-untyped-def]
    doc = accept(inbox, new_connection(), "evil", pdf("evil"), filename="../../../tmp/owned.pdf").document
    assert doc is not None
    assert doc.original_filename == "owned.pdf"
    assert doc.path.parent.parent == inbox.directory
    assert not (inbox.directory.parent / "tmp").exists()


def test_failed_write_leaves_no_partial_file_and_no_row(inbox: Inbox, store: Store, new_connection,  # type: ignore[no-untyped-def]
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        collected: list[StoredDocument]) -> None:
    cid = new_connection()

    def disk_full(src, dst):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(inbox_module.os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        accept(inbox, cid, "X", pdf("disk full"))
    monkeypatch.undo()

    assert files_under(inbox.directory) == []  # the temporary file was removed too
    assert document_count(store) == 0
    assert connection_row(store, cid)["documents_count"] == 0  # the count rolled back with the row
    assert collected == []
    assert accept(inbox, cid, "X", pdf("disk full")).new  # and it can be collected later


def test_unknown_connection(inbox: Inbox, store: Store) -> None:
    with pytest.raises(LookupError, match="no connection 999"):
        accept(inbox, 999, "X", pdf("orphan"))
    assert document_count(store) == 0 and files_under(inbox.directory) == []
    with pytest.raises(LookupError, match="no document 5"):
        inbox.get(5)


def test_plugin_bugs_in_refs_are_errors(inbox: Inbox, new_connection) -> None:  # type: ignore[no-untyped-def]
    cid = new_connection()
    with pytest.raises(ValueError, match="stable_id"):
        accept(inbox, cid, "x" * 501, pdf("long id"))
    with pytest.raises(ValueError, match="ISO 4217"):
        accept(inbox, cid, "ok", pdf("bad currency"), currency="£")


class _RacingInbox(Inbox):
    """Behaves as if another fetch stored the same document between this
    accept's duplicate check and its insert: the check sees nothing once."""

    raced = False

    def _find_duplicate(self, conn, connection_id, stable_id, sha256):  # type: ignore[no-untyped-def]
        if not self.raced:
            self.raced = True
            return None
        return super()._find_duplicate(conn, connection_id, stable_id, sha256)


def test_race_on_stable_id_is_settled_by_the_unique_constraint(store: Store, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                               new_connection) -> None:
    cid = new_connection()
    collected: list[StoredDocument] = []
    first = accept(Inbox(store, tmp_path / "inbox", max_bytes=MiB), cid, "A-1", pdf("first")).document
    racing = _RacingInbox(store, tmp_path / "inbox", max_bytes=MiB, on_collected=collected.append)

    assert accept(racing, cid, "A-1", pdf("second copy")) == Accepted(None, first.id)  # type: ignore[union-attr]
    assert collected == []
    assert connection_row(store, cid)["documents_count"] == 1
    # The loser's file was removed; the winner's stays.
    assert files_under(tmp_path / "inbox") == [first.path]  # type: ignore[union-attr]


def test_race_on_content_keeps_the_shared_file(store: Store, tmp_path: Path, new_connection) -> None:  # type: ignore[no-untyped-def]
    a, b = new_connection(), new_connection()
    first = accept(Inbox(store, tmp_path / "inbox", max_bytes=MiB), a, "A-1", pdf("shared")).document
    racing = _RacingInbox(store, tmp_path / "inbox", max_bytes=MiB)
    assert accept(racing, b, "B-1", pdf("shared")) == Accepted(None, first.id)  # type: ignore[union-attr]
    assert first.path.read_bytes() == pdf("shared")  # type: ignore[union-attr]
    assert connection_row(store, b)["documents_count"] == 0


def test_concurrent_accepts_of_one_document_store_it_once(store: Store, tmp_path: Path, new_connection) -> None:  # type: ignore[no-untyped-def]
    cid = new_connection()
    inbox = Inbox(store, tmp_path / "inbox", max_bytes=MiB)
    start = threading.Barrier(4)
    results: list[Accepted] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            start.wait(timeout=10)
            result = accept(inbox, cid, "same", pdf("same"))
            with lock:
                results.append(result)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert sum(r.new for r in results) == 1 and len(results) == 4
    assert connection_row(store, cid)["documents_count"] == 1
    assert len(files_under(tmp_path / "inbox")) == 1


def test_deleting_a_connection_keeps_its_documents(inbox: Inbox, store: Store, new_connection) -> None:  # type: ignore[no-untyped-def]
    cid = new_connection()
    doc = accept(inbox, cid, "keep-me", pdf("keep me")).document
    assert doc is not None
    with store.begin() as conn:
        if store.dialect == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        conn.execute(schema.connections.delete().where(schema.connections.c.id == cid))

    kept = inbox.get(doc.id)
    assert kept.connection_id is None
    assert kept.path.read_bytes() == pdf("keep me")
    assert (kept.connector, kept.stable_id, kept.sha256) == ("acme", "keep-me", doc.sha256)
    assert inbox.list(cid) == []
    assert inbox.list() == [kept]


def test_failing_callback_does_not_lose_the_document(store: Store, tmp_path: Path, new_connection,  # type: ignore[no-untyped-def]
                                                     caplog: pytest.LogCaptureFixture) -> None:
    def broken(doc: StoredDocument) -> None:
        raise RuntimeError("listener bug")

    inbox = Inbox(store, tmp_path / "inbox", max_bytes=MiB, on_collected=broken)
    result = accept(inbox, new_connection(), "A", pdf("callback"))
    assert result.new
    assert inbox.get(result.document.id) == result.document  # type: ignore[union-attr]
    assert "on_collected failed" in caplog.text


def test_existing_partial_file_at_final_path_is_replaced(inbox: Inbox, new_connection) -> None:  # type: ignore[no-untyped-def]
    body = pdf("left over")
    sha = hashlib.sha256(body).hexdigest()
    target = inbox.directory / sha[:2] / f"{sha}.pdf"
    target.parent.mkdir(parents=True)
    target.write_bytes(body[:10])  # e.g. copied in by hand and cut short
    doc = accept(inbox, new_connection(), "A", body).document
    assert doc is not None and doc.path == target and target.read_bytes() == body
    assert [p.name for p in target.parent.iterdir()] == [target.name]
    assert os.stat(target).st_size == len(body)


# -- several documents at once (the runner's group commit) ---------------------------


def incoming(connection_id: int, stable_id: str, body: bytes) -> Incoming:
    return Incoming(connection_id=connection_id, connector="acme", owner="owner@example.com", direction="cost",
                    ref=DocumentRef(stable_id=stable_id), file=Downloaded(body, filename=f"{stable_id}.pdf"))


def test_accept_many_gives_each_document_its_own_outcome(inbox: Inbox, store: Store, new_connection,  # type: ignore[no-untyped-def]
                                                         collected: list[StoredDocument]) -> None:
    a, b = new_connection(), new_connection()
    stored_before = accept(inbox, a, "old", pdf("old")).document
    assert stored_before is not None
    collected.clear()

    outcomes = inbox.accept_many([
        incoming(a, "A-1", pdf("a1")),
        incoming(a, "html", b"<html><body>Sign in</body></html>"),
        incoming(a, "A-1", pdf("a1, regenerated")),  # same stable id as an earlier one of the batch
        incoming(b, "B-1", pdf("a1")),  # same bytes as an earlier one, another connection
        incoming(a, "old", pdf("old, again")),  # already stored before the batch
        incoming(999, "Z-1", pdf("orphan")),  # no such connection
        incoming(b, "B-2", pdf("b2")),
    ])

    first, html, same_id, same_bytes, old, orphan, b2 = outcomes
    assert isinstance(first, Accepted) and first.document is not None
    assert isinstance(html, InvalidDocument) and "HTML page" in str(html)
    assert same_id == Accepted(None, first.document.id)
    assert same_bytes == Accepted(None, first.document.id)
    assert old == Accepted(None, stored_before.id)
    assert isinstance(orphan, LookupError) and "no connection 999" in str(orphan)
    assert isinstance(b2, Accepted) and b2.document is not None and b2.document.connection_id == b

    assert collected == [first.document, b2.document]  # after the commit, in the batch's order
    assert connection_row(store, a)["documents_count"] == 2  # "old" and "A-1"
    assert connection_row(store, b)["documents_count"] == 1
    assert document_count(store) == 3
    assert sorted(files_under(inbox.directory)) == sorted([stored_before.path, first.document.path, b2.document.path])


def test_a_failed_write_in_a_batch_fails_only_that_document(inbox: Inbox, store: Store, new_connection,  # type: ignore[no-untyped-def]
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    cid = new_connection()
    doomed = hashlib.sha256(pdf("doomed")).hexdigest()
    real_replace = os.replace

    def replace(src, dst):  # type: ignore[no-untyped-def]
        if doomed in str(dst):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(inbox_module.os, "replace", replace)
    outcomes = inbox.accept_many([incoming(cid, "1", pdf("one")), incoming(cid, "2", pdf("doomed")),
                                  incoming(cid, "3", pdf("three"))])
    monkeypatch.undo()

    one, failed, three = outcomes
    assert isinstance(failed, OSError) and "No space left" in str(failed)
    assert isinstance(one, Accepted) and one.new and isinstance(three, Accepted) and three.new
    assert document_count(store) == 2 and connection_row(store, cid)["documents_count"] == 2
    # Nothing half-written: no temporary file, no file of the failed document.
    assert sorted(files_under(inbox.directory)) == sorted([one.document.path, three.document.path])  # type: ignore[union-attr]
    assert accept(inbox, cid, "2", pdf("doomed")).new  # collected on the next run


def test_a_race_lost_inside_a_batch_keeps_the_rest_of_the_batch(store: Store, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                 new_connection) -> None:
    cid = new_connection()
    winner = accept(Inbox(store, tmp_path / "inbox", max_bytes=MiB), cid, "A-1", pdf("first")).document
    assert winner is not None
    racing = _RacingInbox(store, tmp_path / "inbox", max_bytes=MiB)

    lost, fresh = racing.accept_many([incoming(cid, "A-1", pdf("second copy")), incoming(cid, "A-2", pdf("new"))])

    assert lost == Accepted(None, winner.id)
    assert isinstance(fresh, Accepted) and fresh.new
    assert connection_row(store, cid)["documents_count"] == 2
    assert sorted(files_under(tmp_path / "inbox")) == sorted([winner.path, fresh.document.path])  # type: ignore[union-attr]
