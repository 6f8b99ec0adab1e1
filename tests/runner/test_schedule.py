"""Scheduling: spread, windows, full/incremental, backoff, due selection, the daemon."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import attrs
import sqlalchemy as sa

from dextcore.runner import Runner
from dextcore.runner.daemon import serve
from dextcore.runner.reactor import run
from dextcore.runner.schedule import (
    BACKOFF_BASE,
    backoff,
    claim,
    due_connections,
    fetch_window,
    in_window,
    next_slot,
    plan_run,
)
from dextcore.statuses import Status
from dextcore.store import schema, utcnow
from tests.runner.helpers import connect, stored_ids
from tests.runner.portal import Account

WEEK = 7 * 24 * 3600
NOW = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.timezone.utc)  # a Wednesday


def test_weekly_slots_are_spread_evenly_and_stable():
    slots = [next_slot(i, WEEK, NOW) for i in range(1, 10_001)]
    assert all(NOW < s <= NOW + dt.timedelta(seconds=WEEK) for s in slots)
    per_hour = Counter(int((s - NOW).total_seconds() // 3600) for s in slots)
    assert len(per_hour) == 168  # every hour of the week gets some
    mean = 10_000 / 168
    assert max(per_hour.values()) < mean * 1.8 and min(per_hour.values()) > mean * 0.3
    assert slots[:50] == [next_slot(i, WEEK, NOW) for i in range(1, 51)]  # deterministic
    # The next slot after a slot is exactly one interval later.
    assert next_slot(7, WEEK, slots[6]) == slots[6] + dt.timedelta(seconds=WEEK)


def test_window_keeps_unattended_runs_on_weekday_office_hours():
    window = {"weekdays": [0, 1, 2, 3, 4], "hours": [8, 18]}
    saturday_night = dt.datetime(2026, 11, 21, 23, 17, 5, tzinfo=dt.timezone.utc)
    moved = fetch_window(saturday_night, window, "Europe/London")
    assert moved == dt.datetime(2026, 11, 23, 8, 17, 5, tzinfo=dt.timezone.utc)  # Monday 08:17 London
    for i in range(1, 500):
        slot = next_slot(i, WEEK, NOW, window=window, timezone="America/New_York")
        assert in_window(slot, window, "America/New_York")
    assert in_window(saturday_night, None)


def test_backoff_doubles_and_is_capped():
    assert [backoff(n, WEEK) for n in (1, 2, 3)] == [BACKOFF_BASE, BACKOFF_BASE * 2, BACKOFF_BASE * 4]
    assert backoff(30, WEEK) == dt.timedelta(days=1)
    assert backoff(30, 3600) == dt.timedelta(hours=1)


@attrs.frozen
class _Conn:
    history_from: dt.date | None = dt.date(2025, 1, 1)
    last_full_run_at: dt.datetime | None = None
    last_run_at: dt.datetime | None = None
    failures: int = 0
    status: Status = Status.CONNECTED


def test_first_run_is_full_then_incremental_with_periodic_full_recheck():
    assert plan_run(_Conn(status=Status.CONNECTING), NOW) == (True, dt.date(2025, 1, 1))
    recent = _Conn(last_full_run_at=NOW - dt.timedelta(days=7), last_run_at=NOW - dt.timedelta(days=7))
    full, since = plan_run(recent, NOW)
    assert not full and since == (NOW - dt.timedelta(days=42)).date()
    assert plan_run(attrs.evolve(recent, last_full_run_at=NOW - dt.timedelta(days=31)), NOW)[0]
    assert plan_run(attrs.evolve(recent, failures=1), NOW)[0]
    assert plan_run(attrs.evolve(recent, status=Status.PLUGIN_BROKEN), NOW)[0]
    assert plan_run(recent, NOW, force_full=True) == (True, dt.date(2025, 1, 1))
    late_history = attrs.evolve(recent, history_from=(NOW - dt.timedelta(days=10)).date())
    assert plan_run(late_history, NOW)[1] == (NOW - dt.timedelta(days=10)).date()


def _set(app, cid, **values):
    with app.store.begin() as conn:
        conn.execute(schema.connections.update().where(schema.connections.c.id == cid).values(**values))


def test_due_selection_picks_exactly_the_due_retryable_connections(app, sandbox):
    now = utcnow()
    ids = [connect(app, sandbox, Account(f"due{n}@example.com", "pw")) for n in range(7)]
    _set(app, ids[0], next_run_at=now - dt.timedelta(hours=3))                     # due
    _set(app, ids[1], next_run_at=now - dt.timedelta(minutes=1), status="portal_unavailable")  # due (retry)
    _set(app, ids[2], next_run_at=now + dt.timedelta(minutes=1))                   # not yet
    _set(app, ids[3], next_run_at=now - dt.timedelta(days=1), status="incorrect_credentials")  # never retried
    _set(app, ids[4], next_run_at=None)                                            # unscheduled
    _set(app, ids[5], next_run_at=now - dt.timedelta(days=2), status="action_required")
    _set(app, ids[6], next_run_at=now)                                             # due (boundary)
    assert due_connections(app.store, now) == [ids[0], ids[1], ids[6]]
    assert due_connections(app.store, now, limit=1) == [ids[0]]
    assert due_connections(app.store, now, exclude={ids[0]}) == [ids[1], ids[6]]
    # Claiming takes it out of the due set; a second claim (another worker) loses.
    assert claim(app.store, ids[0], now) and not claim(app.store, ids[0], now)
    assert due_connections(app.store, now) == [ids[1], ids[6]]


def test_due_query_is_one_indexed_query(app):
    statements = []

    def seen(conn, cursor, statement, params, context, many):
        if "next_run_at <=" in statement:
            plan = list(cursor.connection.execute("EXPLAIN QUERY PLAN " + statement, params))
            statements.append((statement, plan))

    sa.event.listen(app.store.engine, "before_cursor_execute", seen)
    try:
        due_connections(app.store, utcnow())
    finally:
        sa.event.remove(app.store.engine, "before_cursor_execute", seen)
    [(statement, plan)] = statements
    details = " ".join(str(row[-1]) for row in plan)
    assert "USING INDEX ix_connections_due" in details and "SCAN" not in details


def test_portal_unavailable_backs_off_and_alerts_only_when_it_persists(app, sandbox, portal, events):
    cid = connect(app, sandbox, Account("down@example.com", "pw"))
    portal.faults.error_rate = 1.0
    results = []
    for _ in range(3):
        before = utcnow()
        results.append(run(Runner(app, settings={"RETRY_TIMES": 1}).fetch(cid)))
        conn = app.connections.get(cid)
        assert conn.status is Status.PORTAL_UNAVAILABLE
        delay = conn.next_run_at - before
        assert backoff(conn.failures, WEEK) <= delay <= backoff(conn.failures, WEEK) + dt.timedelta(seconds=30)
    assert [app.connections.get(cid).failures] == [3]
    assert all("answered HTTP 5" in r.message for r in results)
    unavailable_alerts = [a for a in events.alerts if "unavailable" in a[1].lower()]
    assert len(unavailable_alerts) == 1  # only once it persisted (third failure)
    portal.faults.error_rate = 0.0
    ok = run(Runner(app).fetch(cid))
    assert ok.status is Status.CONNECTED and app.connections.get(cid).failures == 0
    assert app.connections.get(cid).next_run_at > utcnow() + dt.timedelta(minutes=1)


def test_incorrect_credentials_are_not_retried(app, sandbox, portal):
    cid = connect(app, sandbox, Account("locked@example.com", "right"))
    app.vault.put("connection", cid, "password", "wrong")
    result = run(Runner(app).fetch(cid))
    assert result.status is Status.INCORRECT_CREDENTIALS
    _set(app, cid, next_run_at=utcnow() - dt.timedelta(days=30))
    assert cid not in due_connections(app.store, utcnow())
    assert len(portal.events_of("login_failed")) == 1


def test_daemon_once_runs_due_connections_only(app, sandbox):
    now = utcnow()
    due = [connect(app, sandbox, Account(f"d{n}@example.com", "pw", documents=2)) for n in range(4)]
    later = connect(app, sandbox, Account("later@example.com", "pw", documents=2))
    _set(app, later, next_run_at=now + dt.timedelta(days=1))

    async def main():
        return await serve(Runner(app), once=True)

    results = run(main())
    assert sorted(r.connection_id for r in results) == due
    assert all(r.status is Status.CONNECTED for r in results)
    assert stored_ids(app, later) == []
    for cid in due:
        conn = app.connections.get(cid)
        assert conn.next_run_at == next_slot(cid, conn.interval_seconds, conn.last_run_at)
        assert conn.last_full_run_at is not None
