"""The Spotify connector hooks, driving the session's headless browser.

spotify.com builds its login form and receipts table with JavaScript, so
every step works on the Playwright page from ``session.browser_page``
(kept in ``session.state`` for the run) and reads it through the pure
functions of :mod:`dextcore_spotify.pages`. PDFs are fetched with the
browser context's request client, which carries the ``sp_dc`` cookie.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any, AsyncIterator

from dextcore.hookspecs import hookimpl
from dextcore.outcomes import (
    Blocked,
    ForeignHostBlocked,
    IncorrectCode,
    IncorrectCredentials,
    LayoutChanged,
    PortalUnavailable,
    SsoNotSupported,
    TwoFactorRequired,
)
from dextcore.portal.session import PortalSession
from dextcore.records import Challenge, DocumentKind, DocumentRef, Downloaded, TwoFactorMedium
from dextcore_spotify import pages
from dextcore_spotify.pages import LoginError, Page, PageKind
from dextcore_spotify.selectors import SELECTORS

__all__ = ["authenticate", "download", "handle_2fa", "list_documents"]

PAGE_KEY = "spotify.page"
WAIT_MS = 20_000
CODE_LIFETIME = dt.timedelta(minutes=10)


def _history_url(session: PortalSession) -> str:
    return f"{session.base_url.rstrip('/')}/account/order-history/"


async def _page(session: PortalSession, url: str) -> Any:
    """The run's browser page, opened on (or navigated to) ``url``."""
    page = session.state.get(PAGE_KEY)
    if page is None or page.is_closed():
        page = await session.browser_page(url)
        session.state[PAGE_KEY] = page
    else:
        await page.goto(url)
    return page


async def _settle(page: Any) -> Page:
    """Wait until the app drew something we know, then snapshot the page."""
    known = ", ".join(SELECTORS.any_of(name) for name in (
        "logged_in", "login_username", "login_with_password", "code_input", "code_digits", "captcha",
        "error_banner", "receipt_article"))
    try:
        await page.wait_for_selector(known, timeout=WAIT_MS)
    except Exception as exc:  # Playwright's TimeoutError: nothing recognisable was drawn
        snapshot = Page(await page.content(), page.url)
        if pages.detect(snapshot) is PageKind.UNKNOWN:
            raise LayoutChanged("no known element appeared", page=snapshot) from exc
    return Page(await page.content(), page.url)


async def _first(page: Any, name: str) -> Any:
    for css in getattr(SELECTORS, name):
        found = await page.query_selector(css)
        if found is not None:
            return found
    raise LayoutChanged(f"{name} not found", page=Page(await page.content(), page.url))


def _raise_for_login_error(kind: LoginError | None, snapshot: Page, session: PortalSession) -> None:
    if kind is None:
        return
    if kind is LoginError.INVALID_CREDENTIALS:
        raise IncorrectCredentials(pages.banner_text(snapshot) or "", hint=session.connection.variant.hint)
    if kind is LoginError.SSO:
        raise SsoNotSupported((pages.sso_provider(snapshot) or "google").capitalize())
    if kind is LoginError.TOO_MANY_ATTEMPTS:
        raise PortalUnavailable("Spotify refuses logins for a while after failed attempts.",
                                retry_after=dt.timedelta(hours=1))
    raise LayoutChanged(f"login refused: {pages.banner_text(snapshot)}", page=snapshot)


def _two_factor(snapshot: Page) -> TwoFactorRequired:
    sent_to = pages.code_sent_to(snapshot)
    where = f" to {sent_to}" if sent_to else ""
    return TwoFactorRequired(Challenge(
        medium=TwoFactorMedium.EMAIL,
        prompt=f"Enter the 6-digit code Spotify e-mailed{where}.",
        expires_at=dt.datetime.now(dt.timezone.utc) + CODE_LIFETIME,
        state={"url": snapshot.url},
    ))


@hookimpl
async def authenticate(session: PortalSession) -> None:
    """Keep a live session; otherwise log in once with the password form."""
    history = _history_url(session)
    page = await _page(session, history)
    snapshot = await _settle(page)
    if pages.detect(snapshot) is PageKind.LOGGED_IN:
        return
    await page.goto(pages.login_url(session.base_url, history))
    await page.wait_for_selector(SELECTORS.any_of("login_password"), timeout=WAIT_MS)
    password = session.secret("password")
    if not password or not session.connection.username:
        raise IncorrectCredentials("No username or password is stored for this connection.")
    await (await _first(page, "login_username")).fill(session.connection.username)
    await (await _first(page, "login_password")).fill(password)
    remember = await page.query_selector(SELECTORS.any_of("login_remember"))
    if remember is not None and not await remember.is_checked():
        await remember.check()
    await (await _first(page, "login_button")).click()
    outcome = ", ".join(SELECTORS.any_of(n) for n in ("error_banner", "logged_in", "code_input", "code_digits",
                                                      "captcha"))
    await page.wait_for_selector(outcome, timeout=WAIT_MS)
    snapshot = Page(await page.content(), page.url)
    kind = pages.detect(snapshot)
    if kind is PageKind.LOGGED_IN:
        return
    if kind is PageKind.CHALLENGE:
        raise Blocked("captcha")
    if kind is PageKind.TWO_FACTOR:
        raise _two_factor(snapshot)
    if kind is PageKind.SSO:
        raise SsoNotSupported((pages.sso_provider(snapshot) or "google").capitalize())
    _raise_for_login_error(pages.login_error(snapshot), snapshot, session)
    raise LayoutChanged("the login led to an unknown page", page=snapshot)


