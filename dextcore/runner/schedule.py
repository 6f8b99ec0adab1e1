"""When each connection runs next, and which connections are due.

* **Spread.** Each connection owns a fixed offset within its interval
  (weekly by default), derived from a hash of its id, so 10,000
  connections are spread evenly over the week instead of firing together;
  the same connection keeps the same slot run after run.
* **Window.** ``connections.window`` may restrict unattended runs to some
  weekdays and hours in the connection's timezone, e.g.
  ``{"weekdays": [0, 1, 2, 3, 4], "hours": [8, 18]}`` (Monday=0; runs start
  at or after 08:00 and before 18:00), so 2FA prompts don't come at
  weekends or at night. A slot outside the window moves to the next
  allowed hour, keeping its minute offset.
* **Full or incremental.** The first run collects everything since the
  history date; later runs look back :data:`INCREMENTAL_LOOKBACK` from the
  previous run, with a full re-check every :data:`FULL_RECHECK` and after
  any failure (as Cozy konnectors do).
* **Backoff.** A transient failure (portal unavailable) retries after
  5 min, 10, 20 ... capped at a day and at the interval.
* **Due selection** is one indexed query (``ix_connections_due``):
  ``next_run_at <= now AND status IN (retryable)``. A rejected password is
  not retryable and is never picked (account lock-out).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from typing import Any, Mapping

import sqlalchemy as sa

from dextcore.statuses import Status
from dextcore.store import Store, schema

__all__ = [
    "BACKOFF_BASE",
    "FULL_RECHECK",
    "INCREMENTAL_LOOKBACK",
    "backoff",
    "claim",
    "due_connections",
    "fetch_window",
    "in_window",
    "next_slot",
    "plan_run",
    "RETRYABLE",
]

EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)  # a Monday: slots are offsets from it
FULL_RECHECK = dt.timedelta(days=30)
INCREMENTAL_LOOKBACK = dt.timedelta(days=35)
"""Overlap of incremental runs: invoices appear a few days after their date."""
BACKOFF_BASE = dt.timedelta(minutes=5)
BACKOFF_CAP = dt.timedelta(days=1)
CLAIM_LEASE = dt.timedelta(hours=2)
"""A claimed connection's next_run_at is pushed this far ahead, so a second
worker does not pick it while it runs; finishing sets the real next run."""

RETRYABLE: tuple[str, ...] = tuple(s.value for s in Status if s.retryable)


def _offset(connection_id: int, interval: dt.timedelta) -> dt.timedelta:
    digest = hashlib.sha256(f"dextcore-slot:{connection_id}".encode()).digest()
    seconds = int(interval.total_seconds())
    return dt.timedelta(seconds=int.from_bytes(digest[:8], "big") % max(seconds, 1))


def _window(window: Mapping[str, Any] | None) -> tuple[frozenset[int], int, int] | None:
    if not window:
        return None
    weekdays = frozenset(int(d) for d in window.get("weekdays", range(7)))
    start, end = (int(h) for h in window.get("hours", (0, 24)))
    if not weekdays or not 0 <= start < end <= 24:
        return None  # an empty or inverted window would never run: ignore it rather than starve
    return weekdays, start, end


def in_window(at: dt.datetime, window: Mapping[str, Any] | None, timezone: str = "UTC") -> bool:
    """Whether an unattended run may start at ``at``."""
    parsed = _window(window)
    if parsed is None:
        return True
    weekdays, start, end = parsed
    local = at.astimezone(zoneinfo.ZoneInfo(timezone))
    return local.weekday() in weekdays and start <= local.hour < end


def fetch_window(at: dt.datetime, window: Mapping[str, Any] | None, timezone: str = "UTC") -> dt.datetime:
    """The first instant at or after ``at`` inside ``window`` (keeps ``at``'s minutes and seconds)."""
    if _window(window) is None or in_window(at, window, timezone):
        return at
    tz = zoneinfo.ZoneInfo(timezone)
    local = at.astimezone(tz)
    minute_offset = dt.timedelta(minutes=local.minute, seconds=local.second)
    hour = local.replace(minute=0, second=0, microsecond=0)
    for _ in range(24 * 8):
        hour = (hour + dt.timedelta(hours=1)).astimezone(tz)
        candidate = (hour + minute_offset).astimezone(dt.timezone.utc)
        if in_window(candidate, window, timezone):
            return candidate
    return at


def next_slot(connection_id: int, interval_seconds: int, after: dt.datetime, *,
              window: Mapping[str, Any] | None = None, timezone: str = "UTC") -> dt.datetime:
    """The connection's next regular slot strictly after ``after``."""
    interval = dt.timedelta(seconds=max(int(interval_seconds), 60))
    offset = _offset(connection_id, interval)
    periods = (after - EPOCH - offset) // interval + 1
    slot = EPOCH + offset + periods * interval
    return fetch_window(slot, window, timezone)


def backoff(failures: int, interval_seconds: int) -> dt.timedelta:
    """Delay before retry number ``failures`` (1-based) of a transient failure."""
    delay = BACKOFF_BASE * (2 ** max(failures - 1, 0))
    return min(delay, BACKOFF_CAP, dt.timedelta(seconds=max(int(interval_seconds), 60)))


def plan_run(connection: Any, now: dt.datetime, *, force_full: bool = False) -> tuple[bool, dt.date | None]:
    """``(full, since)`` for a run of ``connection`` starting ``now``."""
    history = connection.history_from
    last_full = connection.last_full_run_at
    last_run = connection.last_run_at
    full = (
        force_full
        or last_full is None
        or last_run is None
        or now - last_full >= FULL_RECHECK
        or connection.failures > 0
        or connection.status is not Status.CONNECTED
    )
    if full:
        return True, history
    since = (last_run - INCREMENTAL_LOOKBACK).date()
    if history is not None and since < history:
        since = history
    return False, since


def due_connections(store: Store, now: dt.datetime, *, limit: int = 100,
                    exclude: frozenset[int] | set[int] = frozenset()) -> list[int]:
    """Ids of connections due at ``now``, oldest slot first — one indexed query."""
    c = schema.connections
    wanted = limit + len(exclude)
    if store.dialect == "sqlite":
        # Without statistics SQLite prefers the status index and sorts every
        # retryable row; the due index is a range scan that stops at the
        # limit. SQLAlchemy does not render SQLite's INDEXED BY, hence text.
        marks = ", ".join(f":s{i}" for i in range(len(RETRYABLE)))
        query: Any = sa.text(
            "SELECT id FROM connections INDEXED BY ix_connections_due "
            f"WHERE next_run_at <= :now AND status IN ({marks}) ORDER BY next_run_at, id LIMIT :limit"
        ).bindparams(sa.bindparam("now", type_=c.c.next_run_at.type), now=now, limit=wanted,
                     **{f"s{i}": v for i, v in enumerate(RETRYABLE)})
    else:
        query = (
            sa.select(c.c.id)
            .where(c.c.next_run_at <= now, c.c.status.in_(RETRYABLE))
            .order_by(c.c.next_run_at, c.c.id)
            .limit(wanted)
        )
    with store.connect() as conn:
        ids = [row.id for row in conn.execute(query)]
    return [i for i in ids if i not in exclude][:limit]


def claim(store: Store, connection_id: int, now: dt.datetime) -> bool:
    """Take a due connection for this worker: push its ``next_run_at`` by the lease.

    The update only matches while the row is still due, so of two workers
    racing for it exactly one wins (PostgreSQL and SQLite alike).
    """
    c = schema.connections
    with store.begin() as conn:
        taken = conn.execute(
            c.update()
            .where(c.c.id == connection_id, c.c.next_run_at <= now, c.c.status.in_(RETRYABLE))
            .values(next_run_at=now + CLAIM_LEASE)
        ).rowcount
    return bool(taken)


def record_outcome(store: Store, connection: Any, status: Status, *, now: dt.datetime, full: bool,
                   retry_after: dt.timedelta | None = None, interrupted: bool = False) -> dt.datetime | None:
    """Set last run, failures and the next run after a run ended in ``status``; return the next run."""
    c = schema.connections
    values: dict[str, Any] = {"last_run_at": now}
    if interrupted:
        # A run cut short by a shutdown resumes at the next opportunity.
        values = {"next_run_at": now}
    elif status is Status.PORTAL_UNAVAILABLE:
        failures = connection.failures + 1
        delay = backoff(failures, connection.interval_seconds)
        if retry_after is not None:
            delay = max(delay, retry_after)
        values.update(failures=failures, next_run_at=now + delay)
    else:
        values.update(
            failures=0 if status is Status.CONNECTED else connection.failures,
            next_run_at=next_slot(connection.id, connection.interval_seconds, now,
                                  window=connection.window, timezone=connection.timezone),
        )
        if status is Status.CONNECTED:
            values["failures"] = 0
            if full:
                values["last_full_run_at"] = now
    with store.begin() as conn:
        conn.execute(c.update().where(c.c.id == connection.id).values(**values))
    return values.get("next_run_at")
