"""The Spotify connector end to end: the real runner (Scrapy + scrapy-playwright driving
the system Chromium, vault, inbox, SQLite) against the Spotify sandbox on 127.0.0.1.

Each test gets a fresh sandbox (its clock frozen at the fixtures' "today") and a fresh
dextcore app, so saved sessions never leak between tests.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pypdf
import pytest

from dextcore.statuses import Status
from dextcore_spotify import hooks, selectors

# What the sandbox's demo accounts hold (``connect(sandbox, "spotify", scenario)`` connects them).
OK = ("listener@example.com", "correct-horse-1")  # scenario "ok", variant "uk"
DE = ("hoerer@example.de", "richtiges-pferd-1")  # scenario "ok", variant "de"
TWOFA = "twofactor@example.com"  # scenario "2fa"; codes are e-mailed to the username
CHALLENGE = "suspicious@example.com"  # scenario "challenge"

pytestmark = pytest.mark.timeout(90)


def stored(app, cid):
    return {d.stable_id: d for d in app.inbox.list(cid)}


def pdfs_served(portal):
    return [e for e in portal.events_of("file_served") if e.detail.get("content_type") == "application/pdf"]


def logins(portal, username):
    return [e for e in portal.events_of("login") if e.detail["username"] == username]


def failed_logins(portal, username):
    return [e for e in portal.events_of("login_failed") if e.detail["username"] == username]


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(str(path)).pages)


# -- collecting --------------------------------------------------------------------------------------------


def test_full_history_then_incremental_run_collects_every_receipt_once(dextcore_app, sandbox, connect, fetch, portal):
    receipts = portal.receipts(OK[0])
    printed = [r for r in receipts if not r.has_pdf]
    assert printed and len(receipts) > 24  # the fixture data covers the paths under test
    served_before = len(pdfs_served(portal))
    cid = connect(sandbox, "spotify", "ok")

    result = fetch(cid)
    assert result.status is Status.CONNECTED, result.message
    assert result.full and result.documents_new == len(receipts) == result.documents_seen
    docs = stored(dextcore_app, cid)
    assert set(docs) == {f"spotify:{r.id}" for r in receipts}
    for receipt in receipts:
        doc = docs[f"spotify:{receipt.id}"]
        assert (doc.number, doc.date, doc.total, doc.currency) == (receipt.id, receipt.sold_on, receipt.gross, "GBP")
        assert (doc.kind.value, doc.supplier) == ("receipt", "Spotify")
        text = pdf_text(doc.path)
        assert receipt.id in text  # the right file behind the right row
        if receipt.has_pdf:
            assert "Payment method: Visa ending 4242" in text  # Spotify's own PDF
        else:
            # No original exists: the receipt page, printed by headless Chromium.
            assert "Gift card" in text and "Spotify receipt" in text
            meta = pypdf.PdfReader(str(doc.path)).metadata or {}
            assert "Skia/PDF" in str(meta.get("/Producer", ""))  # Chromium's PDF printer
    assert len(pdfs_served(portal)) - served_before == len(receipts) - len(printed)  # each original once
    assert len(logins(portal, OK[0])) == 1

    again = fetch(cid)
    assert again.status is Status.CONNECTED, again.message
    assert not again.full and again.documents_new == 0
    assert 1 <= again.documents_seen < len(receipts)  # only the incremental window is looked at
    assert len(pdfs_served(portal)) - served_before == len(receipts) - len(printed)  # nothing fetched twice
    assert len(logins(portal, OK[0])) == 1  # the saved browser session was reused: no second login
    assert len(dextcore_app.inbox.list(cid)) == len(receipts)


def test_german_account_on_the_de_pages(dextcore_app, sandbox, connect, fetch, portal):
    receipts = portal.receipts(DE[0])
    cid = connect(sandbox, "spotify", "ok", variant="de")
    result = fetch(cid)
    assert result.status is Status.CONNECTED, result.message
    docs = stored(dextcore_app, cid)
    assert set(docs) == {f"spotify:{r.id}" for r in receipts}
    for receipt in receipts:
        doc = docs[f"spotify:{receipt.id}"]
        # "21.11.2026" and "12,98 €" read as a date and an amount in euros
        assert (doc.date, doc.total, doc.currency) == (receipt.sold_on, receipt.gross, "EUR")
    assert len({r.gross for r in receipts}) == 2  # both prices (before and after the rise) were read


# -- an unreliable portal ----------------------------------------------------------------------------------


def test_faults_end_with_every_receipt_collected_once_after_at_most_one_rerun(dextcore_app, sandbox, connect, fetch,
                                                                              portal, monkeypatch):
    """About 10% of the receipt requests fail: a 5xx answer, a reset connection, or a hang
    that outlasts the plugin's (here 1 s) request timeout. The plugin tries each again; the
    run, plus at most one re-run, ends with every receipt in the inbox exactly once.

    Only the receipt requests (each receipt's PDF and the receipt pages printed for those
    without one) are faulted, through ``Faults.exempt``. The other page loads are browser
    navigations whose scripts draw the page: tried with faults everywhere, a failed
    ``login.js``/``account.js``, login page or reCAPTCHA token left a page that never drew
    its form or table, which the plugin cannot tell from a redesign ("Page not understood"
    after waiting 20 s), and the password login is deliberately one attempt per run.
    """
    monkeypatch.setattr(hooks, "PDF_TIMEOUT_MS", 1_000)
    portal.faults.update({"error_rate": 0.04, "reset_rate": 0.03, "timeout_rate": 0.03, "hang_seconds": 5,
                          "seed": 1})
    portal.faults.exempt = lambda request: "/account/receipt/" not in request.path
    receipts = portal.receipts(OK[0])
    cid = connect(sandbox, "spotify", "ok")

    first = fetch(cid)
    assert first.status in (Status.CONNECTED, Status.PORTAL_UNAVAILABLE), first.message
    if first.status is not Status.CONNECTED:
        rerun = fetch(cid)  # as the scheduler would: the status is retried automatically
        assert rerun.status is Status.CONNECTED, rerun.message
    faults = portal.events_of("fault")
    assert {e.detail["fault"] for e in faults} == {"error", "reset", "timeout"}
    assert all("/account/receipt/" in e.detail["path"] for e in faults)
    docs = dextcore_app.inbox.list(cid)
    assert sorted(d.stable_id for d in docs) == sorted(f"spotify:{r.id}" for r in receipts)
    assert len({d.sha256 for d in docs}) == len(receipts)
    assert len(list(dextcore_app.config.inbox_dir.rglob("*.pdf"))) == len(receipts)
    assert len(logins(portal, OK[0])) == 1  # a failed receipt request was never taken for a lost session


def test_a_receipt_failing_every_try_is_portal_unavailable_and_the_next_run_collects_the_rest(
        dextcore_app, sandbox, connect, fetch, portal):
    receipts = portal.receipts(OK[0])
    broken = next(r for r in receipts if r.has_pdf)
    portal.faults.update({"error_rate": 1.0})
    portal.faults.exempt = lambda request: not request.path.endswith(f"/receipt/{broken.id}/original/")
    cid = connect(sandbox, "spotify", "ok")

    first = fetch(cid)
    assert first.status is Status.PORTAL_UNAVAILABLE, first.message
    assert "did not deliver a receipt file in 3 tries (the last time it answered HTTP 50" in first.message
    assert len(portal.events_of("fault")) == 3
    collected = set(stored(dextcore_app, cid))
    assert f"spotify:{broken.id}" not in collected
    assert len(logins(portal, OK[0])) == 1  # the 5xx answers were not taken for a lost session

    portal.faults.clear()
    rerun = fetch(cid)
    assert rerun.status is Status.CONNECTED, rerun.message
    assert rerun.documents_new == len(receipts) - len(collected)
    assert sorted(d.stable_id for d in dextcore_app.inbox.list(cid)) == sorted(f"spotify:{r.id}" for r in receipts)


# -- failures land in the right status ---------------------------------------------------------------------


def test_wrong_password_is_incorrect_credentials_tried_once(dextcore_app, sandbox, connect, fetch, portal):
    cid = connect(sandbox, "spotify", "ok", password="wrong-password")
    before = len(failed_logins(portal, OK[0]))
    result = fetch(cid)
    assert result.status is Status.INCORRECT_CREDENTIALS, result.message
    assert "Incorrect username or password" in result.message
    assert "wrong-password" not in result.message
    assert len(failed_logins(portal, OK[0])) == before + 1  # never retried in a loop
    assert dextcore_app.connections.get(cid).status is Status.INCORRECT_CREDENTIALS


def test_google_account_is_sso_not_supported(sandbox, connect, fetch, portal):
    cid = connect(sandbox, "spotify", "sso-google")
    result = fetch(cid)
    assert result.status is Status.SSO_NOT_SUPPORTED, result.message
    assert "Google" in result.message


def test_recaptcha_challenge_is_blocked(sandbox, connect, fetch, portal):
    cid = connect(sandbox, "spotify", "challenge")
    result = fetch(cid)
    assert result.status is Status.BLOCKED, result.message
    assert [e.detail["challenge"] for e in portal.events_of("challenge_shown")
            if e.detail["username"] == CHALLENGE] == ["recaptcha"]
    assert not logins(portal, CHALLENGE)


def test_redesign_still_collects_through_the_fallback_selectors(dextcore_app, sandbox, connect, fetch, portal):
    """Redesigned markup (ids dropped, new test ids, a div table): the fallbacks
    (name attributes, the log-out link, ``__NEXT_DATA__``, ``article[data-receipt-id]``) carry on."""
    portal.faults.redesign = True
    receipts = portal.receipts(OK[0])
    cid = connect(sandbox, "spotify", "ok")
    result = fetch(cid)
    assert result.status is Status.CONNECTED, result.message
    assert set(stored(dextcore_app, cid)) == {f"spotify:{r.id}" for r in receipts}


def test_redesign_beyond_the_selectors_is_plugin_broken_with_the_page_saved(sandbox, connect, fetch,
                                                                             portal, monkeypatch):
    """With only the documented (v1) selectors, the redesigned login form is not understood."""
    documented = selectors.SpotifySelectors(**{
        f.name: getattr(selectors.SELECTORS, f.name)[:1] for f in attrs.fields(selectors.SpotifySelectors)})
    monkeypatch.setattr(selectors, "SELECTORS", documented)
    monkeypatch.setattr(hooks, "WAIT_MS", 3_000)
    portal.faults.redesign = True
    attempts = len(logins(portal, OK[0])) + len(failed_logins(portal, OK[0]))
    cid = connect(sandbox, "spotify", "ok")
    result = fetch(cid)
    assert result.status is Status.PLUGIN_BROKEN, result.message
    assert result.saved_page and Path(result.saved_page).is_file()
    saved = Path(result.saved_page).read_text()
    assert 'data-testid="login-password"' in saved  # the rendered v2 form the plugin could not read
    assert OK[1] not in saved and OK[0] not in saved
    assert len(logins(portal, OK[0])) + len(failed_logins(portal, OK[0])) == attempts  # no password was sent


# -- two-factor --------------------------------------------------------------------------------------------


def test_two_factor_unattended_then_interactive_then_trusted_device(dextcore_app, dextcore_events, sandbox, connect,
                                                                   fetch, answer_code, portal):
    mailbox = sandbox.mailbox
    cid = connect(sandbox, "spotify", "2fa")
    receipts = portal.receipts(TWOFA)

    sent = mailbox.count(TWOFA)
    before = [e.detail["method"] for e in logins(portal, TWOFA)]
    unattended = fetch(cid)
    assert unattended.status is Status.ADDITIONAL_INFO_REQUIRED, unattended.message
    assert mailbox.count(TWOFA) == sent + 1
    assert [(c.connection_id, c.interactive) for c in dextcore_events.challenges] == [(cid, False)]
    assert [e.detail["method"] for e in logins(portal, TWOFA)] == before and unattended.documents_new == 0

    answerer = answer_code(sandbox, cid, TWOFA)  # a person reads the new e-mail and types its code
    interactive = fetch(cid, wait_for_code=30)
    assert interactive.status is Status.CONNECTED, interactive.message
    assert answerer.result() == mailbox.last_code(TWOFA) and mailbox.count(TWOFA) == sent + 2
    assert [(c.connection_id, c.interactive) for c in dextcore_events.challenges] == [(cid, False), (cid, True)]
    assert interactive.documents_new == len(receipts)
    assert [e.detail["method"] for e in logins(portal, TWOFA)] == [*before, "code"]

    # The portal forgets every session but not the trusted device: a new password login, no code.
    portal.expire_sessions()
    later = fetch(cid, force=True, full=True)
    assert later.status is Status.CONNECTED, later.message
    assert mailbox.count(TWOFA) == sent + 2
    assert [e.detail["method"] for e in logins(portal, TWOFA)] == [*before, "code", "password"]
    assert later.documents_new == 0 and len(dextcore_app.inbox.list(cid)) == len(receipts)


def test_redesigned_code_page_with_one_box_per_digit(dextcore_events, sandbox, connect, fetch, answer_code, portal):
    """The redesign replaces the code field by six digit boxes filling a hidden ``code``."""
    portal.faults.redesign = True
    cid = connect(sandbox, "spotify", "2fa")
    methods = [e.detail["method"] for e in logins(portal, TWOFA)]
    answerer = answer_code(sandbox, cid, TWOFA)
    result = fetch(cid, wait_for_code=30)
    assert result.status is Status.CONNECTED, result.message
    assert answerer.result() == sandbox.mailbox.last_code(TWOFA)
    assert [(c.connection_id, c.interactive) for c in dextcore_events.challenges] == [(cid, True)]
    assert [e.detail["method"] for e in logins(portal, TWOFA)] == [*methods, "code"]
    assert result.documents_new == len(portal.receipts(TWOFA))
