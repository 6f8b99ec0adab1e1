"""Stored list entries: upsert after a sync, look-ups and resolution of what a person types."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping, Sequence

import sqlalchemy as sa

from dextcore.accounting.model import ListEntry
from dextcore.accounting.names import normalise, normalise_code
from dextcore.accounting.records import ListKind, RemoteEntry
from dextcore.accounting.schema import accounting_list_entries as entries_t

__all__ = ["entry", "list_entries", "resolve_entry", "to_entry", "upsert_lists"]


def to_entry(row: Any) -> ListEntry:
    return ListEntry(id=row.id, connection_id=row.connection_id, kind=ListKind(row.kind), remote_id=row.remote_id,
                     name=row.name, code=row.code, active=bool(row.active), days_due=row.days_due,
                     parent_remote_id=row.parent_remote_id)


def entry(conn: sa.Connection, entry_id: int | None) -> ListEntry | None:
    if entry_id is None:
        return None
    row = conn.execute(sa.select(entries_t).where(entries_t.c.id == entry_id)).first()
    return to_entry(row) if row else None


def list_entries(conn: sa.Connection, connection_id: int, kind: ListKind | None = None, *,
                 active_only: bool = False) -> list[ListEntry]:
    query = sa.select(entries_t).where(entries_t.c.connection_id == connection_id)
    if kind is not None:
        query = query.where(entries_t.c.kind == kind.value)
    if active_only:
        query = query.where(entries_t.c.active.is_(True))
    return [to_entry(r) for r in conn.execute(query.order_by(entries_t.c.kind, entries_t.c.name, entries_t.c.id))]


def upsert_lists(conn: sa.Connection, connection_id: int, lists: Mapping[ListKind, Sequence[RemoteEntry]],
                 now: dt.datetime) -> dict[str, dict[str, int]]:
    """Store a sync result: insert new entries, update changed ones, mark the
    ones that disappeared inactive. Nothing is deleted, so rules and items
    pointing at an archived entry keep pointing at it (and say so)."""
    counts: dict[str, dict[str, int]] = {}
    for kind, remote in lists.items():
        kind = ListKind(kind)
        existing = {r.remote_id: r for r in conn.execute(
            sa.select(entries_t).where(entries_t.c.connection_id == connection_id, entries_t.c.kind == kind.value))}
        added = deactivated = 0
        seen: set[str] = set()
        for item in remote:
            if item.remote_id in seen:
                continue
            seen.add(item.remote_id)
            values = {"name": item.name[:500], "code": item.code, "active": item.active, "raw": dict(item.raw),
                      "parent_remote_id": item.parent_id, "days_due": item.days_due, "updated_at": now}
            old = existing.get(item.remote_id)
            if old is None:
                conn.execute(entries_t.insert().values(connection_id=connection_id, kind=kind.value,
                                                       remote_id=item.remote_id, first_seen_at=now, **values))
                added += 1
                continue
            if old.active and not item.active:
                deactivated += 1
            conn.execute(entries_t.update().where(entries_t.c.id == old.id).values(**values))
        gone = [r.id for rid, r in existing.items() if rid not in seen and r.active]
        if gone:
            conn.execute(entries_t.update().where(entries_t.c.id.in_(gone)).values(active=False, updated_at=now))
            deactivated += len(gone)
        total = len(existing) + added
        active = conn.execute(sa.select(sa.func.count()).select_from(entries_t).where(
            entries_t.c.connection_id == connection_id, entries_t.c.kind == kind.value,
            entries_t.c.active.is_(True))).scalar_one()
        counts[kind.value] = {"total": total, "active": active, "added": added, "deactivated": deactivated}
    return counts


def resolve_entry(conn: sa.Connection, connection_id: int, kind: ListKind, ref: str | int) -> ListEntry:
    """The entry a person means by ``ref``: a local id (``#12`` or an int),
    a remote id, an exact code/number, or a name (normalised). Active
    entries win over inactive ones; an ambiguous name is refused."""
    candidates = list_entries(conn, connection_id, kind)
    if isinstance(ref, int) or (isinstance(ref, str) and ref.startswith("#") and ref[1:].isdigit()):
        wanted = int(ref[1:]) if isinstance(ref, str) else ref
        for e in candidates:
            if e.id == wanted:
                return e
        raise LookupError(f"no {kind.label.lower()} entry #{wanted} in accounting connection {connection_id}")
    text = str(ref).strip()
    for matcher in (lambda e: e.remote_id == text,
                    lambda e: bool(e.code) and normalise_code(e.code) == normalise_code(text),
                    lambda e: normalise(e.name) == normalise(text)):
        found = [e for e in candidates if matcher(e)]
        active = [e for e in found if e.active] or found
        if len(active) == 1:
            return active[0]
        if len(active) > 1:
            names = ", ".join(f"#{e.id} {e.name}" for e in active[:5])
            raise LookupError(f"{text!r} matches several {kind.label.lower()} entries ({names}); use #ID")
    raise LookupError(f"no {kind.label.lower()} entry matches {text!r} in accounting connection {connection_id} "
                      "(see `dextcore accounting status --lists`)")


def active_by_name(entries: Iterable[ListEntry], name: str | None) -> ListEntry | None:
    key = normalise(name)
    if not key:
        return None
    for e in entries:
        if e.active and normalise(e.name) == key:
            return e
    return None
