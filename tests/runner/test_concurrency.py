"""Many connections in one process: caps, exactly-once documents, isolation of failures."""

from __future__ import annotations

import hashlib
from collections import Counter

from dextcore.runner import Progress, Runner
from dextcore.runner.reactor import run
from dextcore.statuses import Status
from tests.runner.helpers import connect, inbox_files, stored_ids
from tests.runner.portal import Account


class Peak(Progress):
    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.finished_ids: list[int] = []

    def started(self, connection_id, connector):  # type: ignore[no-untyped-def]
        self.running += 1
        self.peak = max(self.peak, self.running)

    def finished(self, result):  # type: ignore[no-untyped-def]
        self.running -= 1
        self.finished_ids.append(result.connection_id)


def test_fifty_connections_concurrently_every_document_once(app, sandbox, portal):
    portal.faults.latency = 0.02  # so crawls overlap as they would against real portals
    ids = [connect(app, sandbox, Account(f"user{n:02d}@example.com", f"pw-{n}", documents=4 + n % 5))
           for n in range(50)]
    peak = Peak()

    async def main():
        return await Runner(app, max_crawls=50, progress=peak).fetch_many(ids)

    results = run(main())
    assert [r.status for r in results] == [Status.CONNECTED] * 50, [r.message for r in results if r.message]
    assert peak.peak >= 10, "crawls did not run concurrently"
    expected = {cid: 4 + n % 5 for n, cid in enumerate(ids)}
    for cid, count in expected.items():
        assert len(stored_ids(app, cid)) == count
    total = sum(expected.values())
    files = inbox_files(app.config.inbox_dir)
    assert len(files) == total
    assert len({hashlib.sha256(p.read_bytes()).hexdigest() for p in files}) == total
    assert sum(portal.served.values()) == total and set(Counter(portal.served).values()) == {1}


def test_unexpected_plugin_error_is_plugin_broken_while_others_finish(app, sandbox):
    good = [connect(app, sandbox, Account(f"fine{n}@example.com", "pw", documents=12)) for n in range(3)]
    broken = connect(app, sandbox, Account("redesigned@example.com", "pw", scenario="redesign", documents=5))

    async def main():
        return await Runner(app).fetch_many([good[0], broken, good[1], good[2]])

    results = {r.connection_id: r for r in run(main())}
    bad = results[broken]
    assert bad.status is Status.PLUGIN_BROKEN
    assert "KeyError" in bad.message and "data-date" in bad.message
    assert bad.saved_page is not None
    saved = open(bad.saved_page, encoding="utf-8").read()
    assert 'table id="invoices"' in saved
    assert "redesigned@example.com" not in saved  # the username is scrubbed from saved pages
    assert app.connections.get(broken).status is Status.PLUGIN_BROKEN
    for cid in good:
        assert results[cid].status is Status.CONNECTED
        assert len(stored_ids(app, cid)) == 12


def test_per_connector_cap_limits_parallel_crawls(app, sandbox, portal):
    portal.faults.latency = 0.02
    ids = [connect(app, sandbox, Account(f"cap{n}@example.com", "pw", documents=2)) for n in range(8)]
    peak = Peak()
    import attrs

    from tests.runner import acme_plugin

    capped = attrs.evolve(acme_plugin.CONNECTOR, max_concurrency=2)
    app.host._connectors["acme_test"] = capped  # the same plugin, declaring a lower cap

    async def main():
        return await Runner(app, max_crawls=50, progress=peak).fetch_many(ids)

    try:
        results = run(main())
    finally:
        app.host._connectors["acme_test"] = acme_plugin.CONNECTOR
    assert all(r.status is Status.CONNECTED for r in results)
    assert peak.peak == 2


def test_downloads_per_connection_caps_requests_to_the_portal(app, sandbox, portal):
    # Slow PDFs: each connection's downloads overlap as much as the cap allows,
    # while the next document's download may start as soon as the last one's
    # bytes are in (it is stored meanwhile).
    portal.pdf_seconds = 0.05
    accounts = [Account(f"capped{n}@example.com", "pw", documents=9) for n in range(3)]
    ids = [connect(app, sandbox, account) for account in accounts]

    async def main():
        return await Runner(app, downloads_per_connection=2).fetch_many(ids)

    results = run(main())
    assert [r.status for r in results] == [Status.CONNECTED] * 3
    assert all(r.documents_new == 9 for r in results)
    assert {portal.pdfs_peak[a.username] for a in accounts} == {2}


def test_a_run_failing_midway_counts_every_document_it_stored(app, sandbox, portal):
    # One PDF in the middle arrives cut short: the run fails while the
    # documents downloaded before it are still being stored. They are kept,
    # and the run's summary counts each of them.
    portal.pdf_seconds = 0.02
    cid = connect(app, sandbox, Account("midway@example.com", "pw", documents=12))
    portal.faults.exempt = lambda request: request.path != "/invoices/MIDWAY-00006.pdf"
    portal.faults.truncate_rate = 1.0

    async def main():
        return await Runner(app, downloads_per_connection=3).fetch(cid)

    result = run(main())
    assert result.status is not Status.CONNECTED
    stored = stored_ids(app, cid)
    assert 0 < len(stored) < 12
    assert result.documents_new == len(stored), result.message
    assert app.connections.get(cid).documents_count == len(stored)
