"""The inbox: where collected documents are validated, deduplicated and kept.

A document is accepted once. It is refused when it is not a PDF (portals
answer an expired session with their sign-in page), too large, empty or
cut short; it is a duplicate when its connection already holds its
``stable_id`` or when any connection holds the same bytes (the same invoice
seen through two paths). Accepted files are written atomically to a
content-addressed folder, ``<inbox>/<sha[:2]>/<sha>.pdf``, and recorded with
the connection's document count in one transaction. The database's unique
constraints settle races between concurrent fetches.

Documents outlive their connection: deleting a connection sets their
``connection_id`` to NULL and keeps the files.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import logging
import os
import re
import tempfile
import threading
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import attrs
import sqlalchemy as sa

from dextcore.durable import fsync_dir
from dextcore.records import Direction, DocumentKind, DocumentRef, Downloaded
from dextcore.store import Store, as_utc, schema, utcnow

__all__ = [
    "Accepted", "Inbox", "Incoming", "InvalidDocument", "StoredDocument", "is_pdf", "sanitize_filename",
    "validate_pdf"]

log = logging.getLogger(__name__)

_MAX_FILENAME = 255
_MAX_STABLE_ID = 500
_MAX_TEXT = 255
# PDF readers look for the end-of-file marker within the last 1024 bytes.
_EOF_WINDOW = 1024
_SNIFF = 1024
_LEADING = b" \t\r\n\f\x00"
_BOM = b"\xef\xbb\xbf"


class InvalidDocument(Exception):
    """The downloaded bytes are not a document the inbox keeps.

    The message says why in words a user understands ("not a PDF: the
    portal sent an HTML page ...", "larger than 25 MiB", "empty").
    """


@attrs.frozen
class StoredDocument:
    """A document in the inbox: the portal's facts about it and where its PDF is."""

    id: int
    connection_id: int | None
    """``None`` once its connection has been deleted."""
    connector: str
    owner: str
    direction: Direction
    stable_id: str
    kind: DocumentKind
    supplier: str | None
    number: str | None
    date: dt.date | None
    total: Decimal | None
    currency: str | None
    tax: Decimal | None
    original_filename: str | None
    """The portal's file name, sanitised (metadata only, never a path)."""
    sha256: str
    size: int
    path: Path
    """Absolute path of the PDF."""
    fetched_at: dt.datetime


@attrs.frozen
class Accepted:
    """What :meth:`Inbox.accept` did: stored a new document or found a duplicate."""

    document: StoredDocument | None
    """The stored document; ``None`` when it was a duplicate."""
    duplicate_of: int | None = None
    """Id of the already stored document, for a duplicate."""

    @property
    def new(self) -> bool:
        return self.document is not None


@attrs.frozen
class Incoming:
    """A downloaded document on its way into the inbox (see :meth:`Inbox.accept_many`)."""

    connection_id: int
    connector: str
    owner: str
    direction: Direction | str
    ref: DocumentRef
    file: Downloaded = attrs.field(repr=False)


@attrs.define
class _Pending:
    """An incoming document that passed validation, with what storing it needs."""

    index: int
    body: bytes = attrs.field(repr=False)
    sha: str
    final: Path
    values: dict[str, Any]

    @property
    def connection_id(self) -> int:
        return int(self.values["connection_id"])

    @property
    def stable_id(self) -> str:
        return str(self.values["stable_id"])


def _mib(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f} MiB" if value == int(value) else f"{value:.1f} MiB"


def _head(body: bytes) -> bytes:
    head = body[:_SNIFF]
    if head.startswith(_BOM):
        head = head[len(_BOM):]
    return head.lstrip(_LEADING)


def is_pdf(body: bytes) -> bool:
    """Whether ``body`` starts like a PDF (a byte-order mark and leading
    whitespace tolerated). Portals answer an expired session with their
    sign-in page and status 200: this tells the two apart."""
    return _head(body).startswith(b"%PDF-")


def validate_pdf(body: bytes, *, max_bytes: int) -> None:
    """Raise :class:`InvalidDocument` unless ``body`` looks like a whole PDF."""
    if not body or not body.strip(_LEADING):
        raise InvalidDocument("empty: the portal sent no content")
    if len(body) > max_bytes:
        raise InvalidDocument(f"larger than {_mib(max_bytes)} ({_mib(len(body))})")
    if not is_pdf(body):
        lowered = _head(body).lower()
        if b"<html" in lowered or b"<!doctype" in lowered or lowered.startswith((b"<head", b"<body")):
            raise InvalidDocument(
                "not a PDF: the portal sent an HTML page (probably its sign-in page) instead of a PDF"
            )
        raise InvalidDocument("not a PDF: the file does not start with %PDF-")
    if b"%%EOF" not in body[-_EOF_WINDOW:]:
        raise InvalidDocument("incomplete PDF: no %%EOF marker at the end (the download was cut short)")


_UNSAFE_CHARS = re.compile(r'[<>:"|?*]')


def sanitize_filename(name: str | None) -> str | None:
    """The portal's file name made harmless: no folders, control or format
    characters (bidi overrides), reserved characters, leading dots or
    overlong names. ``None`` when nothing usable is left."""
    if not name:
        return None
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Zl", "Zp"))
    name = _UNSAFE_CHARS.sub("_", name)
    name = " ".join(name.split()).lstrip(".").strip(" .")
    if not name:
        return None
    if len(name) > _MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: _MAX_FILENAME - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[:_MAX_FILENAME]
    return name


def _check_ref(ref: DocumentRef) -> None:
    # These are plugin bugs, not bad documents: the runner reports them as
    # "Plugin broken" rather than silently storing a mangled key.
    if not ref.stable_id or len(ref.stable_id) > _MAX_STABLE_ID:
        raise ValueError(f"a document's stable_id must be 1 to {_MAX_STABLE_ID} characters, got {len(ref.stable_id)}")
    if ref.currency is not None and not re.fullmatch(r"[A-Z]{3}", ref.currency):
        raise ValueError(f"currency must be an ISO 4217 code like 'GBP', got {ref.currency!r}")


def _clip(text: str | None) -> str | None:
    return None if text is None else text[:_MAX_TEXT]


# Built once: the runner stores thousands of documents, and building and
# cache-keying a statement per call costs more than running it.
_docs = schema.documents
_BUMP_COUNT = (
    schema.connections.update()
    .where(schema.connections.c.id == sa.bindparam("cid"))
    .values(documents_count=schema.connections.c.documents_count + sa.bindparam("n"),
            last_fetched_at=sa.bindparam("at"))
)
_INSERT_DOCUMENT = _docs.insert()
_FIND_DUPLICATE = (
    sa.select(_docs.c.id)
    .where(sa.or_(_docs.c.sha256 == sa.bindparam("sha"),
                  sa.and_(_docs.c.connection_id == sa.bindparam("cid"), _docs.c.stable_id == sa.bindparam("sid"))))
    .order_by(_docs.c.id)
    .limit(1)
)


class Inbox:
    """The document inbox of one dextcore instance.

    ``on_collected`` is called with each new :class:`StoredDocument` after
    its transaction committed (the core fires the ``document_collected``
    hook from it); an exception it raises is logged, the document stays.
    """

    def __init__(self, store: Store, directory: Path, *, max_bytes: int,
                 on_collected: Callable[[StoredDocument], None] | None = None) -> None:
        self.store = store
        self.directory = Path(directory).absolute()
        self.max_bytes = max_bytes
        self.on_collected = on_collected
        self._folders: set[Path] = set()
        # Writers of this process take turns for the transaction (their files
        # are written in parallel before it): SQLite would make them poll for
        # its write lock, sleeping milliseconds at a time.
        self._commit = threading.Lock()

    def __repr__(self) -> str:
        return f"Inbox({str(self.directory)!r})"

    # -- reading ------------------------------------------------------------

    def known(self, connection_id: int, stable_ids: Iterable[str]) -> set[str]:
        """Which of ``stable_ids`` the connection already holds."""
        wanted = list(dict.fromkeys(stable_ids))
        found: set[str] = set()
        t = schema.documents
        with self.store.begin() as conn:
            # Chunked: SQLite limits the number of bound parameters.
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                rows = conn.execute(sa.select(t.c.stable_id).where(
                    t.c.connection_id == connection_id, t.c.stable_id.in_(chunk)))
                found.update(stable_id for (stable_id,) in rows)
        return found

    def get(self, document_id: int) -> StoredDocument:
        """The document with ``document_id``; :class:`LookupError` if there is none."""
        with self.store.begin() as conn:
            row = conn.execute(sa.select(schema.documents).where(schema.documents.c.id == document_id)).first()
        if row is None:
            raise LookupError(f"there is no document {document_id}")
        return self._document(row)

    def list(self, connection_id: int | None = None) -> list[StoredDocument]:
        """Every document (of one connection when ``connection_id`` is given), oldest first."""
        query = sa.select(schema.documents).order_by(schema.documents.c.id)
        if connection_id is not None:
            query = query.where(schema.documents.c.connection_id == connection_id)
        with self.store.begin() as conn:
            return [self._document(row) for row in conn.execute(query)]

    def _document(self, row: Any) -> StoredDocument:
        m = row._mapping
        return StoredDocument(
            id=m["id"], connection_id=m["connection_id"], connector=m["connector"], owner=m["owner"],
            direction=Direction(m["direction"]), stable_id=m["stable_id"], kind=DocumentKind(m["kind"]),
            supplier=m["supplier"], number=m["number"], date=m["date"],
            total=_decimal(m["total"]), currency=m["currency"], tax=_decimal(m["tax"]),
            original_filename=m["original_filename"], sha256=m["sha256"], size=m["size"],
            path=self.directory / m["path"], fetched_at=as_utc(m["fetched_at"]),
        )

    # -- accepting -------------------------------------------------------------

    def _find_duplicate(self, conn: sa.Connection, connection_id: int, stable_id: str, sha256: str) -> int | None:
        return conn.execute(_FIND_DUPLICATE, {"sha": sha256, "cid": connection_id, "sid": stable_id}).scalar_one_or_none()

    def accept(self, *, connection_id: int, connector: str, owner: str, direction: Direction | str,
               ref: DocumentRef, file: Downloaded) -> Accepted:
        """Validate, deduplicate and store one downloaded document.

        Raises :class:`InvalidDocument` for bytes that are not a whole PDF
        within the size cap, :class:`LookupError` when the connection does
        not exist. Returns :class:`Accepted` with ``document=None`` for a
        duplicate (by stable id within the connection, or by content).
        """
        outcome = self.accept_many([Incoming(connection_id=connection_id, connector=connector, owner=owner,
                                             direction=direction, ref=ref, file=file)])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def accept_many(self, items: Sequence[Incoming]) -> list[Accepted | Exception]:
        """Store several documents with one transaction (a group commit).

        Each item gets its own outcome, in order: :class:`Accepted`, or the
        exception :meth:`accept` would have raised for it alone — one bad
        document never fails the others. Within the batch, a later item with
        the same stable id (same connection) or the same bytes as an earlier
        one is a duplicate of it. Used by the runner, which stores the
        documents of all its crawls through one writer; under load a single
        commit and one flush per folder then carry many documents.
        """
        outcomes: list[Accepted | Exception | None] = [None] * len(items)
        fetched_at = utcnow()
        pending: list[_Pending] = []
        for index, item in enumerate(items):
            try:
                pending.append(self._prepare(index, item, fetched_at))
            except (InvalidDocument, ValueError) as exc:
                outcomes[index] = exc
        fresh: list[_Pending] = []
        repeats: list[tuple[_Pending, _Pending]] = []
        if pending:
            first_by_sha: dict[str, _Pending] = {}
            first_by_key: dict[tuple[int, str], _Pending] = {}
            with self.store.connect() as conn:
                for p in pending:
                    duplicate = self._find_duplicate(conn, p.connection_id, p.stable_id, p.sha)
                    if duplicate is not None:
                        outcomes[p.index] = Accepted(None, duplicate)
                        continue
                    earlier = first_by_sha.get(p.sha) or first_by_key.get((p.connection_id, p.stable_id))
                    if earlier is not None:
                        repeats.append((p, earlier))
                        continue
                    first_by_sha[p.sha] = p
                    first_by_key[(p.connection_id, p.stable_id)] = p
                    fresh.append(p)
        self._write(fresh, outcomes)
        for p, earlier in repeats:
            stored = outcomes[earlier.index]
            if isinstance(stored, Accepted) and stored.document is not None:
                outcomes[p.index] = Accepted(None, stored.document.id)
            else:  # the first copy was not stored: this one stands on its own
                self._write([p], outcomes)

        results: list[Accepted | Exception] = []
        for outcome in outcomes:
            assert outcome is not None
            results.append(outcome)
            if self.on_collected is not None and isinstance(outcome, Accepted) and outcome.document is not None:
                try:
                    self.on_collected(outcome.document)
                except Exception:
                    log.exception("on_collected failed for document %s", outcome.document.id)
        return results

    def _prepare(self, index: int, item: Incoming, fetched_at: dt.datetime) -> _Pending:
        ref, file = item.ref, item.file
        _check_ref(ref)
        body = bytes(file.body)
        validate_pdf(body, max_bytes=self.max_bytes)
        sha = hashlib.sha256(body).hexdigest()
        relative = f"{sha[:2]}/{sha}.pdf"
        values = dict(
            connection_id=item.connection_id, connector=item.connector, owner=item.owner,
            direction=Direction(item.direction).value, stable_id=ref.stable_id, kind=DocumentKind(ref.kind).value,
            supplier=_clip(ref.supplier), number=_clip(ref.number), date=ref.date, total=ref.total,
            currency=ref.currency, tax=ref.tax,
            original_filename=sanitize_filename(file.filename or ref.filename),
            sha256=sha, size=len(body), path=relative, fetched_at=fetched_at,
        )
        return _Pending(index=index, body=body, sha=sha, final=self.directory / relative, values=values)

    def _write(self, batch: list[_Pending], outcomes: list[Accepted | Exception | None]) -> None:
        """Write ``batch``'s files and rows; a batch that fails is retried one
        document at a time, so each document gets its own outcome."""
        if not batch:
            return
        # The slow part — writing and flushing the bytes — happens before the
        # transaction, so concurrent writers do not queue behind each other's
        # fsync while holding the database's write lock. Only the renames
        # (and the folders' flush) happen inside it: a row commits only once
        # its file is in place.
        staged: dict[int, Path | None] = {}
        ready: list[_Pending] = []
        try:
            for p in batch:
                try:
                    staged[p.index] = self._stage(p.final, p.body)
                except OSError as exc:  # e.g. disk full: this document fails, the others may fit
                    outcomes[p.index] = exc
                    continue
                ready.append(p)
        except BaseException:
            self._discard(staged)
            raise
        if not ready:
            return
        created: list[_Pending] = []
        stored: list[tuple[_Pending, int]] = []
        try:
            with self._commit, self.store.begin() as conn:
                # The connection rows first (in a fixed order, so two writers
                # cannot deadlock): they serialise writers of one connection
                # and tell a deleted connection apart.
                per_connection = collections.Counter(p.connection_id for p in ready)
                gone = set()
                for cid in sorted(per_connection):
                    bumped = conn.execute(_BUMP_COUNT, {"cid": cid, "n": per_connection[cid],
                                                        "at": ready[0].values["fetched_at"]}).rowcount
                    if not bumped:
                        gone.add(cid)
                folders: set[Path] = set()
                for p in ready:
                    if p.connection_id in gone:
                        outcomes[p.index] = LookupError(f"there is no connection {p.connection_id}")
                        continue
                    document_id = conn.execute(_INSERT_DOCUMENT, p.values).inserted_primary_key[0]
                    # While the row is held: a concurrent writer of the same
                    # bytes waits on the unique key instead of racing on the file.
                    placed = self._place(staged[p.index], p.final)
                    del staged[p.index]  # only now: a failed rename leaves it to be discarded
                    if placed:
                        created.append(p)
                        folders.add(p.final.parent)
                    stored.append((p, document_id))
                for folder in folders:
                    fsync_dir(folder)
        except (sa.exc.IntegrityError, OSError) as exc:
            for p in created:
                self._remove_orphan(p.final, p.sha)
            self._discard(staged)
            if len(ready) > 1:
                for p in ready:
                    outcomes[p.index] = None
                    self._write([p], outcomes)
                return
            (p,) = ready
            outcomes[p.index] = self._lost_race(p) if isinstance(exc, sa.exc.IntegrityError) else exc
            return
        except BaseException:
            for p in created:
                self._remove_orphan(p.final, p.sha)
            raise
        finally:
            self._discard(staged)
        for p, document_id in stored:
            outcomes[p.index] = Accepted(self._document_from(document_id, p.values))

    def _lost_race(self, p: _Pending) -> Accepted | Exception:
        """After a unique-key violation: the document another writer stored first."""
        with self.store.begin() as conn:
            duplicate = self._find_duplicate(conn, p.connection_id, p.stable_id, p.sha)
        if duplicate is None:
            return RuntimeError(f"document {p.stable_id!r} violated a unique key but no duplicate was found")
        return Accepted(None, duplicate)

    @staticmethod
    def _discard(staged: dict[int, Path | None]) -> None:
        for path in staged.values():
            if path is not None:
                path.unlink(missing_ok=True)
        staged.clear()

    def _document_from(self, document_id: int, values: dict[str, Any]) -> StoredDocument:
        return StoredDocument(
            id=document_id, connection_id=values["connection_id"], connector=values["connector"],
            owner=values["owner"], direction=Direction(values["direction"]), stable_id=values["stable_id"],
            kind=DocumentKind(values["kind"]), supplier=values["supplier"], number=values["number"],
            date=values["date"], total=_round(values["total"]), currency=values["currency"],
            tax=_round(values["tax"]), original_filename=values["original_filename"], sha256=values["sha256"],
            size=values["size"], path=self.directory / values["path"], fetched_at=values["fetched_at"],
        )

    def _stage(self, final: Path, body: bytes) -> Path | None:
        """Write ``body`` to a flushed temporary file beside ``final``;
        ``None`` when the same content is already there (content-addressed)."""
        folder = final.parent
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        if final.exists() and final.stat().st_size == len(body) and _file_sha256(final) == final.stem:
            return None
        fd, temp = tempfile.mkstemp(dir=folder, prefix=".incoming-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return Path(temp)

    @staticmethod
    def _place(staged: Path | None, final: Path) -> bool:
        """Rename a staged file over ``final`` (a reader never sees a partial
        file); ``True`` if this call put the file there. The caller flushes
        the folder before committing."""
        if staged is None:
            return False
        os.replace(staged, final)
        return True

    def _remove_orphan(self, final: Path, sha: str) -> None:
        """Remove a file this call wrote when no committed row refers to it."""
        try:
            with self.store.begin() as conn:
                referenced = conn.execute(
                    sa.select(schema.documents.c.id).where(schema.documents.c.sha256 == sha).limit(1)
                ).first()
            if referenced is None:
                final.unlink(missing_ok=True)
        except Exception:  # cleanup is best effort; an orphan file is harmless
            log.warning("could not clean up %s", final, exc_info=True)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def _round(value: Decimal | None) -> Decimal | None:
    """What the ``Numeric(14, 2)`` column will hand back."""
    return None if value is None else value.quantize(Decimal("0.01"))
