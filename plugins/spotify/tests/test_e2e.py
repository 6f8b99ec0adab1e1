"""The Spotify connector end to end: the real runner (Scrapy + scrapy-playwright driving
the system Chromium, vault, inbox, SQLite) against the Spotify sandbox on 127.0.0.1.

One sandbox serves the whole module (its clock frozen at the machine's "today" of the
fixtures); each test gets a fresh dextcore app, so saved sessions never leak between tests.
"""

from __future__ import annotations

import threading
from pathlib import Path

import attrs
import pypdf
import pytest

from dextcore.runner import fetch_one, submit_code
from dextcore.statuses import Status
from dextcore_spotify import hooks, selectors

OK = ("listener@example.com", "correct-horse-1")
DE = ("hoerer@example.de", "richtiges-pferd-1")
TWOFA = ("twofactor@example.com", "correct-horse-3")
SSO = ("google-user@example.com", "what-google-knows-1")
CHALLENGE = ("suspicious@example.com", "correct-horse-4")

pytestmark = pytest.mark.timeout(90)


def connect(app, sandbox, username, password, *, variant="uk"):
    created = app.connections.create(
        connector="spotify", variant=variant, owner="ann@example.com", created_by="ann@example.com",
        username=username, password=password, base_url=sandbox.base_url("spotify", variant))
    return created.connection.id


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


def test_full_history_then_incremental_run_collects_every_receipt_once(app, sandbox, portal):
    receipts = portal.receipts(OK[0])
    printed = [r for r in receipts if not r.has_pdf]
    assert printed and len(receipts) > 24  # the fixture data covers the paths under test
    served_before = len(pdfs_served(portal))
    cid = connect(app, sandbox, *OK)

    result = fetch_one(app, cid)
    assert result.status is Status.CONNECTED, result.message
    assert result.full and result.documents_new == len(receipts) == result.documents_seen
    docs = stored(app, cid)
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

    again = fetch_one(app, cid)
    assert again.status is Status.CONNECTED, again.message
    assert not again.full and again.documents_new == 0
    assert 1 <= again.documents_seen < len(receipts)  # only the incremental window is looked at
    assert len(pdfs_served(portal)) - served_before == len(receipts) - len(printed)  # nothing fetched twice
    assert len(logins(portal, OK[0])) == 1  # the saved browser session was reused: no second login
    assert len(app.inbox.list(cid)) == len(receipts)


def test_german_account_on_the_de_pages(app, sandbox, portal):
    receipts = portal.receipts(DE[0])
    cid = connect(app, sandbox, *DE, variant="de")
    result = fetch_one(app, cid)
    assert result.status is Status.CONNECTED, result.message
    docs = stored(app, cid)
    assert set(docs) == {f"spotify:{r.id}" for r in receipts}
    for receipt in receipts:
        doc = docs[f"spotify:{receipt.id}"]
        # "21.11.2026" and "12,98 €" read as a date and an amount in euros
        assert (doc.date, doc.total, doc.currency) == (receipt.sold_on, receipt.gross, "EUR")
    assert len({r.gross for r in receipts}) == 2  # both prices (before and after the rise) were read


# -- failures land in the right status ---------------------------------------------------------------------


def test_wrong_password_is_incorrect_credentials_tried_once(app, sandbox, portal):
    cid = connect(app, sandbox, OK[0], "wrong-password")
    before = len(failed_logins(portal, OK[0]))
    result = fetch_one(app, cid)
    assert result.status is Status.INCORRECT_CREDENTIALS, result.message
    assert "Incorrect username or password" in result.message
    assert "wrong-password" not in result.message
    assert len(failed_logins(portal, OK[0])) == before + 1  # never retried in a loop
    assert app.connections.get(cid).status is Status.INCORRECT_CREDENTIALS


def test_google_account_is_sso_not_supported(app, sandbox, portal):
    cid = connect(app, sandbox, *SSO)
    result = fetch_one(app, cid)
    assert result.status is Status.SSO_NOT_SUPPORTED, result.message
    assert "Google" in result.message


def test_recaptcha_challenge_is_blocked(app, sandbox, portal):
    cid = connect(app, sandbox, *CHALLENGE)
    result = fetch_one(app, cid)
    assert result.status is Status.BLOCKED, result.message
    assert [e.detail["challenge"] for e in portal.events_of("challenge_shown")
            if e.detail["username"] == CHALLENGE[0]] == ["recaptcha"]
    assert not logins(portal, CHALLENGE[0])  # only this test uses the challenge account


def test_redesign_still_collects_through_the_fallback_selectors(app, sandbox, portal):
    """Redesigned markup (ids dropped, new test ids, a div table): the fallbacks
    (name attributes, the log-out link, ``__NEXT_DATA__``, ``article[data-receipt-id]``) carry on."""
    portal.faults.redesign = True
    receipts = portal.receipts(OK[0])
    cid = connect(app, sandbox, *OK)
    result = fetch_one(app, cid)
    assert result.status is Status.CONNECTED, result.message
    assert set(stored(app, cid)) == {f"spotify:{r.id}" for r in receipts}


