"""Two-factor: TOTP unattended, SMS unattended then interactive from a second process,
saved sessions sparing the next run a 2FA prompt."""

from __future__ import annotations

import subprocess
import threading

import pyotp
import sqlalchemy as sa

from dextcore.runner import Runner
from dextcore.runner.reactor import run
from dextcore.statuses import Status
from dextcore.store import schema
from tests.runner.conftest import PYTHON
from tests.runner.helpers import connect, stored_ids
from tests.runner.portal import Account


async def _fetch(app, cid, **kwargs):
    return await Runner(app).fetch(cid, **kwargs)


def _challenge_rows(app, cid):
    t = schema.challenges
    with app.store.connect() as conn:
        return conn.execute(sa.select(t).where(t.c.connection_id == cid).order_by(t.c.id)).fetchall()


def test_totp_connection_completes_unattended(app, sandbox, portal, events):
    secret = pyotp.random_base32()
    cid = connect(app, sandbox, Account("tina@example.com", "pw-T", scenario="totp", totp_secret=secret,
                                        documents=6), totp_secret=secret)
    result = run(_fetch(app, cid))
    assert result.status is Status.CONNECTED, result.message
    assert len(stored_ids(app, cid)) == 6
    assert events.challenges == []  # nobody was asked
    assert not portal.events_of("code_refused")
    assert _challenge_rows(app, cid) == []


def _submit_from_other_process(env, cid, code):
    return subprocess.run([PYTHON, "-m", "dextcore", "2fa", "submit", str(cid), code], env=env,
                          capture_output=True, text=True, timeout=60)


def test_sms_unattended_then_interactive_then_saved_session(app, sandbox, portal, events, subprocess_env):
    account = Account("sam@example.com", "pw-S", scenario="sms", phone="+447700900123", documents=5)
    cid = connect(app, sandbox, account)

    # 1. Unattended: stops at "Additional information required", one alert, challenge recorded.
    first = run(_fetch(app, cid))
    assert first.status is Status.ADDITIONAL_INFO_REQUIRED
    assert "verification code" in first.message
    assert app.connections.get(cid).status is Status.ADDITIONAL_INFO_REQUIRED
    assert len(events.alerts) == 1 and "Additional information required" in events.alerts[0][1]
    assert [(c, i) for c, _, i in events.challenges] == [(cid, False)]
    assert [r.state for r in _challenge_rows(app, cid)] == ["pending"]
    assert stored_ids(app, cid) == []
    # Nobody waits on that login any more: a code for it is refused with what to do instead.
    late = _submit_from_other_process(subprocess_env, cid, "123456")
    assert late.returncode == 2 and "--force --wait-for-code" in late.stderr

    # 2. Interactive: the code is read from the phone and submitted by a second process.
    outputs = []

    def answer(connection, challenge, interactive):
        if not interactive:
            return
        sent_before = len(portal.mailbox.messages(account.phone)) - 1

        def worker():
            code = portal.mailbox.wait_for_code(account.phone, timeout=20, after=sent_before)
            outputs.append(_submit_from_other_process(subprocess_env, cid, code))

        workers.append(threading.Thread(target=worker, daemon=True))
        workers[-1].start()

    workers: list[threading.Thread] = []
    events.on_challenge = answer
    second = run(_fetch(app, cid, trigger="forced", wait_for_code=30))
    for worker in workers:
        worker.join(30)
    assert second.status is Status.CONNECTED, second.message
    assert outputs and outputs[0].returncode == 0, outputs[0].stderr if outputs else "no submission"
    assert len(stored_ids(app, cid)) == 5
    assert [r.state for r in _challenge_rows(app, cid)][-1] == "used"
    assert all(r.code_ciphertext is None for r in _challenge_rows(app, cid))
    assert len(events.alerts) == 2  # the user hears that it is connected again; no other alert

    # 3. The next scheduled run reuses the saved session: no login, no code, no prompt.
    logins, codes, prompts = len(portal.events_of("login")), len(portal.events_of("code_sent")), len(events.challenges)
    assert app.vault.get("connection", cid, "session")  # kept encrypted in the vault
    third = run(_fetch(app, cid))
    assert third.status is Status.CONNECTED
    assert len(portal.events_of("login")) == logins
    assert len(portal.events_of("code_sent")) == codes and len(events.challenges) == prompts

    # 4. Expired session (the portal forgot it): a fresh login, and the remembered device skips 2FA.
    portal.sessions.clear()
    fourth = run(_fetch(app, cid))
    assert fourth.status is Status.CONNECTED
    assert len(portal.events_of("login")) == logins + 1
    assert len(portal.events_of("code_sent")) == codes and len(events.challenges) == prompts


def test_wrong_code_is_asked_again_within_the_limit(app, sandbox, portal, events, subprocess_env):
    account = Account("wanda@example.com", "pw-W", scenario="sms", phone="+447700900999", documents=2)
    cid = connect(app, sandbox, account)
    submissions = []
    workers = []

    def answer(connection, challenge, interactive):
        attempt = len(workers)
        sent_before = len(portal.mailbox.messages(account.phone)) - 1

        def worker():
            code = portal.mailbox.wait_for_code(account.phone, timeout=20, after=sent_before)
            wrong = "000000" if code != "000000" else "111111"
            submissions.append(_submit_from_other_process(subprocess_env, cid, wrong if attempt == 0 else code))

        workers.append(threading.Thread(target=worker, daemon=True))
        workers[-1].start()

    events.on_challenge = answer
    result = run(_fetch(app, cid, trigger="forced", wait_for_code=30))
    for worker in workers:
        worker.join(30)
    assert result.status is Status.CONNECTED, result.message
    assert len(submissions) == 2 and all(s.returncode == 0 for s in submissions)
    assert len(portal.events_of("code_refused")) == 1
    assert [c[2] for c in events.challenges] == [True, True]


def test_interactive_wait_ends_when_no_code_comes(app, sandbox, events):
    cid = connect(app, sandbox, Account("nobody@example.com", "pw", scenario="sms", phone="+44770090000"))
    result = run(_fetch(app, cid, trigger="forced", wait_for_code=0.5))
    assert result.status is Status.ADDITIONAL_INFO_REQUIRED
    assert "No verification code was submitted within 0.5 s" in result.message
    assert [r.state for r in _challenge_rows(app, cid)] == ["expired"]


def test_submit_without_waiting_fetch_is_one_line_error(app, sandbox, subprocess_env):
    cid = connect(app, sandbox, Account("idle@example.com", "pw"))
    done = _submit_from_other_process(subprocess_env, cid, "123456")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "no fetch of connection" in done.stderr


def test_shutdown_while_waiting_for_a_code_ends_the_wait(app, sandbox, events):
    cid = connect(app, sandbox, Account("paused@example.com", "pw", scenario="sms", phone="+447700900555"))

    async def main():
        runner = Runner(app)
        events.on_challenge = lambda connection, challenge, interactive: runner.request_stop()
        return await runner.fetch(cid, trigger="forced", wait_for_code=60)

    result = run(main())
    assert result.interrupted and result.status is Status.CONNECTING
    assert [r.state for r in _challenge_rows(app, cid)] == ["expired"]
    assert app.connections.get(cid).status is Status.CONNECTING
