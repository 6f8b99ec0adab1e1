"""The BT connector end to end: the real runner (Scrapy on the asyncio reactor, vault,
inbox, SQLite) against the BT sandbox over HTTP on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pypdf
import pytest

from dextcore.runner import fetch_one, submit_code
from dextcore.statuses import Status
from dextcore_bt_business import hooks
from dextcore_bt_business.selectors import BTSelectors

OK = ("accounts@acme-trading.example", "Acme-Sandbox-2024", "GP10293847")
SMS = ("finance@brightsparks.example", "Bright-Sparks-77", "GP55667788")
CHANGE = ("office@oldmill.example", "Old-Mill-Pass-1")
CONTACT = ("admin@harbourlights.example", "Harbour-Lights-9")
CAPTCHA = ("it@quickfix.example", "Quick-Fix-Robot-3")
MULTI = ("ap@northwind-group.example", "Northwind-Multi-5", ("GP70000001", "GP70000002", "GP70000003"))
CONSUMER = ("jane.smith@homemail.example", "Jane-Home-Pass-8", "BT44556677")
PHONE, BACKUP = "+447700900123", "backup@brightsparks.example"
IDLE = dt.timedelta(minutes=21)  # longer than the portal's 20-minute idle timeout


def connect(app, sandbox, username, password, *, variant="business", **kwargs):
    created = app.connections.create(
        connector="bt_business", variant=variant, owner="ann@example.com", created_by="ann@example.com",
        username=username, password=password, base_url=sandbox.base_url("bt", variant), **kwargs)
    return created.connection.id


def expected_ids(portal, *accounts, since=None):
    return {f"{b.account_number}:{b.invoice_number}" for a in accounts for b in portal.bills(a)
            if since is None or b.date >= since}


def stored(app, cid):
    return {d.stable_id: d for d in app.inbox.list(cid)}


def files_served(portal, content_type="application/pdf"):
    return [e for e in portal.events_of("file_served") if e.detail["content_type"] == content_type]


# -- collecting ------------------------------------------------------------------------------------


def test_full_history_then_an_incremental_run_collects_nothing_twice(app, sandbox, portal):
    cid = connect(app, sandbox, OK[0], OK[1])
    result = fetch_one(app, cid)
    assert result.status is Status.CONNECTED, result.message
    assert result.full and result.documents_new == 27 == result.documents_seen
    docs = stored(app, cid)
    assert set(docs) == expected_ids(portal, OK[2])
    bills = {f"{b.account_number}:{b.invoice_number}": b for b in portal.bills(OK[2])}
    for stable_id, doc in docs.items():
        bill = bills[stable_id]
        assert (doc.number, doc.date, doc.total, doc.tax) == (bill.invoice_number, bill.date, bill.total, bill.vat)
        assert (doc.currency, doc.supplier, doc.kind.value) == ("GBP", "BT", "invoice")
        text = pypdf.PdfReader(str(doc.path)).pages[0].extract_text()
        assert bill.invoice_number in text and OK[2] in text  # the right PDF behind the right row
    assert len(files_served(portal)) == 27

    again = fetch_one(app, cid)
    assert again.status is Status.CONNECTED, again.message
    assert not again.full and again.documents_new == 0
    assert 1 <= again.documents_seen < 27  # the incremental window, not the whole history
    assert len(files_served(portal)) == 27  # nothing downloaded twice
    assert len(portal.events_of("login")) == 1  # the saved session was reused: no second sign-in
    assert len(app.inbox.list(cid)) == 27


def test_history_date_limits_the_first_fetch(app, sandbox, portal):
    since = dt.date(2025, 6, 1)
    cid = connect(app, sandbox, OK[0], OK[1], history_from=since)
    result = fetch_one(app, cid)
    assert result.status is Status.CONNECTED, result.message
    assert set(stored(app, cid)) == expected_ids(portal, OK[2], since=since)
    assert 12 < result.documents_new < 27


def test_every_billing_account_is_collected(app, sandbox, portal):
    cid = connect(app, sandbox, MULTI[0], MULTI[1])
    result = fetch_one(app, cid)
    assert result.status is Status.CONNECTED, result.message
    assert set(stored(app, cid)) == expected_ids(portal, *MULTI[2])
    assert result.documents_new == 81
    assert {d.stable_id.split(":")[0] for d in app.inbox.list(cid)} == set(MULTI[2])


def test_consumer_variant_collects_my_bt_bills(app, sandbox, portal):
    cid = connect(app, sandbox, CONSUMER[0], CONSUMER[1], variant="consumer")
    result = fetch_one(app, cid)
    assert result.status is Status.CONNECTED, result.message
    assert set(stored(app, cid)) == expected_ids(portal, CONSUMER[2])
    assert [e.detail["site"] for e in portal.events_of("login")] == ["consumer"]


def test_bills_without_a_pdf_link_come_from_the_download_all_zip(app, sandbox, portal, monkeypatch):
    class NoPdfLinks(BTSelectors):  # as if BT dropped the per-bill links: only "download all" is left
        BILL_PDF_LINK = ("a.no-such-link",)

    monkeypatch.setattr(hooks, "SELECTORS", NoPdfLinks)
    cid = connect(app, sandbox, OK[0], OK[1])
    result = fetch_one(app, cid)
    assert result.status is Status.CONNECTED, result.message
    assert set(stored(app, cid)) == expected_ids(portal, OK[2])
    assert len(files_served(portal, "application/zip")) == 1 and not files_served(portal)
    for doc in app.inbox.list(cid):
        assert doc.number in pypdf.PdfReader(str(doc.path)).pages[0].extract_text()


def test_flaky_portal_still_collects_every_bill_exactly_once_within_one_rerun(app, sandbox, portal):
    portal.faults.update({"error_rate": 0.04, "reset_rate": 0.03, "timeout_rate": 0.03, "truncate_rate": 0.03,
                          "hang_seconds": 3.0, "seed": 7})
    cid = connect(app, sandbox, MULTI[0], MULTI[1])
    fast = {"settings": {"DOWNLOAD_TIMEOUT": 1}}  # a hung request gives up after 1 s (then Scrapy retries)
    first = fetch_one(app, cid, **fast)
    assert first.status in (Status.CONNECTED, Status.PORTAL_UNAVAILABLE), first.message
    if first.status is not Status.CONNECTED:
        rerun = fetch_one(app, cid, force=True, full=True, **fast)
        assert rerun.status is Status.CONNECTED, rerun.message
    assert portal.events_of("fault"), "the faults did fire"
    ids = [d.stable_id for d in app.inbox.list(cid)]
    assert len(ids) == len(set(ids)) == 81 and set(ids) == expected_ids(portal, *MULTI[2])
    assert len({d.sha256 for d in app.inbox.list(cid)}) == 81


class LegacyOnly(BTSelectors):
    """As if BT sent every login to its classic form: the B2C page is only a way there."""

    SIGNIN_NAME = ("input#no-b2c-here",)
    PUBLIC_LOGIN_LINK = ("a#legacyLogin",) + BTSelectors.PUBLIC_LOGIN_LINK
    LOGIN_START_PATH = "/Account/Login.aspx"


def test_the_legacy_login_form_logs_in(app, sandbox, portal, monkeypatch):
    monkeypatch.setattr(hooks, "SELECTORS", LegacyOnly)
    cid = connect(app, sandbox, OK[0], OK[1])
    result = fetch_one(app, cid)
    assert result.status is Status.CONNECTED, result.message
    assert result.documents_new == 27 and len(portal.events_of("login")) == 1


def test_the_legacy_login_form_refusing_is_incorrect_credentials_with_the_hint(app, sandbox, portal, monkeypatch):
    monkeypatch.setattr(hooks, "SELECTORS", LegacyOnly)
    cid = connect(app, sandbox, OK[0], "not-the-password")
    result = fetch_one(app, cid)
    assert result.status is Status.INCORRECT_CREDENTIALS, result.message
    assert "BT consumer (home.bt.com)" in result.message
    assert [e.detail["reason"] for e in portal.events_of("login_failed")] == ["legacy-form"]


# -- sessions expiring mid-run ----------------------------------------------------------------------------


def test_an_expired_session_during_downloads_signs_in_again_once(app, sandbox, portal, events):
    cid = connect(app, sandbox, OK[0], OK[1])
    events.on_document = lambda doc: sandbox.clock.advance(IDLE) if len(events.documents) == 1 else None
    result = fetch_one(app, cid, downloads_per_connection=1)
    assert result.status is Status.CONNECTED, result.message
    assert result.documents_new == 27
    assert len(portal.events_of("login")) == 2
    assert len(portal.events_of("file_refused")) == 1  # the PDF link answered the sign-in page, once


def test_a_session_expiring_again_after_the_new_sign_in_is_portal_unavailable(app, sandbox, portal, events):
    cid = connect(app, sandbox, OK[0], OK[1])
    events.on_document = lambda doc: sandbox.clock.advance(IDLE)
    result = fetch_one(app, cid, downloads_per_connection=1)
    assert result.status is Status.PORTAL_UNAVAILABLE, result.message
    assert result.documents_new == 2  # the first PDF, then one more after the single new sign-in
    assert len(portal.events_of("login")) == 2


# -- failures, each in its status ----------------------------------------------------------------------------


def test_wrong_password_is_incorrect_credentials_and_tried_once(app, sandbox, portal):
    cid = connect(app, sandbox, OK[0], OK[1] + "-wrong")
    result = fetch_one(app, cid)
    assert result.status is Status.INCORRECT_CREDENTIALS
    assert "password is incorrect" in result.message and "consumer" not in result.message
    assert [e.detail["reason"] for e in portal.events_of("login_failed")] == ["wrong-password"]
    assert OK[1] not in result.message
    assert app.connections.get(cid).status is Status.INCORRECT_CREDENTIALS


def test_a_consumer_login_on_the_business_variant_gets_the_variant_hint(app, sandbox, portal):
    cid = connect(app, sandbox, CONSUMER[0], CONSUMER[1])
    result = fetch_one(app, cid)
    assert result.status is Status.INCORRECT_CREDENTIALS
    assert "BT consumer (home.bt.com)" in result.message
    assert [e.detail["reason"] for e in portal.events_of("login_failed")] == ["wrong-variant"]


def test_a_business_login_on_the_consumer_variant_gets_the_variant_hint(app, sandbox, portal):
    cid = connect(app, sandbox, OK[0], OK[1], variant="consumer")
    result = fetch_one(app, cid)
    assert result.status is Status.INCORRECT_CREDENTIALS
    assert '"BT Business"' in result.message
    assert len(portal.events_of("login_failed")) == 1


@pytest.mark.parametrize(("account", "path"), [(CHANGE, "/ChangePassword.do"),
                                               (CONTACT, "/Intercept/UpdateContact")])
def test_an_account_interruption_is_action_required(app, sandbox, portal, account, path):
    cid = connect(app, sandbox, *account)
    result = fetch_one(app, cid)
    assert result.status is Status.ACTION_REQUIRED, result.message
    assert f"secure.business.bt.com{path}" in result.message
    assert result.documents_new == 0 and not files_served(portal)


def test_captcha_is_blocked_and_the_password_is_never_posted(app, sandbox, portal):
    cid = connect(app, sandbox, *CAPTCHA)
    result = fetch_one(app, cid)
    assert result.status is Status.BLOCKED, result.message
    assert "reCAPTCHA" in result.message
    assert portal.events_of("login_failed") == []


def test_a_redesigned_sign_in_is_plugin_broken_with_the_page_saved(app, sandbox, portal):
    portal.faults.redesign = True
    cid = connect(app, sandbox, OK[0], OK[1])
    result = fetch_one(app, cid)
    assert result.status is Status.PLUGIN_BROKEN, result.message
    assert result.saved_page and "Page not understood" in result.message
    saved = Path(result.saved_page).read_text()
    assert 'id="signin-form"' in saved  # the v2 page the plugin could not read
    assert portal.events_of("login") == [] and portal.events_of("login_failed") == []


def test_a_redesigned_bills_page_is_plugin_broken_not_zero_documents(app, sandbox, portal):
    cid = connect(app, sandbox, OK[0], OK[1])
    assert fetch_one(app, cid).status is Status.CONNECTED
    portal.faults.redesign = True
    result = fetch_one(app, cid, force=True, full=True)
    assert result.status is Status.PLUGIN_BROKEN, result.message
    saved = Path(result.saved_page).read_text()
    assert "bill-card" in saved and OK[0] not in saved  # the v2 bills page, username scrubbed


# -- two-factor -------------------------------------------------------------------------------------------------


def test_sms_unattended_then_interactive_then_remembered_device(app, sandbox, portal, events):
    mailbox = sandbox.mailbox
    cid = connect(app, sandbox, SMS[0], SMS[1])

    unattended = fetch_one(app, cid)
    assert unattended.status is Status.ADDITIONAL_INFO_REQUIRED, unattended.message
    assert "verification code" in unattended.message and "0123" in unattended.message
    assert mailbox.count(PHONE) == 1 and mailbox.count(BACKUP) == 0
    assert [(c[1].medium.value, c[2]) for c in events.challenges] == [("sms", False)]

    before = mailbox.count(PHONE)
    typed: list[str] = []

    def answer(connection, challenge, interactive):
        assert interactive and connection.id == cid
        # The first answer is a typo; the portal refuses it and the runner asks again.
        code = "000000" if not typed else mailbox.wait_for_code(PHONE, timeout=5, after=before)
        typed.append(code)
        submit_code(app, cid, code)

    events.on_challenge = answer
    interactive = fetch_one(app, cid, force=True, wait_for_code=20)
    assert interactive.status is Status.CONNECTED, interactive.message
    assert interactive.documents_new == 27
    assert len(typed) == 2 and typed[0] == "000000"
    assert [e.detail["reason"] for e in portal.events_of("code_rejected")] == ["wrong"]
    assert len(portal.events_of("device_remembered")) == 1

    # The portal forgets the session (idle timeout) but not the trusted device: no code next time.
    sandbox.clock.advance(IDLE)
    events.on_challenge = None
    sent = mailbox.count(PHONE)
    logins = len(portal.events_of("login"))
    later = fetch_one(app, cid, force=True, full=True)
    assert later.status is Status.CONNECTED, later.message
    assert mailbox.count(PHONE) == sent
    assert len(portal.events_of("login")) == logins + 1  # a real new sign-in, without 2FA
    assert later.documents_new == 0


def test_codes_can_go_to_the_backup_email(app, sandbox, portal, events):
    cid = connect(app, sandbox, SMS[0], SMS[1], fields={"code_via": "email"})
    result = fetch_one(app, cid)
    assert result.status is Status.ADDITIONAL_INFO_REQUIRED
    assert sandbox.mailbox.count(BACKUP) == 1 and sandbox.mailbox.count(PHONE) == 0
    assert events.challenges[0][1].medium.value == "email"
