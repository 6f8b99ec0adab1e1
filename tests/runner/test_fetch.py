"""One connection end to end through Scrapy against the ACME test portal."""

from __future__ import annotations

import hashlib

from dextcore.runner import Runner
from dextcore.runner.reactor import run
from dextcore.runner.runs import recent_runs
from dextcore.statuses import Status
from tests.runner.helpers import connect, inbox_files, stored_ids
from tests.runner.portal import Account


async def _fetch(app, *ids, **kwargs):
    runner = Runner(app)
    return await runner.fetch_many(ids, **kwargs)


def test_fetch_collects_every_document_once(app, sandbox, portal):
    cid = connect(app, sandbox, Account("bob@example.com", "s3cret-Pass", documents=23))
    [result] = run(_fetch(app, cid))
    assert result.status is Status.CONNECTED, result.message
    assert result.documents_new == 23 and result.documents_seen == 23
    assert sorted(stored_ids(app, cid)) == sorted(f"invoice:BOB-{i:05d}" for i in range(1, 24))
    files = inbox_files(app.config.inbox_dir)
    assert len(files) == 23
    for path in files:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.stem
    assert app.connections.get(cid).status is Status.CONNECTED
    [summary] = recent_runs(app.store, cid)
    assert summary.outcome == "connected" and summary.documents_new == 23
    assert summary.requests >= 23 + 3 and summary.bytes > 23 * 500

    # A second run downloads nothing again: everything is known.
    [again] = run(_fetch(app, cid))
    assert again.status is Status.CONNECTED
    assert again.documents_new == 0
    assert all(count == 1 for count in portal.served.values())
    assert len(inbox_files(app.config.inbox_dir)) == 23
