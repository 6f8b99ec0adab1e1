"""The Paperbox example portal over real HTTP (urllib with a cookie jar), as its docstring describes it."""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import importlib.metadata
import io
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Iterator

import attrs
import pypdf
import pytest

from dextcore.sandbox import Clock, SandboxServer, discover_portals
from dextcore.sandbox.examples.paperbox import PER_PAGE, PaperboxPortal

NOW = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.timezone.utc)
OK = ("buyer@northwind.example", "Paper-Plane-42")
CODE = ("finance@brightworks.example", "Staple-Remover-7")
SHORT = ("ops@harbourcafe.example", "Ring-Binder-19")
EMPTY = ("hello@freshstart.example", "Fresh-Start-1")
TOKEN = re.compile(r'name="(?:csrf_token|_token)" value="([^"]*)"')


@attrs.define
class Page:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


class Browser:
    def __init__(self, root: str, *, follow: bool = True) -> None:
        self.root = root
        handlers: list[urllib.request.BaseHandler] = [
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())]
        if not follow:
            handlers.append(_NoRedirect())
        self.opener = urllib.request.build_opener(*handlers)
        self.last: Page | None = None

    def open(self, path: str, data: dict[str, str] | None = None) -> Page:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.root + path, body, timeout=10) as response:
                page = Page(response.url, response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            page = Page(error.url, error.code, dict(error.headers), error.read())
        self.last = page
        return page

    def post(self, path: str, **fields: str) -> Page:
        assert self.last is not None
        found = TOKEN.search(self.last.text)
        return self.open(path, {"csrf_token": found.group(1) if found else "", **fields})

    def sign_in(self, username: str, password: str) -> Page:
        self.open("/login")
        return self.post("/login", username=username, password=password)


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer([PaperboxPortal(seed=0)], clock=Clock(NOW)) as running:
        yield running


@pytest.fixture
def portal(server: SandboxServer) -> PaperboxPortal:
    found = server.portal("paperbox")
    assert isinstance(found, PaperboxPortal)
    return found


@pytest.fixture
def browser(server: SandboxServer) -> Browser:
    return Browser(server.root("paperbox"))


def numbers(page: Page) -> list[str]:
    return re.findall(r'<td class="number">([^<]+)</td>', page.text)


def test_sign_in_lists_invoices_page_by_page_newest_first(browser, portal):
    page = browser.sign_in(*OK)
    assert page.status == 200 and page.url.endswith("/account/invoices")
    invoices = portal.invoices(OK[0])
    assert len(invoices) == 27 and [i.date for i in invoices] == sorted((i.date for i in invoices), reverse=True)
    assert invoices[-1].date < dt.date(2024, 11, 21)  # more than two calendar years back
    seen = numbers(page)
    while 'rel="next"' in browser.last.text:
        page = browser.open(re.search(r'rel="next" href="([^"]+)"', browser.last.text).group(1))
        seen += numbers(page)
    assert seen == [i.number for i in invoices]
    assert len(numbers(browser.open("/account/invoices?page=1"))) == PER_PAGE
    assert browser.open("/account/invoices?page=4").status == 404
    assert [e.detail["username"] for e in portal.events_of("login")] == [OK[0]]


def test_a_wrong_password_and_an_unknown_address_get_the_same_error(browser, portal):
    for username, password in ((OK[0], "nope"), ("who@nowhere.example", "nope")):
        page = browser.sign_in(username, password)
        assert page.status == 200 and "Incorrect email address or password." in page.text
        assert 'id="login-form"' in page.text
    assert [e.detail["reason"] for e in portal.events_of("login_failed")] == ["wrong-password", "unknown-user"]
    assert not portal.events_of("login")


def test_the_csrf_token_is_required(browser, portal):
    browser.open("/login")
    page = browser.open("/login", {"username": OK[0], "password": OK[1], "csrf_token": "forged"})
    assert page.status == 400 and "Your sign-in form expired." in page.text
    assert [e.detail["reason"] for e in portal.events_of("login_failed")] == ["csrf"]
    assert browser.post("/login", username=OK[0], password=OK[1]).url.endswith("/account/invoices")


def test_the_emailed_code_signs_in_and_a_wrong_or_late_one_does_not(server, browser, portal):
    page = browser.sign_in(*CODE)
    assert page.url.endswith("/login/code") and "f******@brightworks.example" in page.text
    code = server.mailbox.last_code(CODE[0])
    assert code and server.mailbox.messages(CODE[0])[-1].channel == "email"
    assert "That code is incorrect or has expired." in browser.post("/login/code", code="000000").text
    server.clock.advance(dt.timedelta(minutes=11))
    assert "That code is incorrect or has expired." in browser.post("/login/code", code=code).text
    assert [e.detail["reason"] for e in portal.events_of("code_rejected")] == ["wrong", "expired"]

    again = Browser(server.root("paperbox"))
    again.sign_in(*CODE)
    assert again.post("/login/code", code=server.mailbox.last_code(CODE[0])).url.endswith("/account/invoices")


def test_five_wrong_codes_end_the_sign_in(server, browser):
    browser.sign_in(*CODE)
    for _ in range(4):
        assert 'id="code-form"' in browser.post("/login/code", code="000000").text
    page = browser.post("/login/code", code="000000")
    assert 'id="login-form"' in page.text and "Too many incorrect codes." in page.text
    assert browser.open("/login/code").url.endswith("/login")


def test_a_pdf_is_a_real_invoice_and_only_its_owner_gets_it(server, browser, portal):
    browser.sign_in(*OK)
    invoice = portal.invoices(OK[0])[0]
    pdf = browser.open(f"/account/invoices/{invoice.number}.pdf")
    assert pdf.status == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert f'filename="Paperbox-{invoice.number}.pdf"' in pdf.headers["Content-Disposition"]
    text = pypdf.PdfReader(io.BytesIO(pdf.body)).pages[0].extract_text()
    assert invoice.number in text and "Northwind Traders Ltd" in text
    other = Browser(server.root("paperbox"))
    other.sign_in(*EMPTY)
    assert other.open(f"/account/invoices/{invoice.number}.pdf").status == 404
    assert "You have no invoices yet." in other.open("/account/invoices").text


def test_an_idle_session_ends_html_redirects_and_pdf_links_answer_the_sign_in_page(server, browser, portal):
    browser.sign_in(*OK)
    number = portal.invoices(OK[0])[0].number
    server.clock.advance(dt.timedelta(minutes=31))
    pdf = browser.open(f"/account/invoices/{number}.pdf")
    assert pdf.status == 200 and pdf.headers["Content-Type"].startswith("text/html")
    assert 'id="login-form"' in pdf.text and "Please sign in to continue." in pdf.text
    assert [e.detail["path"] for e in portal.events_of("file_refused")] == [f"/account/invoices/{number}.pdf"]
    raw = Browser(server.root("paperbox"), follow=False).open("/account/invoices?page=2")
    assert raw.status == 302 and raw.headers["Location"] == "/login?next=%2Faccount%2Finvoices%3Fpage%3D2"
    # Signing in from there leads back to the page asked for.
    browser.open("/account/invoices?page=2")
    assert browser.post("/login", username=OK[0], password=OK[1]).url.endswith("/account/invoices?page=2")


def test_the_short_session_account_is_signed_out_once_after_five_files(browser, portal):
    browser.sign_in(*SHORT)
    invoices = portal.invoices(SHORT[0])
    for invoice in invoices[:5]:
        assert browser.open(f"/account/invoices/{invoice.number}.pdf").body.startswith(b"%PDF-")
    assert 'id="login-form"' in browser.open(f"/account/invoices/{invoices[5].number}.pdf").text
    assert len(portal.events_of("session_ended")) == 1
    browser.sign_in(*SHORT)
    for invoice in invoices[5:12]:
        assert browser.open(f"/account/invoices/{invoice.number}.pdf").body.startswith(b"%PDF-")


def test_the_redesign_changes_the_markup(server, browser, portal):
    portal.faults.redesign = True
    page = browser.open("/login")
    assert 'data-form="sign-in"' in page.text and 'id="login-form"' not in page.text
    token = TOKEN.search(page.text).group(1)
    listed = browser.open("/login", {"_token": token, "email": OK[0], "passphrase": OK[1]})
    assert 'class="invoice-card"' in listed.text and 'class="invoices"' not in listed.text


def test_same_seed_same_invoices_and_demo_accounts_cover_every_scenario():
    one, two = PaperboxPortal(seed=0, clock=Clock(NOW)), PaperboxPortal(seed=0, clock=Clock(NOW))
    assert one.invoices(OK[0]) == two.invoices(OK[0])
    assert PaperboxPortal(seed=1, clock=Clock(NOW)).invoices(OK[0]) != one.invoices(OK[0])
    scenarios = {a.scenario: a for a in one.demo_accounts()}
    assert set(scenarios) == {"ok", "email-code", "short-session", "no-invoices", "wrong-password"}
    assert scenarios["email-code"].phone == CODE[0]  # where the code arrives in the mailbox
    assert scenarios["wrong-password"].password != OK[1]
    assert all(a.connector == "paperbox" for a in scenarios.values())


def test_the_core_does_not_register_paperbox():
    """Only the tutorial's plugin offers it: the core's own entry points never do."""
    core = importlib.metadata.distribution("dextcore").entry_points
    assert not any("paperbox" in ep.value or "examples" in ep.value for ep in core)
    assert PaperboxPortal not in discover_portals([ep for ep in core if ep.group == "dextcore"]).portals
