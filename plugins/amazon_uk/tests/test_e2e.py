"""The Amazon connector end to end: the real runner (Scrapy on the asyncio reactor, vault,
inbox, SQLite) against the Amazon sandbox over HTTP on 127.0.0.1.

Expected documents come from the sandbox's own order data (``portal.orders``), never
from what the plugin reports; ``file_served`` / ``login`` events and the mailbox show
what really crossed the wire.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pypdf
import pytest

from dextcore.hookspecs import hookimpl
from dextcore.runner.runs import recent_runs
from dextcore.statuses import Status

from dextcore_amazon_uk.sandbox import AmazonPortal

FAST_PUSH = {"AMAZON_PUSH_POLL_INTERVAL": 0.02}


def account_of(portal: AmazonPortal, scenario: str, region: str = "co.uk"):
    return next(a for a in portal.accounts if a.scenario == scenario and a.variant.startswith(region))


def expected(portal: AmazonPortal, scenario: str, region: str = "co.uk", since: dt.date | None = None):
    """``stable id -> (order, document)`` of every PDF the account's orders carry."""
    docs = {}
    for order in portal.orders(account_of(portal, scenario, region)):
        if since is not None and order.placed < since:
            continue
        for doc in order.documents:
            docs[f"{order.order_id}:{doc.kind}-{doc.n}"] = (order, doc)
    return docs


def stored(app, cid):
    return {d.stable_id: d for d in app.inbox.list(cid)}


def pdfs_served(portal: AmazonPortal) -> int:
    return sum(1 for e in portal.events_of("file_served") if e.detail["content_type"] == "application/pdf")


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(str(path)).pages)


def sellers(order) -> list[str]:
    names: list[str] = []
    for item in order.items:
        if item.seller not in names:
            names.append(item.seller)
    return names


def check_metadata(order, doc, stored_doc, currency: str) -> None:
    """What the listing can know: kind, date, currency, supplier and total where the order page shows them;
    the invoice number is read from the PDF (text and the portal's file name)."""
    assert stored_doc.kind.value == doc.kind
    assert stored_doc.currency == currency
    invoices = [d for d in order.documents if d.kind == "invoice"]
    names = sellers(order)
    if doc.kind == "invoice":
        assert stored_doc.date == order.placed
        assert stored_doc.supplier == (doc.seller if len(invoices) == len(names) else None)
        assert stored_doc.total == (order.total if len(invoices) == 1 and len(names) == 1 else None)
    else:  # a credit note: the order page shows neither its date nor its amount
        assert stored_doc.date is None and stored_doc.total is None
        assert stored_doc.supplier == (doc.seller if len(names) == 1 else None)
    assert stored_doc.original_filename == f"{doc.number}.pdf"
    text = pdf_text(stored_doc.path)
    assert doc.number in text and order.order_id in text  # the right PDF behind the right row


# -- collecting ------------------------------------------------------------------------------------


def test_full_history_then_an_incremental_run_collects_nothing_twice(dextcore_app, sandbox, connect, fetch, portal):
    cid = connect(sandbox, "amazon", "ok")
    want = expected(portal, "ok")
    assert any(len([d for d in o.documents if d.kind == "invoice"]) > 1 for o, _ in want.values())
    assert any(d.kind == "credit_note" for _, d in want.values())

    result = fetch(cid)
    assert result.status is Status.CONNECTED, result.message
    assert result.full and result.documents_new == len(want) == result.documents_seen
    docs = stored(dextcore_app, cid)
    assert set(docs) == set(want)
    for stable_id, (order, doc) in want.items():
        check_metadata(order, doc, docs[stable_id], "GBP")
    assert pdfs_served(portal) == len(want)
    assert len(portal.events_of("login")) == 1

    again = fetch(cid)
    assert again.status is Status.CONNECTED, again.message
    assert not again.full and again.documents_new == 0
    assert 1 <= again.documents_seen < len(want)  # the incremental window, not the whole history
    assert pdfs_served(portal) == len(want)  # nothing downloaded twice
    assert len(portal.events_of("login")) == 1  # the saved session was reused
    assert len(dextcore_app.inbox.list(cid)) == len(want)


