"""The BT connector end to end: the real runner (Scrapy on the asyncio reactor, vault,
inbox, SQLite) against the BT sandbox over HTTP on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pypdf
import pytest

from dextcore.hookspecs import hookimpl
from dextcore.runner import submit_code
from dextcore.sandbox import Clock
from dextcore.statuses import Status
from dextcore_bt_business import hooks
from dextcore_bt_business.selectors import BTSelectors

# What the sandbox's demo accounts hold (``connect(sandbox, "bt", scenario)`` connects them).
OK = ("accounts@acme-trading.example", "Acme-Sandbox-2024", "GP10293847")  # scenario "ok"
MULTI_ACCOUNTS = ("GP70000001", "GP70000002", "GP70000003")  # scenario "multi-account"
CONSUMER_ACCOUNT = "BT44556677"  # scenario "consumer"
PHONE, BACKUP = "+447700900123", "backup@brightsparks.example"  # scenario "sms"
IDLE = dt.timedelta(minutes=21)  # longer than the portal's 20-minute idle timeout


def expected_ids(portal, *accounts, since=None):
    return {f"{b.account_number}:{b.invoice_number}" for a in accounts for b in portal.bills(a)
            if since is None or b.date >= since}


def stored(app, cid):
    return {d.stable_id: d for d in app.inbox.list(cid)}


def files_served(portal, content_type="application/pdf"):
    return [e for e in portal.events_of("file_served") if e.detail["content_type"] == content_type]


# -- collecting ------------------------------------------------------------------------------------


def test_full_history_then_an_incremental_run_collects_nothing_twice(dextcore_app, sandbox, connect, fetch, portal):
    cid = connect(sandbox, "bt", "ok")
    result = fetch(cid)
    assert result.status is Status.CONNECTED, result.message
    assert result.full and result.documents_new == 27 == result.documents_seen
    docs = stored(dextcore_app, cid)
    assert set(docs) == expected_ids(portal, OK[2])
    bills = {f"{b.account_number}:{b.invoice_number}": b for b in portal.bills(OK[2])}
    for stable_id, doc in docs.items():
        bill = bills[stable_id]
        assert (doc.number, doc.date, doc.total, doc.tax) == (bill.invoice_number, bill.date, bill.total, bill.vat)
        assert (doc.currency, doc.supplier, doc.kind.value) == ("GBP", "BT", "invoice")
        text = pypdf.PdfReader(str(doc.path)).pages[0].extract_text()
        assert bill.invoice_number in text and OK[2] in text  # the right PDF behind the right row
    assert len(files_served(portal)) == 27

    again = fetch(cid)
    assert again.status is Status.CONNECTED, again.message
    assert not again.full and again.documents_new == 0
    assert 1 <= again.documents_seen < 27  # the incremental window, not the whole history
    assert len(files_served(portal)) == 27  # nothing downloaded twice
    assert len(portal.events_of("login")) == 1  # the saved session was reused: no second sign-in
    assert len(dextcore_app.inbox.list(cid)) == 27


def test_history_date_limits_the_first_fetch(dextcore_app, sandbox, connect, fetch, portal):
    since = dt.date(2025, 6, 1)
    cid = connect(sandbox, "bt", "ok", history_from=since)
    result = fetch(cid)
    assert result.status is Status.CONNECTED, result.message
    assert set(stored(dextcore_app, cid)) == expected_ids(portal, OK[2], since=since)
    assert 12 < result.documents_new < 27


def test_every_billing_account_is_collected(dextcore_app, sandbox, connect, fetch, portal):
    cid = connect(sandbox, "bt", "multi-account")
    result = fetch(cid)
    assert result.status is Status.CONNECTED, result.message
    assert set(stored(dextcore_app, cid)) == expected_ids(portal, *MULTI_ACCOUNTS)
    assert result.documents_new == 81
    assert {d.stable_id.split(":")[0] for d in dextcore_app.inbox.list(cid)} == set(MULTI_ACCOUNTS)


def test_consumer_variant_collects_my_bt_bills(dextcore_app, sandbox, connect, fetch, portal):
    cid = connect(sandbox, "bt", "consumer")
    result = fetch(cid)
    assert result.status is Status.CONNECTED, result.message
    assert set(stored(dextcore_app, cid)) == expected_ids(portal, CONSUMER_ACCOUNT)
    assert [e.detail["site"] for e in portal.events_of("login")] == ["consumer"]


def test_bills_without_a_pdf_link_come_from_the_download_all_zip(dextcore_app, sandbox, connect, fetch,
                                                                 portal, monkeypatch):
    class NoPdfLinks(BTSelectors):  # as if BT dropped the per-bill links: only "download all" is left
        BILL_PDF_LINK = ("a.no-such-link",)

    monkeypatch.setattr(hooks, "SELECTORS", NoPdfLinks)
    cid = connect(sandbox, "bt", "ok")
    result = fetch(cid)
    assert result.status is Status.CONNECTED, result.message
    assert set(stored(dextcore_app, cid)) == expected_ids(portal, OK[2])
    assert len(files_served(portal, "application/zip")) == 1 and not files_served(portal)
    for doc in dextcore_app.inbox.list(cid):
        assert doc.number in pypdf.PdfReader(str(doc.path)).pages[0].extract_text()


def test_flaky_portal_still_collects_every_bill_exactly_once_within_one_rerun(dextcore_app, sandbox, connect, fetch,
                                                                              portal):
    portal.faults.update({"error_rate": 0.04, "reset_rate": 0.03, "timeout_rate": 0.03, "truncate_rate": 0.03,
                          "hang_seconds": 3.0, "seed": 7})
    cid = connect(sandbox, "bt", "multi-account")
    fast = {"settings": {"DOWNLOAD_TIMEOUT": 1}}  # a hung request gives up after 1 s (then Scrapy retries)
    first = fetch(cid, **fast)
    assert first.status in (Status.CONNECTED, Status.PORTAL_UNAVAILABLE), first.message
    if first.status is not Status.CONNECTED:
        rerun = fetch(cid, force=True, full=True, **fast)
        assert rerun.status is Status.CONNECTED, rerun.message
    assert portal.events_of("fault"), "the faults did fire"
    ids = [d.stable_id for d in dextcore_app.inbox.list(cid)]
    assert len(ids) == len(set(ids)) == 81 and set(ids) == expected_ids(portal, *MULTI_ACCOUNTS)
    assert len({d.sha256 for d in dextcore_app.inbox.list(cid)}) == 81


class LegacyOnly(BTSelectors):
    """As if BT sent every login to its classic form: the B2C page is only a way there."""

    SIGNIN_NAME = ("input#no-b2c-here",)
    PUBLIC_LOGIN_LINK = ("a#legacyLogin",) + BTSelectors.PUBLIC_LOGIN_LINK
    LOGIN_START_PATH = "/Account/Login.aspx"


def test_the_legacy_login_form_logs_in(sandbox, connect, fetch, portal, monkeypatch):
    monkeypatch.setattr(hooks, "SELECTORS", LegacyOnly)
    cid = connect(sandbox, "bt", "ok")
    result = fetch(cid)
    assert result.status is Status.CONNECTED, result.message
    assert result.documents_new == 27 and len(portal.events_of("login")) == 1


def test_the_legacy_login_form_refusing_is_incorrect_credentials_with_the_hint(sandbox, connect, fetch,
                                                                               portal, monkeypatch):
    monkeypatch.setattr(hooks, "SELECTORS", LegacyOnly)
    cid = connect(sandbox, "bt", "ok", password="not-the-password")
    result = fetch(cid)
    assert result.status is Status.INCORRECT_CREDENTIALS, result.message
    assert "BT consumer (home.bt.com)" in result.message
    assert [e.detail["reason"] for e in portal.events_of("login_failed")] == ["legacy-form"]


# -- sessions expiring mid-run ----------------------------------------------------------------------------


def idle_after_serving(monkeypatch, portal, clock: Clock, *, every: bool) -> None:  # type: ignore[no-untyped-def]
    """As the portal serves a PDF (before the bytes leave it), its clock jumps past the idle
    timeout: after the first PDF only, or after every one. The next request finds the session gone."""
    served = 0
    record = portal.record

    def recording(kind: str, **detail: object) -> None:
        nonlocal served
        record(kind, **detail)
        if kind == "file_served":
            served += 1
            if every or served == 1:
                clock.advance(IDLE)

    monkeypatch.setattr(portal, "record", recording)


def test_an_expired_session_during_downloads_signs_in_again_once(sandbox, connect, fetch, portal, monkeypatch):
    cid = connect(sandbox, "bt", "ok")
    idle_after_serving(monkeypatch, portal, sandbox.clock, every=False)
    result = fetch(cid, downloads_per_connection=1)
    assert result.status is Status.CONNECTED, result.message
    assert result.documents_new == 27
    assert len(portal.events_of("login")) == 2
    assert len(portal.events_of("file_refused")) == 1  # the PDF link answered the sign-in page, once


def test_a_session_expiring_again_after_the_new_sign_in_is_portal_unavailable(sandbox, connect, fetch, portal,
                                                                              monkeypatch):
    cid = connect(sandbox, "bt", "ok")
    idle_after_serving(monkeypatch, portal, sandbox.clock, every=True)
    result = fetch(cid, downloads_per_connection=1)
    assert result.status is Status.PORTAL_UNAVAILABLE, result.message
    assert result.documents_new == 2  # the first PDF, then one more after the single new sign-in
    assert len(portal.events_of("login")) == 2  # one new sign-in, not one per expiry
    assert len(portal.events_of("file_refused")) == 2  # the second refusal ends the run


# -- failures, each in its status ----------------------------------------------------------------------------


def test_wrong_password_is_incorrect_credentials_and_tried_once(dextcore_app, sandbox, connect, fetch, portal):
    cid = connect(sandbox, "bt", "ok", password=OK[1] + "-wrong")
    result = fetch(cid)
    assert result.status is Status.INCORRECT_CREDENTIALS
    assert "password is incorrect" in result.message and "consumer" not in result.message
    assert [e.detail["reason"] for e in portal.events_of("login_failed")] == ["wrong-password"]
    assert OK[1] not in result.message
    assert dextcore_app.connections.get(cid).status is Status.INCORRECT_CREDENTIALS


def test_a_consumer_login_on_the_business_variant_gets_the_variant_hint(sandbox, connect, fetch, portal):
    cid = connect(sandbox, "bt", "wrong-variant")
    result = fetch(cid)
    assert result.status is Status.INCORRECT_CREDENTIALS
    assert "BT consumer (home.bt.com)" in result.message
    assert [e.detail["reason"] for e in portal.events_of("login_failed")] == ["wrong-variant"]


def test_a_business_login_on_the_consumer_variant_gets_the_variant_hint(sandbox, connect, fetch, portal):
    cid = connect(sandbox, "bt", "ok", variant="consumer")
    result = fetch(cid)
    assert result.status is Status.INCORRECT_CREDENTIALS
    assert '"BT Business"' in result.message
    assert len(portal.events_of("login_failed")) == 1


@pytest.mark.parametrize(("scenario", "path"), [("change-password", "/ChangePassword.do"),
                                                ("update-contact", "/Intercept/UpdateContact")])
def test_an_account_interruption_is_action_required(sandbox, connect, fetch, portal, scenario, path):
    cid = connect(sandbox, "bt", scenario)
    result = fetch(cid)
    assert result.status is Status.ACTION_REQUIRED, result.message
    assert f"secure.business.bt.com{path}" in result.message
    assert result.documents_new == 0 and not files_served(portal)


def test_captcha_is_blocked_and_the_password_is_never_posted(sandbox, connect, fetch, portal):
    cid = connect(sandbox, "bt", "captcha")
    result = fetch(cid)
    assert result.status is Status.BLOCKED, result.message
    assert "reCAPTCHA" in result.message
    assert portal.events_of("login_failed") == []


def test_a_redesigned_sign_in_is_plugin_broken_with_the_page_saved(sandbox, connect, fetch, portal):
    portal.faults.redesign = True
    cid = connect(sandbox, "bt", "ok")
    result = fetch(cid)
    assert result.status is Status.PLUGIN_BROKEN, result.message
    assert result.saved_page and "Page not understood" in result.message
    saved = Path(result.saved_page).read_text()
    assert 'id="signin-form"' in saved  # the v2 page the plugin could not read
    assert portal.events_of("login") == [] and portal.events_of("login_failed") == []


def test_a_redesigned_bills_page_is_plugin_broken_not_zero_documents(sandbox, connect, fetch, portal):
    cid = connect(sandbox, "bt", "ok")
    assert fetch(cid).status is Status.CONNECTED
    portal.faults.redesign = True
    result = fetch(cid, force=True, full=True)
    assert result.status is Status.PLUGIN_BROKEN, result.message
    saved = Path(result.saved_page).read_text()
    assert "bill-card" in saved and OK[0] not in saved  # the v2 bills page, username scrubbed


# -- two-factor -------------------------------------------------------------------------------------------------


def test_sms_unattended_then_interactive_then_remembered_device(dextcore_app, dextcore_events, sandbox, connect, fetch,
                                                                portal):
    mailbox = sandbox.mailbox
    cid = connect(sandbox, "bt", "sms")

    unattended = fetch(cid)
    assert unattended.status is Status.ADDITIONAL_INFO_REQUIRED, unattended.message
    assert "verification code" in unattended.message and "0123" in unattended.message
    assert mailbox.count(PHONE) == 1 and mailbox.count(BACKUP) == 0
    assert [(c.challenge.medium.value, c.interactive) for c in dextcore_events.challenges] == [("sms", False)]

    before = mailbox.count(PHONE)
    typed: list[str] = []
    errors: list[BaseException] = []

    def person() -> None:
        """The first answer is a typo; the portal refuses it and the runner asks again."""
        try:
            dextcore_events.wait_for_challenge(cid, timeout=20)
            typed.append("000000")
            submit_code(dextcore_app, cid, "000000")
            dextcore_events.wait_for_challenge(cid, timeout=20, after=1)
            typed.append(mailbox.wait_for_code(PHONE, timeout=5, after=before))
            submit_code(dextcore_app, cid, typed[-1])
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    answering = threading.Thread(target=person, daemon=True)
    answering.start()
    interactive = fetch(cid, wait_for_code=20)
    answering.join(20)
    assert not errors, errors
    assert interactive.status is Status.CONNECTED, interactive.message
    assert interactive.documents_new == 27
    assert len(typed) == 2 and typed[0] == "000000" and typed[1] == mailbox.last_code(PHONE)
    assert [(c.connection_id, c.interactive) for c in dextcore_events.challenges] == [
        (cid, False), (cid, True), (cid, True)]
    assert [e.detail["reason"] for e in portal.events_of("code_rejected")] == ["wrong"]
    assert len(portal.events_of("device_remembered")) == 1

    # The portal forgets the session (idle timeout) but not the trusted device: no code next time.
    sandbox.clock.advance(IDLE)
    sent = mailbox.count(PHONE)
    logins = len(portal.events_of("login"))
    later = fetch(cid, force=True, full=True)
    assert later.status is Status.CONNECTED, later.message
    assert mailbox.count(PHONE) == sent
    assert len(portal.events_of("login")) == logins + 1  # a real new sign-in, without 2FA
    assert later.documents_new == 0


def test_codes_can_go_to_the_backup_email(dextcore_events, sandbox, connect, fetch):
    cid = connect(sandbox, "bt", "sms", fields={"code_via": "email"})
    result = fetch(cid)
    assert result.status is Status.ADDITIONAL_INFO_REQUIRED
    assert sandbox.mailbox.count(BACKUP) == 1 and sandbox.mailbox.count(PHONE) == 0
    assert dextcore_events.challenges[0].challenge.medium.value == "email"
