"""The Spotify connector hooks, driving the session's headless browser.

spotify.com builds its login form and receipts table with JavaScript, so
every step works on the Playwright page from ``session.browser_page``
(kept in ``session.state`` for the run) and reads it through the pure
functions of :mod:`dextcore_spotify.pages`. PDFs are fetched with the
browser context's request client, which carries the ``sp_dc`` cookie.

The runner downloads several documents at once while the run has one
browser tab: every navigation of that tab holds ``session.state``'s lock
(PDF requests do not navigate and run concurrently). Receipt requests
that fail for a passing reason (a 5xx or 429 answer, a reset connection,
a timeout) are tried again a few times, then end the run as "Portal
unavailable"; the login never is (one attempt per run). Page snapshots are
Scrapy ``HtmlResponse`` objects so a ``LayoutChanged`` carries the very
page the runner saves for the maintainer. Selectors are read from
:data:`dextcore_spotify.selectors.SELECTORS` at call time, so replacing it
(a site change, without a release) takes effect everywhere.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import urllib.parse
from typing import Any, AsyncIterator, Awaitable, Callable, TypeVar

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout
from scrapy.http import HtmlResponse

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
from dextcore.parsing import is_pdf
from dextcore.portal.session import PortalSession
from dextcore.records import Challenge, DocumentKind, DocumentRef, Downloaded, TwoFactorMedium
from dextcore_spotify import pages, selectors
from dextcore_spotify.pages import LoginError, PageKind
from dextcore_spotify.selectors import SpotifySelectors

__all__ = ["authenticate", "download", "handle_2fa", "list_documents"]

PAGE_KEY = "spotify.page"
LOCK_KEY = "spotify.tab_lock"
WAIT_MS = 20_000
"""How long a page may take to draw something we know (milliseconds)."""
CODE_LIFETIME = dt.timedelta(minutes=10)
PDF_TIMEOUT_MS = 30_000
"""How long one receipt file request may take (milliseconds) before it counts as failed."""
ATTEMPTS = 3
"""Tries of one receipt request that fails for a passing reason."""
RETRY_PAUSE = 0.5
"""Seconds before the second try (twice that before the third)."""
_NETWORK_FAILURES = ("net::ERR_", "ECONNRESET", "ECONNREFUSED", "EPIPE", "socket hang up")
"""How Playwright words a failed connection (it has no error codes)."""

T = TypeVar("T")


def _history_url(session: PortalSession) -> str:
    return f"{session.base_url.rstrip('/')}/account/order-history/"


def _sel() -> SpotifySelectors:
    return selectors.SELECTORS


def _lock(session: PortalSession) -> asyncio.Lock:
    """The lock of the run's one browser tab (navigations must not interleave)."""
    lock = session.state.get(LOCK_KEY)
    if lock is None:
        lock = session.state[LOCK_KEY] = asyncio.Lock()
    return lock


async def _page(session: PortalSession, url: str) -> Any:
    """The run's browser page, opened on (or navigated to) ``url``."""
    page = session.state.get(PAGE_KEY)
    if page is None or page.is_closed():
        page = await session.browser_page(url)
        session.state[PAGE_KEY] = page
    else:
        await page.goto(url)
    return page


async def _snapshot(page: Any) -> HtmlResponse:
    """The rendered DOM as a Scrapy response (what the page functions read and the runner saves)."""
    for _ in range(5):
        try:
            html = await page.content()
            break
        except Exception:  # "page is navigating": a script moved on; read the page it lands on
            await page.wait_for_load_state()
    else:
        html = await page.content()
    return HtmlResponse(url=page.url, body=html.encode("utf-8"), encoding="utf-8")


async def _wait(page: Any, names: tuple[str, ...], what: str) -> HtmlResponse:
    """Wait until one of the selectors ``names`` shows, then snapshot; a page that
    never draws any of them is a page we do not understand (Plugin broken)."""
    css = ", ".join(_sel().any_of(name) for name in names)
    try:
        await page.wait_for_selector(css, timeout=WAIT_MS)
    except Exception as exc:  # Playwright's TimeoutError
        raise LayoutChanged(f"{what}: none of {', '.join(names)} appeared", page=await _snapshot(page)) from exc
    return await _snapshot(page)


_KNOWN = ("logged_in", "login_username", "login_password", "login_with_password", "code_input", "code_digits",
          "captcha", "error_banner", "receipt_article")


async def _settle(page: Any) -> HtmlResponse:
    """Wait until the app drew something we know, then snapshot the page."""
    try:
        return await _wait(page, _KNOWN, "nothing known was drawn")
    except LayoutChanged as exc:
        snapshot = exc.page
        if isinstance(snapshot, HtmlResponse) and pages.detect(snapshot, _sel()) is not PageKind.UNKNOWN:
            return snapshot  # known from the server's data (bootstrap JSON, URL) though not drawn
        raise


