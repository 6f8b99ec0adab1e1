"""Run summary rows (table ``runs``): one per fetch of a connection."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import sqlalchemy as sa

from dextcore.store import Store, as_utc, schema, utcnow

__all__ = ["RunSummary", "finish_run", "recent_runs", "start_run"]


@attrs.frozen
class RunSummary:
    """What ``dextcore show ID`` prints about a run."""

    id: int
    connection_id: int
    trigger: str
    full: bool
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: str | None
    message: str
    documents_new: int
    documents_seen: int
    requests: int
    bytes: int
    saved_page: str | None

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        for key in ("started_at", "finished_at"):
            data[key] = data[key].isoformat(timespec="seconds") if data[key] else None
        return data


def start_run(store: Store, connection_id: int, *, trigger: str, full: bool) -> int:
    """Insert the row of a run starting now; returns its id."""
    with store.begin() as conn:
        return int(conn.execute(schema.runs.insert().values(
            connection_id=connection_id, trigger=trigger, full=full, started_at=utcnow(),
        )).inserted_primary_key[0])


def finish_run(store: Store, run_id: int, *, outcome: str, message: str, documents_new: int,
               documents_seen: int, requests: int, bytes: int, saved_page: str | None) -> None:
    with store.begin() as conn:
        conn.execute(schema.runs.update().where(schema.runs.c.id == run_id).values(
            finished_at=utcnow(), outcome=outcome, message=message[:2000], documents_new=documents_new,
            documents_seen=documents_seen, requests=requests, bytes=bytes, saved_page=saved_page,
        ))


def recent_runs(store: Store, connection_id: int, *, limit: int = 10) -> list[RunSummary]:
    """The newest runs of a connection, newest first."""
    t = schema.runs
    with store.connect() as conn:
        rows = conn.execute(sa.select(t).where(t.c.connection_id == connection_id)
                            .order_by(t.c.started_at.desc(), t.c.id.desc()).limit(limit))
        return [RunSummary(
            id=r.id, connection_id=r.connection_id, trigger=r.trigger, full=bool(r.full),
            started_at=as_utc(r.started_at), finished_at=as_utc(r.finished_at),  # type: ignore[arg-type]
            outcome=r.outcome, message=r.message, documents_new=r.documents_new,
            documents_seen=r.documents_seen, requests=r.requests, bytes=r.bytes, saved_page=r.saved_page,
        ) for r in rows]