def test_invoice_numbers_reach_the_inbox(dextcore_app, sandbox, connect, fetch, portal):
    """FAILS until the core lets ``download`` report what only the document says (its number):
    Amazon's listing shows "Invoice 1", the number is in the PDF and its file name."""
    cid = connect(sandbox, "amazon", "ok", history_from=dt.date(2026, 10, 1))
    assert fetch(cid).status is Status.CONNECTED
    want = expected(portal, "ok", since=dt.date(2026, 10, 1))
    numbers = {d.stable_id: d.number for d in dextcore_app.inbox.list(cid)}
    assert numbers == {k: d.number for k, (_, d) in want.items()}


def test_german_variant(dextcore_app, sandbox, connect, fetch, portal):
    cid = connect(sandbox, "amazon", "ok", variant="de")
    result = fetch(cid)
    assert result.status is Status.CONNECTED, result.message
    want = expected(portal, "ok", "de")
    docs = stored(dextcore_app, cid)
    assert set(docs) == set(want)
    for stable_id, (order, doc) in want.items():
        check_metadata(order, doc, docs[stable_id], "EUR")
    assert [e.detail["region"] for e in portal.events_of("login")] == ["de"]


def test_history_date_limits_the_first_fetch(dextcore_app, sandbox, connect, fetch, portal):
    since = dt.date(2026, 1, 1)
    cid = connect(sandbox, "amazon", "ok", history_from=since)
    result = fetch(cid)
    assert result.status is Status.CONNECTED, result.message
    assert set(stored(dextcore_app, cid)) == set(expected(portal, "ok", since=since))
    assert pdfs_served(portal) == result.documents_new < len(expected(portal, "ok"))


# -- failures, each in its status ------------------------------------------------------------------------


def test_wrong_password_is_incorrect_credentials_and_tried_once(dextcore_app, sandbox, connect, fetch, portal):
    who = account_of(portal, "wrong-password")
    cid = connect(sandbox, "amazon", "wrong-password")  # the demo hands out the stale password
    result = fetch(cid)
    assert result.status is Status.INCORRECT_CREDENTIALS, result.message
    assert "password is incorrect" in result.message
    assert [e.detail["reason"] for e in portal.events_of("login_failed")] == ["wrong_password"]
    assert who.demo_password not in result.message
    assert dextcore_app.connections.get(cid).status is Status.INCORRECT_CREDENTIALS


def test_an_account_of_another_marketplace_names_that_marketplace(dextcore_app, sandbox, connect, fetch, portal):
    cid = connect(sandbox, "amazon", "wrong-variant")  # a UK account, configured for amazon.de
    assert dextcore_app.connections.get(cid).variant == "de"
    result = fetch(cid)
    assert result.status is Status.INCORRECT_CREDENTIALS, result.message
    assert "amazon.co.uk" in result.message
    assert not portal.events_of("login")
    # The password went nowhere: the e-mail step alone tells the sites apart.
    assert [e.detail["reason"] for e in portal.events_of("login_failed")] == ["unknown_email"]


def test_sso_account_is_not_supported_and_the_identity_provider_gets_nothing(sandbox, connect, fetch,
                                                                             portal):
    cid = connect(sandbox, "amazon", "sso")
    result = fetch(cid)
    assert result.status is Status.SSO_NOT_SUPPORTED, result.message
    assert "Okta" in result.message
    assert not portal.events_of("sso_credentials_received")


@pytest.mark.parametrize("scenario", ["captcha-inline", "captcha-cvf", "captcha-robot", "jswall"])
def test_captchas_and_the_bot_wall_are_blocked(sandbox, connect, fetch, portal, scenario):
    cid = connect(sandbox, "amazon", scenario)
    result = fetch(cid)
    assert result.status is Status.BLOCKED, result.message
    assert len(portal.events_of("captcha_shown")) == 1
    assert not portal.events_of("login")