async def _first(page: Any, name: str) -> Any:
    for css in getattr(_sel(), name):
        found = await page.query_selector(css)
        if found is not None:
            return found
    raise LayoutChanged(f"{name} not found", page=await _snapshot(page))


def _raise_for_login_error(kind: LoginError | None, snapshot: HtmlResponse, session: PortalSession) -> None:
    if kind is None:
        return
    banner = pages.banner_text(snapshot, _sel())
    if kind is LoginError.INVALID_CREDENTIALS:
        raise IncorrectCredentials(banner or "", hint=session.connection.variant.hint)
    if kind is LoginError.SSO:
        raise SsoNotSupported((pages.sso_provider(snapshot, selectors=_sel()) or "google").capitalize())
    if kind is LoginError.TOO_MANY_ATTEMPTS:
        raise PortalUnavailable("Spotify refuses logins for a while after failed attempts.",
                                retry_after=dt.timedelta(hours=1))
    raise LayoutChanged(f"login refused: {banner}", page=snapshot)


def _two_factor(snapshot: HtmlResponse) -> TwoFactorRequired:
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
    if pages.detect(snapshot, _sel()) is PageKind.LOGGED_IN:
        return
    await page.goto(pages.login_url(session.base_url, history))
    await _wait(page, ("login_password",), "the password login form")
    password = session.secret("password")
    if not password or not session.connection.username:
        raise IncorrectCredentials("No username or password is stored for this connection.")
    await (await _first(page, "login_username")).fill(session.connection.username)
    await (await _first(page, "login_password")).fill(password)
    remember = await page.query_selector(_sel().any_of("login_remember"))
    if remember is not None and not await remember.is_checked():
        await remember.check()
    await (await _first(page, "login_button")).click()
    # One attempt per run: whatever the answer, it is classified, never retried.
    snapshot = await _wait(page, ("error_banner", "logged_in", "code_input", "code_digits", "captcha"),
                           "the answer to the login")
    kind = pages.detect(snapshot, _sel())
    if kind is PageKind.LOGGED_IN:
        return
    if kind is PageKind.CHALLENGE:
        raise Blocked("captcha")
    if kind is PageKind.TWO_FACTOR:
        raise _two_factor(snapshot)
    if kind is PageKind.SSO:
        raise SsoNotSupported((pages.sso_provider(snapshot, selectors=_sel()) or "google").capitalize())
    _raise_for_login_error(pages.login_error(snapshot, selectors=_sel()), snapshot, session)
    raise LayoutChanged("the login led to an unknown page", page=snapshot)


@hookimpl
async def handle_2fa(session: PortalSession, challenge: Challenge, code: str | None) -> None:
    """Type the e-mailed code, tick "trust this device" and submit."""
    if not code:
        raise IncorrectCode("Spotify needs the code it e-mailed.", challenge=challenge)
    page = session.state.get(PAGE_KEY)
    if page is None or page.is_closed() or page.url != challenge.state.get("url"):
        page = await _page(session, str(challenge.state["url"]))
    await _wait(page, ("code_input", "code_digits"), "the code form")
    single = await page.query_selector(_sel().any_of("code_input"))
    if single is not None:
        await single.fill(code)
    else:
        digits = await page.query_selector_all(_sel().any_of("code_digits"))
        if len(digits) != len(code):
            raise LayoutChanged(f"{len(digits)} code boxes for a {len(code)}-digit code",
                                page=await _snapshot(page))
        for box, digit in zip(digits, code):
            await box.fill(digit)
    trusted = await page.query_selector(_sel().any_of("code_trusted"))
    if trusted is not None and not await trusted.is_checked():
        await trusted.check()
    await (await _first(page, "code_submit")).click()
    snapshot = await _wait(page, ("logged_in", "error_banner"), "the answer to the code")
    if pages.detect(snapshot, _sel()) is PageKind.LOGGED_IN:
        return
    error = pages.login_error(snapshot, selectors=_sel())
    if error is LoginError.INCORRECT_CODE:
        raise IncorrectCode(challenge=challenge)
    if error is LoginError.CODE_EXPIRED:
        raise IncorrectCode("The code has expired; log in again for a new one.")
    raise LayoutChanged(f"code refused: {pages.banner_text(snapshot, _sel())}", page=snapshot)


@hookimpl
async def list_documents(session: PortalSession, since: dt.date | None) -> AsyncIterator[DocumentRef]:
    """Yield the receipts of the order history dated on or after ``since``."""
    async with _lock(session):
        page = await _page(session, _history_url(session))
        snapshot = await _settle(page)
    if pages.detect(snapshot, _sel()) is not PageKind.LOGGED_IN:
        raise LayoutChanged("the order history asked to log in again", page=snapshot)
    for invoice in pages.parse_invoices(snapshot, country=session.connection.variant.name, selectors=_sel()):
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