def test_redesign_beyond_the_selectors_is_plugin_broken_with_the_page_saved(app, sandbox, portal, monkeypatch):
    """With only the documented (v1) selectors, the redesigned login form is not understood."""
    documented = selectors.SpotifySelectors(**{
        f.name: getattr(selectors.SELECTORS, f.name)[:1] for f in attrs.fields(selectors.SpotifySelectors)})
    monkeypatch.setattr(selectors, "SELECTORS", documented)
    monkeypatch.setattr(hooks, "WAIT_MS", 3_000)
    portal.faults.redesign = True
    attempts = len(logins(portal, OK[0])) + len(failed_logins(portal, OK[0]))
    cid = connect(app, sandbox, *OK)
    result = fetch_one(app, cid)
    assert result.status is Status.PLUGIN_BROKEN, result.message
    assert result.saved_page and Path(result.saved_page).is_file()
    saved = Path(result.saved_page).read_text()
    assert 'data-testid="login-password"' in saved  # the rendered v2 form the plugin could not read
    assert OK[1] not in saved and OK[0] not in saved
    assert len(logins(portal, OK[0])) + len(failed_logins(portal, OK[0])) == attempts  # no password was sent


# -- two-factor --------------------------------------------------------------------------------------------


class CodeFromMailbox:
    """Answers an interactive challenge like a person: from another thread, reads the
    code the sandbox e-mailed and submits it through :func:`dextcore.runner.submit_code`."""

    def __init__(self, app, cid, mailbox, address, *, after):
        self.app, self.cid, self.mailbox, self.address, self.after = app, cid, mailbox, address, after
        self.answered: list[int] = []
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []

    def _answer(self) -> None:
        try:
            code = self.mailbox.wait_for_code(self.address, timeout=20, after=self.after)
            self.answered.append(submit_code(self.app, self.cid, code))
        except BaseException as exc:  # reported by join()
            self.errors.append(exc)

    def on_challenge(self, connection, challenge, interactive) -> None:
        if not interactive or connection.id != self.cid:
            self.errors.append(AssertionError(f"unexpected challenge {connection.id} interactive={interactive}"))
            return
        thread = threading.Thread(target=self._answer, daemon=True)
        self.threads.append(thread)
        thread.start()

    def join(self) -> tuple[list[int], list[BaseException]]:
        for thread in self.threads:
            thread.join(timeout=20)
        return self.answered, self.errors


def test_two_factor_unattended_then_interactive_then_trusted_device(app, sandbox, portal, events):
    mailbox = sandbox.mailbox
    cid = connect(app, sandbox, *TWOFA)
    receipts = portal.receipts(TWOFA[0])

    sent = mailbox.count(TWOFA[0])
    before = [e.detail["method"] for e in logins(portal, TWOFA[0])]
    unattended = fetch_one(app, cid)
    assert unattended.status is Status.ADDITIONAL_INFO_REQUIRED, unattended.message
    assert mailbox.count(TWOFA[0]) == sent + 1
    assert [interactive for _, _, interactive in events.challenges] == [False]
    assert [e.detail["method"] for e in logins(portal, TWOFA[0])] == before and unattended.documents_new == 0

    answerer = CodeFromMailbox(app, cid, mailbox, TWOFA[0], after=sent + 1)
    events.on_challenge = answerer.on_challenge
    interactive = fetch_one(app, cid, force=True, wait_for_code=30)
    answered, errors = answerer.join()
    assert not errors, errors
    assert interactive.status is Status.CONNECTED, interactive.message
    assert len(answered) == 1 and mailbox.count(TWOFA[0]) == sent + 2
    assert interactive.documents_new == len(receipts)
    assert [e.detail["method"] for e in logins(portal, TWOFA[0])] == [*before, "code"]

    # The portal forgets every session but not the trusted device: a new password login, no code.
    events.on_challenge = None
    portal.expire_sessions()
    later = fetch_one(app, cid, force=True, full=True)
    assert later.status is Status.CONNECTED, later.message
    assert mailbox.count(TWOFA[0]) == sent + 2
    assert [e.detail["method"] for e in logins(portal, TWOFA[0])] == [*before, "code", "password"]
    assert later.documents_new == 0 and len(app.inbox.list(cid)) == len(receipts)


def test_redesigned_code_page_with_one_box_per_digit(app, sandbox, portal, events):
    """The redesign replaces the code field by six digit boxes filling a hidden ``code``."""
    portal.faults.redesign = True
    mailbox = sandbox.mailbox
    cid = connect(app, sandbox, *TWOFA)
    methods = [e.detail["method"] for e in logins(portal, TWOFA[0])]
    answerer = CodeFromMailbox(app, cid, mailbox, TWOFA[0], after=mailbox.count(TWOFA[0]))
    events.on_challenge = answerer.on_challenge
    result = fetch_one(app, cid, force=True, wait_for_code=30)
    answered, errors = answerer.join()
    assert not errors, errors
    assert result.status is Status.CONNECTED, result.message
    assert len(answered) == 1
    assert [e.detail["method"] for e in logins(portal, TWOFA[0])] == [*methods, "code"]
    assert result.documents_new == len(portal.receipts(TWOFA[0]))
