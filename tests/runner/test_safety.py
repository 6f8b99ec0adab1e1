"""Credentials stay on the connector's hosts; a shutdown never leaves half-written documents."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import threading

from dextcore.runner import Runner
from dextcore.runner.reactor import run
from dextcore.statuses import Status
from dextcore.store import utcnow
from tests.runner.conftest import PYTHON, REPO
from tests.runner.helpers import connect, inbox_files, stored_ids
from tests.runner.portal import Account


async def _fetch(app, cid, **kwargs):
    return await Runner(app).fetch(cid, **kwargs)


def test_login_redirected_to_foreign_host_never_sends_the_password(app, sandbox, portal):
    foreign = sandbox.portal("foreign")
    url = sandbox.root("foreign") + "/collect"
    cid = connect(app, sandbox, Account("eve@example.com", "Pa55-word-eve", scenario="redirect-post",
                                        foreign_url=url))
    result = run(_fetch(app, cid))
    assert portal.events_of("redirected"), "the portal did redirect the login"
    assert foreign.received == []  # not the password, not a cookie: nothing at all
    assert result.status is Status.PLUGIN_BROKEN
    assert url.split("/")[2] in result.message and "not sent" in result.message
    assert "Pa55-word-eve" not in result.message


def test_redirect_after_login_to_foreign_host_is_blocked(app, sandbox):
    foreign = sandbox.portal("foreign")
    cid = connect(app, sandbox, Account("mallory@example.com", "pw-M", scenario="redirect-get",
                                        foreign_url=sandbox.root("foreign") + "/welcome"))
    result = run(_fetch(app, cid))
    assert foreign.received == []
    assert result.status is Status.PLUGIN_BROKEN and "outside the connector's allowed domains" in result.message


def test_sigterm_mid_run_leaves_no_partial_file_and_rerun_has_no_duplicates(app, sandbox, portal, subprocess_env):
    total = 60
    cid = connect(app, sandbox, Account("terry@example.com", "pw-T", documents=total))
    portal.faults.latency = 0.05
    some_served = threading.Event()
    portal.on_pdf = lambda served: some_served.set() if served >= 10 else None

    proc = subprocess.Popen([PYTHON, "-m", "tests.runner.fetch_process", str(cid)], env=subprocess_env,
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert some_served.wait(60), "the fetch never got going"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["interrupted"] is True

    inbox = app.config.inbox_dir
    files = inbox_files(inbox)
    assert not [p for p in files if p.name.startswith(".incoming-") or p.suffix == ".part"]
    for path in files:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.stem
    first_ids = stored_ids(app, cid)
    assert 10 <= len(first_ids) < total and len(files) == len(first_ids)
    assert result["documents_new"] == len(first_ids)
    # Interrupted, not failed: status unchanged, next run as soon as possible.
    assert app.connections.get(cid).status is Status.CONNECTING

    portal.faults.latency = 0
    rerun = run(_fetch(app, cid))
    assert rerun.status is Status.CONNECTED
    ids = stored_ids(app, cid)
    assert len(ids) == len(set(ids)) == total
    assert rerun.documents_new == total - len(first_ids)
    assert len(inbox_files(inbox)) == total
    assert set(portal.served.values()) == {1}, "a document was downloaded twice"


def test_daemon_stops_cleanly_on_sigterm(app, sandbox, portal, subprocess_env):
    ids = [connect(app, sandbox, Account(f"daemon{n}@example.com", "pw", documents=30)) for n in range(4)]
    portal.faults.latency = 0.05
    some_served = threading.Event()
    portal.on_pdf = lambda served: some_served.set() if served >= 12 else None

    proc = subprocess.Popen([PYTHON, "-m", "tests.runner.fetch_process", "--serve"], env=subprocess_env,
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert some_served.wait(60), "the daemon never got going"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    results = json.loads(out.strip().splitlines()[-1])
    assert sorted(r["connection_id"] for r in results) == ids and all(r["interrupted"] for r in results)
    files = inbox_files(app.config.inbox_dir)
    assert not [p for p in files if p.name.startswith(".incoming-")]
    stored = sum(len(stored_ids(app, cid)) for cid in ids)
    assert stored == len(files) == sum(r["documents_new"] for r in results) < 4 * 30
    for cid in ids:  # interrupted runs are due again at once
        assert app.connections.get(cid).next_run_at <= utcnow()