class _Passing(Exception):
    """The portal answered a receipt request with a passing error (5xx, 429)."""


def _passing_reason(exc: BaseException) -> str | None:
    """Why a receipt request failed, if the reason passes with time (``None``: it does not)."""
    if isinstance(exc, _Passing):
        return str(exc)
    if isinstance(exc, PlaywrightTimeout):
        return "it timed out"
    if isinstance(exc, PlaywrightError) and any(m in str(exc) for m in _NETWORK_FAILURES):
        return "the connection failed"
    return None


def _raise_for_status(status: int) -> None:
    if status >= 500 or status == 429:
        raise _Passing(f"it answered HTTP {status}")


async def _retrying(what: str, attempt: Callable[[], Awaitable[T]]) -> T:
    """``attempt()``, again while it fails for a passing reason; after :data:`ATTEMPTS`
    tries, :class:`PortalUnavailable` (the next run collects what is left)."""
    tries = 0
    while True:
        tries += 1
        try:
            return await attempt()
        except Exception as exc:
            reason = _passing_reason(exc)
            if reason is None:
                raise
            if tries == ATTEMPTS:
                # Playwright's own text is left out: its call log lists the request's headers (the session cookie).
                raise PortalUnavailable(f"Spotify did not deliver {what} in {ATTEMPTS} tries "
                                        f"(the last time {reason}).") from None
        await asyncio.sleep(RETRY_PAUSE * tries)


def _same_site(session: PortalSession, url: str) -> None:
    """Refuse URLs off the portal: the browser's request client bypasses Scrapy's domain checks."""
    base, target = urllib.parse.urlsplit(session.base_url), urllib.parse.urlsplit(url)
    host = target.hostname or ""
    if (target.scheme, target.netloc) == (base.scheme, base.netloc):
        return
    if target.scheme == "https" and any(host == d or host.endswith("." + d)
                                        for d in session.connection.connector.allowed_domains):
        return
    raise ForeignHostBlocked(host)


async def _fetch_pdf(session: PortalSession, page: Any, url: str) -> bytes | None:
    """The PDF at ``url`` (browser cookies), or ``None`` when the portal answered
    anything else — typically the redirect to its login page after a session expired."""
    _same_site(session, url)

    async def once() -> tuple[bool, bytes]:
        # Redirects are not followed: they would leave the host check behind, and a
        # redirect here only ever means "log in first".
        response = await page.context.request.get(url, max_redirects=0, timeout=PDF_TIMEOUT_MS)
        try:
            body = await response.body()
        finally:
            await response.dispose()
        _raise_for_status(response.status)
        return response.ok, body

    ok, body = await _retrying("a receipt file", once)
    return body if ok and is_pdf(body) else None


async def _tab(session: PortalSession) -> Any:
    page = session.state.get(PAGE_KEY)
    if page is None or page.is_closed():
        page = await _page(session, _history_url(session))
    return page


async def _print_receipt(session: PortalSession, page: Any, url: str) -> bytes | None:
    """The receipt page's original PDF if it links one, else the page printed by
    Chromium; ``None`` when the page asks to log in. Holds the tab (caller)."""
    _same_site(session, url)

    async def load() -> None:
        response = await page.goto(url)
        if response is not None:
            _raise_for_status(response.status)

    await _retrying("a receipt page", load)
    snapshot = await _settle(page)
    if pages.detect(snapshot, _sel()) in (PageKind.LOGIN, PageKind.LOGIN_CODE):
        return None
    linked = pages.original_receipt_url(snapshot, _sel())
    if linked and (body := await _fetch_pdf(session, page, linked)) is not None:
        return body
    return await page.pdf(format="A4", print_background=True)


@hookimpl
async def download(session: PortalSession, document: DocumentRef) -> Downloaded:
    """The original PDF, or the receipt page printed by Chromium when there is none.

    An expired session (the portal answers with its login page) is logged in
    again once; a second refusal ends the run as "Plugin broken"."""
    pdf_url = document.extra.get("pdf_url")
    receipt_url = str(document.extra.get("receipt_url") or document.url)
    for attempt in range(2):
        if pdf_url:
            body = await _fetch_pdf(session, await _tab(session), str(pdf_url))
        else:
            async with _lock(session):
                body = await _print_receipt(session, await _tab(session), receipt_url)
        if body is not None:
            return Downloaded(body, document.filename, "application/pdf")
        if attempt == 0:
            async with _lock(session):
                await authenticate(session)
    async with _lock(session):
        snapshot = await _snapshot(await _tab(session))
    raise LayoutChanged(f"receipt {document.number} could not be downloaded after logging in again",
                        page=snapshot)