def test_redesigned_sign_in_is_plugin_broken_with_the_page_saved(dextcore_app, sandbox, connect, fetch, portal):
    who = account_of(portal, "ok")
    portal.faults.redesign = True
    cid = connect(sandbox, "amazon", "ok")
    result = fetch(cid)
    assert result.status is Status.PLUGIN_BROKEN, result.message
    [run] = recent_runs(dextcore_app.store, cid)
    assert run.saved_page == result.saved_page and Path(run.saved_page).is_file()
    page = Path(run.saved_page).read_text()
    assert "/ap/signin" in page and who.password not in page


def test_redesigned_order_history_is_plugin_broken_not_zero_documents(dextcore_app, sandbox, connect, fetch, portal):
    who = account_of(portal, "ok")
    cid = connect(sandbox, "amazon", "ok", history_from=dt.date(2026, 10, 1))
    assert fetch(cid).status is Status.CONNECTED
    portal.faults.redesign = True
    result = fetch(cid, force=True, full=True)
    assert result.status is Status.PLUGIN_BROKEN, result.message
    assert "no order card was recognised" in result.message
    [run, _] = recent_runs(dextcore_app.store, cid)
    page = Path(run.saved_page).read_text()
    assert "num-orders" in page
    assert who.password not in page and who.username not in page


# -- two-step verification ------------------------------------------------------------------------------


def test_totp_account_runs_unattended_with_the_stored_key(dextcore_app, sandbox, connect, fetch, portal, clock):
    clock.freeze(dt.datetime.now(dt.timezone.utc))  # the portal checks codes against its clock
    who = account_of(portal, "totp")
    cid = connect(sandbox, "amazon", "totp", history_from=dt.date(2026, 9, 1))  # the demo account's key too
    assert dextcore_app.connections.secret(cid, "totp_secret") == who.totp_secret.replace(" ", "")
    result = fetch(cid)
    assert result.status is Status.CONNECTED, result.message
    assert result.documents_new == len(expected(portal, "totp", since=dt.date(2026, 9, 1))) > 0
    assert not portal.events_of("login_failed")


def test_totp_account_without_its_key_needs_a_person(sandbox, connect, fetch, portal):
    cid = connect(sandbox, "amazon", "totp", history_from=dt.date(2026, 9, 1), fields={"totp_secret": None})
    result = fetch(cid)
    assert result.status is Status.ADDITIONAL_INFO_REQUIRED, result.message
    assert not portal.events_of("login")


def test_sms_code_interactive_then_the_remembered_device_needs_none(sandbox, connect, fetch, answer_code, portal):
    who = account_of(portal, "sms")
    since = dt.date(2026, 9, 1)
    cid = connect(sandbox, "amazon", "sms", history_from=since)
    mailbox = sandbox.mailbox

    unattended = fetch(cid)
    assert unattended.status is Status.ADDITIONAL_INFO_REQUIRED, unattended.message
    assert mailbox.count(who.phone) == 1 and not portal.events_of("login")

    answerer = answer_code(sandbox, cid, who.phone)  # the person reads the phone and types the new code
    result = fetch(cid, wait_for_code=20)
    assert result.status is Status.CONNECTED, result.message
    assert answerer.result() == mailbox.last_code(who.phone)
    assert result.documents_new == len(expected(portal, "sms", since=since)) > 0
    assert mailbox.count(who.phone) == 2
    assert len(portal.events_of("login")) == 1

    again = fetch(cid)  # unattended: the saved session is still signed in
    assert again.status is Status.CONNECTED, again.message
    assert mailbox.count(who.phone) == 2 and len(portal.events_of("login")) == 1

    portal.expire_sessions()
    third = fetch(cid)  # signed out: the password again, but the device is remembered
    assert third.status is Status.CONNECTED, third.message
    assert mailbox.count(who.phone) == 2
    assert len(portal.events_of("login")) == 2 and len(portal.events_of("otp_skipped")) == 1