@hookimpl
async def handle_2fa(session: PortalSession, challenge: Challenge, code: str | None) -> None:
    """Type the e-mailed code, tick "trust this device" and submit."""
    if not code:
        raise IncorrectCode("Spotify needs the code it e-mailed.", challenge=challenge)
    page = session.state.get(PAGE_KEY)
    if page is None or page.is_closed() or page.url != challenge.state.get("url"):
        page = await _page(session, str(challenge.state["url"]))
    await page.wait_for_selector(SELECTORS.any_of("code_input") + ", " + SELECTORS.any_of("code_digits"),
                                 timeout=WAIT_MS)
    single = await page.query_selector(SELECTORS.any_of("code_input"))
    if single is not None:
        await single.fill(code)
    else:
        digits = await page.query_selector_all(SELECTORS.any_of("code_digits"))
        if len(digits) != len(code):
            raise LayoutChanged(f"{len(digits)} code boxes for a {len(code)}-digit code",
                                page=Page(await page.content(), page.url))
        for box, digit in zip(digits, code):
            await box.fill(digit)
    trusted = await page.query_selector(SELECTORS.any_of("code_trusted"))
    if trusted is not None and not await trusted.is_checked():
        await trusted.check()
    await (await _first(page, "code_submit")).click()
    await page.wait_for_selector(SELECTORS.any_of("logged_in") + ", " + SELECTORS.any_of("error_banner"),
                                 timeout=WAIT_MS)
    snapshot = Page(await page.content(), page.url)
    if pages.detect(snapshot) is PageKind.LOGGED_IN:
        return
    error = pages.login_error(snapshot)
    if error is LoginError.INCORRECT_CODE:
        raise IncorrectCode(challenge=challenge)
    if error is LoginError.CODE_EXPIRED:
        raise IncorrectCode("The code has expired; log in again for a new one.")
    raise LayoutChanged(f"code refused: {pages.banner_text(snapshot)}", page=snapshot)


@hookimpl
async def list_documents(session: PortalSession, since: dt.date | None) -> AsyncIterator[DocumentRef]:
    """Yield the receipts of the order history dated on or after ``since``."""
    page = await _page(session, _history_url(session))
    snapshot = await _settle(page)
    if pages.detect(snapshot) is not PageKind.LOGGED_IN:
        raise LayoutChanged("the order history asked to log in again", page=snapshot)
    for invoice in pages.parse_invoices(snapshot, country=session.connection.variant.name):
        if since is not None and invoice.date < since:
            continue
        yield DocumentRef(
            stable_id=f"spotify:{invoice.id}",
            kind=DocumentKind.RECEIPT,
            number=invoice.id,
            date=invoice.date,
            total=invoice.amount,
            currency=invoice.currency,
            supplier="Spotify",
            url=invoice.pdf_url or invoice.receipt_url,
            filename=f"Spotify-receipt-{invoice.id}.pdf",
            extra={"receipt_url": invoice.receipt_url, "pdf_url": invoice.pdf_url},
        )


def _same_site(session: PortalSession, url: str) -> None:
    """Refuse URLs off the portal: the browser's request client bypasses Scrapy's domain checks."""
    base, target = urllib.parse.urlsplit(session.base_url), urllib.parse.urlsplit(url)
    host = target.hostname or ""
    if (target.scheme, target.netloc) == (base.scheme, base.netloc):
        return
    if any(host == d or host.endswith("." + d) for d in session.connection.connector.allowed_domains):
        return
    raise ForeignHostBlocked(host)


async def _fetch_pdf(session: PortalSession, page: Any, url: str) -> bytes | None:
    _same_site(session, url)
    response = await page.context.request.get(url)
    body = await response.body()
    return body if response.ok and body.startswith(b"%PDF-") else None


@hookimpl
async def download(session: PortalSession, document: DocumentRef) -> Downloaded:
    """The original PDF, or the receipt page printed by Chromium when there is none."""
    page = session.state.get(PAGE_KEY)
    if page is None or page.is_closed():
        page = await _page(session, _history_url(session))
    pdf_url = document.extra.get("pdf_url")
    for attempt in range(2):
        if pdf_url:
            body = await _fetch_pdf(session, page, pdf_url)
            if body is not None:
                return Downloaded(body, document.filename, "application/pdf")
        else:
            receipt_url = document.extra.get("receipt_url") or document.url
            _same_site(session, str(receipt_url))
            await page.goto(str(receipt_url))
            snapshot = await _settle(page)
            if pages.detect(snapshot) not in (PageKind.LOGIN, PageKind.LOGIN_CODE):
                linked = pages.original_receipt_url(snapshot)
                if linked and (body := await _fetch_pdf(session, page, linked)) is not None:
                    return Downloaded(body, document.filename, "application/pdf")
                printed = await page.pdf(format="A4", print_background=True)
                return Downloaded(printed, document.filename, "application/pdf")
        if attempt == 0:
            # An expired session answers with the login page: log in again once.
            await authenticate(session)
    raise LayoutChanged(f"receipt {document.number} could not be downloaded after logging in again",
                        page=Page(await page.content(), page.url))