def test_push_approval_is_polled_in_an_interactive_run(sandbox, connect, fetch, portal):
    cid = connect(sandbox, "amazon", "push", history_from=dt.date(2026, 10, 1))
    unattended = fetch(cid, settings=FAST_PUSH)
    assert unattended.status is Status.ADDITIONAL_INFO_REQUIRED, unattended.message

    result = fetch(cid, wait_for_code=10, settings=FAST_PUSH)
    assert result.status is Status.CONNECTED, result.message
    assert len(portal.events_of("login")) == 1


# -- business logins -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("profile", "expected_profile"), [(None, "Acme Ltd (Business)"),
                                                          ("personal", "Tom Team (Personal)")])
def test_account_switcher_picks_the_configured_profile(sandbox, connect, fetch, portal, profile,
                                                      expected_profile):
    fields = {"profile": profile} if profile else None
    cid = connect(sandbox, "amazon", "account-switcher", fields=fields, history_from=dt.date(2026, 10, 1))
    result = fetch(cid)
    assert result.status is Status.CONNECTED, result.message
    assert [e.detail["profile"] for e in portal.events_of("login")] == [expected_profile]


def test_passkey_first_page_leads_to_the_password(sandbox, connect, fetch, portal):
    cid = connect(sandbox, "amazon", "passkey-first", history_from=dt.date(2026, 10, 1))
    result = fetch(cid)
    assert result.status is Status.CONNECTED, result.message
    assert len(portal.events_of("login")) == 1


# -- sessions ending -------------------------------------------------------------------------------------


class ExpireSessionsAfterTheFirstDocument:
    """A hook object: the portal forgets every session the moment the first document is collected
    (in the reactor's thread, while other downloads of the run are still to come)."""

    def __init__(self, portal: AmazonPortal) -> None:
        self.portal = portal
        self.collected = 0

    @hookimpl
    def document_collected(self, connection, document) -> None:  # type: ignore[no-untyped-def]
        self.collected += 1
        if self.collected == 1:
            self.portal.expire_sessions()


def test_a_session_ending_during_downloads_signs_in_again_once(dextcore_app, sandbox, connect, fetch, portal):
    cid = connect(sandbox, "amazon", "ok")
    want = expected(portal, "ok")
    dextcore_app.host.register(ExpireSessionsAfterTheFirstDocument(portal))
    result = fetch(cid)
    assert result.status is Status.CONNECTED, result.message
    assert set(stored(dextcore_app, cid)) == set(want)
    assert len(portal.events_of("login")) == 2  # concurrent downloads share the one new sign-in


def test_a_session_ended_between_runs_signs_in_again(sandbox, connect, fetch, portal):
    cid = connect(sandbox, "amazon", "ok", history_from=dt.date(2026, 10, 1))
    assert fetch(cid).status is Status.CONNECTED
    portal.expire_sessions()
    again = fetch(cid)
    assert again.status is Status.CONNECTED, again.message
    assert again.documents_new == 0
    assert len(portal.events_of("login")) == 2


# -- an unreliable portal --------------------------------------------------------------------------------


def test_faults_end_with_every_document_collected_once_after_at_most_one_rerun(dextcore_app, sandbox, connect,
                                                                                 fetch, portal):
    portal.faults.update({"error_rate": 0.04, "timeout_rate": 0.03, "reset_rate": 0.03, "hang_seconds": 5,
                          "seed": 7})
    cid = connect(sandbox, "amazon", "ok")
    want = expected(portal, "ok")
    settings = {"DOWNLOAD_TIMEOUT": 1}
    first = fetch(cid, settings=settings)
    assert first.status in (Status.CONNECTED, Status.PORTAL_UNAVAILABLE), first.message
    runs = 1
    if first.status is not Status.CONNECTED:
        second = fetch(cid, force=True, settings=settings)
        assert second.status is Status.CONNECTED, second.message
        runs = 2
    assert {e.detail["fault"] for e in portal.events_of("fault")} == {"error", "timeout", "reset"}
    docs = dextcore_app.inbox.list(cid)
    assert sorted(d.stable_id for d in docs) == sorted(want)
    assert len({d.sha256 for d in docs}) == len(want)
    assert len([p for p in dextcore_app.config.inbox_dir.rglob("*.pdf")]) == len(want)
    assert runs <= 2
