"""The BT connector hooks, on the core's :class:`~dextcore.portal.session.PortalSession`.

Each step fetches through the session (cookies, retries, allowed domains),
names the page with :func:`~dextcore_bt_business.pages.detect` and reacts.
Every page the flow does not expect ends in
:class:`~dextcore.outcomes.LayoutChanged` carrying that page, never in a
silent "no bills".

Choices made here:

* ``authenticate`` first asks for the bills page: a saved session that
  still works is used as is (no password, no 2FA). The password is posted
  once per call.
* A captcha on the password step is reported (``Blocked``) *before* the
  password is posted, so the failed attempt does not count against the
  account.
* The variant hint (business ↔ consumer) is given when the portal says it
  knows no such login ("can't find an account", or the consumer and legacy
  forms, which do not say which half was wrong); a plain "Your password is
  incorrect" means the account exists on this site, so no variant hint.
* Two-factor: the code goes to the phone unless the connection's
  ``code_via`` field says ``email`` (or only the e-mail is offered);
  "remember this device" is always ticked. An expired or voided code makes
  the portal send a new one (``IncorrectCode`` with the new challenge).
* Downloads use each row's PDF link; a row without one is served from the
  account's "download all" ZIP (fetched once per account and run). A file
  URL answering the sign-in page (expired session) triggers one new
  sign-in per run, shared by concurrent downloads; a second expiry is
  "Portal unavailable".
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, MutableMapping
from urllib.parse import urlsplit

from dextcore.hookspecs import hookimpl
from dextcore.outcomes import (
    ActionRequired,
    Blocked,
    IncorrectCode,
    IncorrectCredentials,
    LayoutChanged,
    PortalUnavailable,
    TwoFactorRequired,
)
from dextcore.records import Challenge, DocumentKind, DocumentRef, Downloaded, TwoFactorMedium

from dextcore_bt_business.archive import BadArchive, pdfs_in_zip
from dextcore_bt_business.connector import BUSINESS_HINT, CONSUMER_HINT
from dextcore_bt_business.pages import (
    SIGNED_OUT, BillRow, BillsPage, DetectedPage, ErrorKind, MfaChoice, PageKind, attachment_filename, detect,
    is_pdf, is_zip, layout_changed, mfa_choices, mfa_sent_to, parse_bills, parse_consumer_bills,
)
from dextcore_bt_business.selectors import BTSelectors, select_first

if TYPE_CHECKING:
    from scrapy.http import Response

    from dextcore.portal.session import PortalSession

__all__ = ["SELECTORS", "authenticate", "download", "handle_2fa", "list_documents"]

SELECTORS: type[BTSelectors] = BTSelectors
"""The selectors in use; replace with a :class:`BTSelectors` subclass to follow a site change."""
SUPPLIER = "BT"
CODE_LIFETIME = dt.timedelta(minutes=10)
MAX_RELOGINS = 1
"""New sign-ins per run after the session expired (the "re-authenticate once" rule)."""
_SIGNED_IN = (PageKind.BILLS, PageKind.LOGGED_IN, PageKind.CONSUMER_BILLS)


# -- small helpers ----------------------------------------------------------------------------------


def _scratch(session: PortalSession) -> MutableMapping[str, Any]:
    """This plugin's part of the run's scratch space."""
    return session.state.setdefault("bt_business", {"generation": 0, "relogins": 0})


def _consumer(session: PortalSession) -> bool:
    return session.connection.variant.name == "consumer"


def _first_css(response: Response, candidates: tuple[str, ...], what: str) -> str:
    """The first selector of ``candidates`` matching on ``response`` (to name a form to submit)."""
    for css in candidates:
        if response.css(css):
            return css
    raise layout_changed(what, response)


def _input_name(response: Response, candidates: tuple[str, ...], what: str) -> str:
    name = select_first(response, candidates).attrib.get("name")
    if not name:
        raise layout_changed(what, response)
    return name


def _where(session: PortalSession, response: Response) -> str:
    """Where on the real site the person must go: the variant's host and the page's path."""
    host = urlsplit(session.connection.variant.base_url).netloc
    path = urlsplit(response.url).path
    base_path = urlsplit(session.base_url).path.rstrip("/")
    if base_path and path.startswith(base_path):
        path = path[len(base_path):]
    return f"{host}{path}"


def _username(session: PortalSession) -> str:
    return session.connection.username or ""


def _password(session: PortalSession) -> str:
    password = session.secret("password")
    if not password:
        raise IncorrectCredentials("No password is stored for this connection.")
    return password


# -- authenticate --------------------------------------------------------------------------------------


@hookimpl
async def authenticate(session: PortalSession) -> None:
    """Log in to BT Business (B2C two-step or legacy form) or BT consumer, reusing a live saved session."""
    if _consumer(session):
        await _consumer_login(session, check_saved=True)
    else:
        await _business_login(session, check_saved=True)


async def _business_login(session: PortalSession, *, check_saved: bool) -> None:
    sel = SELECTORS
    page = await session.get(sel.BILLS_PATH if check_saved else sel.LOGIN_START_PATH)
    found = detect(page, sel)
    if found.kind in (PageKind.BILLS, PageKind.LOGGED_IN):
        if found.kind is PageKind.BILLS:
            _scratch(session)["bills_page"] = page  # list_documents starts from it
        session.log.info("BT Business: the saved session is still logged in")
        return
    if found.kind is PageKind.INTERRUPTION:
        raise _action_required(session, found, page)
    if found.kind not in (PageKind.SIGNIN_NAME, PageKind.LEGACY_LOGIN, PageKind.CAPTCHA):
        if found.kind not in SIGNED_OUT | {PageKind.MFA_SEND, PageKind.MFA_CODE, PageKind.NOT_FOUND}:
            raise layout_changed(f"the sign-in page or the bills (got an unrecognised {found.kind.value} page)",
                                 page)
        page = await session.get(sel.LOGIN_START_PATH)  # a half-finished sign-in starts again
    result = await _submit_credentials(session, page)
    await _landed(session, result, after="the password")


async def _submit_credentials(session: PortalSession, page: Response) -> Response:
    """Post the username and password (once) on the B2C or legacy sign-in; return the page after it."""
    sel = SELECTORS
    found = detect(page, sel)
    if found.kind is PageKind.CAPTCHA:
        raise _blocked()
    if found.kind is PageKind.LEGACY_LOGIN:
        form = _first_css(page, sel.LEGACY_FORM, "the legacy sign-in form")
        data = {_input_name(page, sel.LEGACY_USER, "the legacy username box"): _username(session),
                _input_name(page, sel.LEGACY_PASSWORD, "the legacy password box"): _password(session)}
        return await session.submit_form(page, css=form, data=data)
    if found.kind is not PageKind.SIGNIN_NAME:
        raise layout_changed(f"the sign-in page ({found.kind.value})", page)
    form = _first_css(page, sel.SIGNIN_FORM, "the sign-in form")
    name_field = _input_name(page, sel.SIGNIN_NAME, "the e-mail box of the sign-in")
    step2 = await session.submit_form(page, css=form, data={name_field: _username(session)})
    found = detect(step2, sel)
    if found.kind is PageKind.CAPTCHA:
        raise _blocked()  # before the password is posted: no failed attempt is counted
    if found.kind is not PageKind.SIGNIN_PASSWORD:
        if found.kind is PageKind.SIGNIN_NAME and found.error:
            _raise_signin_error(found, step2)
        raise layout_changed(f"the password step of the sign-in ({found.kind.value})", step2)
    form = _first_css(step2, sel.SIGNIN_FORM, "the password form")
    password_field = _input_name(step2, sel.SIGNIN_PASSWORD, "the password box")
    return await session.submit_form(step2, css=form, data={password_field: _password(session)})


async def _landed(session: PortalSession, page: Response, *, after: str) -> None:
    """React to the page a sign-in step ends on: logged in, 2FA, an interruption or an error."""
    found = detect(page, SELECTORS)
    if found.kind in _SIGNED_IN:
        if found.kind is PageKind.BILLS:
            _scratch(session)["bills_page"] = page
        return
    if found.kind is PageKind.INTERRUPTION:
        raise _action_required(session, found, page)
    if found.kind is PageKind.CAPTCHA:
        raise _blocked()
    if found.kind in (PageKind.MFA_SEND, PageKind.MFA_CODE):
        challenge = await _send_code(session, page)
        raise TwoFactorRequired(challenge)
    if found.kind in (PageKind.SIGNIN_NAME, PageKind.SIGNIN_PASSWORD, PageKind.LEGACY_LOGIN) and found.error:
        _raise_signin_error(found, page)
    raise layout_changed(f"the page after {after} ({found.kind.value})", page)


def _raise_signin_error(found: DetectedPage, page: Response) -> None:
    kind = found.error_kind
    if kind is ErrorKind.WRONG_PASSWORD:
        raise IncorrectCredentials("BT Business says the password is incorrect.")
    if kind is ErrorKind.UNKNOWN_LOGIN:
        raise IncorrectCredentials("BT Business found no account with this e-mail address and password.",
                                   hint=BUSINESS_HINT)
    if kind is ErrorKind.WRONG_CREDENTIALS:
        raise IncorrectCredentials("BT Business did not recognise the username or password.", hint=BUSINESS_HINT)
    if kind is ErrorKind.NOT_ROBOT:
        raise _blocked()
    if kind is ErrorKind.SESSION_EXPIRED:
        raise PortalUnavailable("BT's sign-in page expired during the sign-in; the next run tries again.")
    raise layout_changed(f"a sign-in error not understood: {found.error[:200]!r}", page)


def _blocked() -> Blocked:
    return Blocked("captcha", "BT showed a reCAPTCHA on its sign-in page, which cannot be solved automatically. "
                              "Log in once on the BT website from a browser, then fetch again.")


def _action_required(session: PortalSession, found: DetectedPage, page: Response) -> ActionRequired:
    assert found.interruption is not None
    return ActionRequired(found.interruption.message, where=_where(session, page))


# -- two-factor ---------------------------------------------------------------------------------------------


def _choose(choices: tuple[MfaChoice, ...], preferred: str) -> MfaChoice | None:
    """The phone (or the e-mail when ``preferred`` says so, or when it is the only way offered)."""
    if not choices:
        return None
    wanted = TwoFactorMedium.EMAIL if preferred == "email" else TwoFactorMedium.SMS
    return next((c for c in choices if c.medium is wanted), choices[0])


async def _send_code(session: PortalSession, page: Response) -> Challenge:
    """Press "send code" on the verification page (choosing phone or e-mail) and describe the challenge."""
    sel = SELECTORS
    choice = _choose(mfa_choices(page, sel), str(session.connection.fields.get("code_via") or "phone"))
    form = _first_css(page, sel.MFA_SEND_FORM, "the send-code form of the verification page")
    data = {}
    if choice is not None:
        data[_input_name(page, sel.MFA_METHOD, "the code delivery choice")] = choice.value
    sent = await session.submit_form(page, css=form, data=data)
    found = detect(sent, sel)
    if found.kind is PageKind.MFA_SEND and found.error:
        raise ActionRequired(f"BT could not send a verification code: {found.error}", where=_where(session, sent))
    if found.kind is not PageKind.MFA_CODE:
        raise layout_changed(f"the page after sending a verification code ({found.kind.value})", sent)
    _scratch(session)["mfa_page"] = sent
    medium = choice.medium if choice is not None else TwoFactorMedium.SMS
    to = mfa_sent_to(sent, sel) or ("your phone" if medium is TwoFactorMedium.SMS else "your backup e-mail")
    session.log.info("BT Business sent a verification code (%s)", medium.value)
    return Challenge(
        medium=medium, prompt=f"Enter the verification code BT Business sent to {to}.",
        expires_at=dt.datetime.now(dt.timezone.utc) + CODE_LIFETIME,
        state={"url": sent.url, "medium": medium.value},
    )


@hookimpl
async def handle_2fa(session: PortalSession, challenge: Challenge, code: str | None) -> None:
    """Enter the code on the verification page, ticking "remember this device"."""
    sel = SELECTORS
    page = _scratch(session).get("mfa_page")
    if page is None or detect(page, sel).kind is not PageKind.MFA_CODE:
        # Resuming without the page in hand: the portal shows it again while the sign-in is pending.
        page = await session.get(str(challenge.state.get("url") or ""))
        found = detect(page, sel)
        if found.kind in SIGNED_OUT:
            raise IncorrectCode("The sign-in waiting for this code has expired; fetch again for a new code.")
        if found.kind is PageKind.MFA_SEND:
            raise IncorrectCode("BT no longer expects this code; a new one was sent.",
                                challenge=await _send_code(session, page))
        if found.kind is not PageKind.MFA_CODE:
            raise layout_changed(f"the verification code page ({found.kind.value})", page)
    typed = "".join((code or "").split())
    data = {_input_name(page, sel.MFA_CODE_INPUT, "the verification code box"): typed}
    remember = select_first(page, sel.MFA_REMEMBER)
    if remember and remember.attrib.get("name"):
        data[remember.attrib["name"]] = remember.attrib.get("value") or "true"
    form = _first_css(page, sel.MFA_CODE_FORM, "the verification code form")
    result = await session.submit_form(page, css=form, data=data)
    found = detect(result, sel)
    if found.kind in (PageKind.MFA_CODE, PageKind.MFA_SEND):
        if found.error_kind is ErrorKind.WRONG_CODE:
            _scratch(session)["mfa_page"] = result
            raise IncorrectCode("BT did not accept the verification code.", challenge=challenge)
        if found.error_kind is ErrorKind.EXPIRED_CODE:
            raise IncorrectCode("The verification code had expired; BT sent a new one.",
                                challenge=await _send_code(session, result))
        raise layout_changed(f"the verification page after the code ({found.error[:200]!r})", result)
    await _landed(session, result, after="the verification code")


# -- consumer (home.bt.com) -------------------------------------------------------------------------------------


async def _consumer_login(session: PortalSession, *, check_saved: bool) -> None:
    sel = SELECTORS
    page = await session.get(sel.CONSUMER_ACCOUNT_PATH if check_saved else sel.CONSUMER_LOGIN_PATH)
    found = detect(page, sel)
    if found.kind is PageKind.CONSUMER_BILLS:
        _scratch(session)["consumer_page"] = page
        return
    if found.kind is PageKind.CAPTCHA:
        raise _blocked()
    if found.kind is not PageKind.CONSUMER_LOGIN:
        raise layout_changed(f"the My BT log in page ({found.kind.value})", page)
    form = _first_css(page, sel.CONSUMER_FORM, "the My BT log in form")
    data = {_input_name(page, sel.CONSUMER_USER, "the BT ID box"): _username(session),
            _input_name(page, sel.CONSUMER_PASSWORD, "the My BT password box"): _password(session)}
    result = await session.submit_form(page, css=form, data=data)
    found = detect(result, sel)
    if found.kind is PageKind.CONSUMER_BILLS:
        _scratch(session)["consumer_page"] = result
        return
    if found.kind is PageKind.CONSUMER_LOGIN and found.error_kind is ErrorKind.WRONG_CREDENTIALS:
        raise IncorrectCredentials("My BT did not recognise the BT ID or password.", hint=CONSUMER_HINT)
    if found.kind is PageKind.CAPTCHA:
        raise _blocked()
    if found.kind is PageKind.INTERRUPTION:
        raise _action_required(session, found, result)
    raise layout_changed(f"the page after logging in to My BT ({found.kind.value})", result)


# -- staying signed in ------------------------------------------------------------------------------------------


async def _signed_in(session: PortalSession, send: Callable[[], Awaitable[Response]]) -> Response:
    """``send()``'s answer, signing in again once if it is the sign-in page (an expired session).

    Concurrent callers share one new sign-in: whoever finds the session
    already renewed since their request went out simply sends again.
    """
    scratch = _scratch(session)
    generation = scratch["generation"]
    response = await send()
    found = detect(response, SELECTORS)
    if found.kind is PageKind.INTERRUPTION:
        raise _action_required(session, found, response)
    if found.kind not in SIGNED_OUT:
        return response
    lock = scratch.setdefault("auth_lock", asyncio.Lock())
    async with lock:
        if scratch["generation"] == generation:
            if scratch["relogins"] >= MAX_RELOGINS:
                raise PortalUnavailable("BT ended the session again soon after a new sign-in; the next run "
                                        "tries again.")
            scratch["relogins"] += 1
            session.log.info("BT session expired; signing in again")
            if _consumer(session):
                await _consumer_login(session, check_saved=False)
            else:
                await _business_login(session, check_saved=False)
            scratch["generation"] += 1
    response = await send()
    if detect(response, SELECTORS).kind in SIGNED_OUT:
        raise PortalUnavailable("BT answered its sign-in page again right after a new sign-in; the next run "
                                "tries again.")
    return response


def _get(session: PortalSession, url: str) -> Callable[[], Awaitable[Response]]:
    return lambda: session.get(url)


# -- listing ---------------------------------------------------------------------------------------------------------


def _ref(bill: BillRow, page: BillsPage | None) -> DocumentRef:
    extra: dict[str, Any] = {"account": bill.account_number, "invoice": bill.invoice_number}
    if page is not None and page.download_all is not None:
        extra["zip_url"] = page.download_all.url
        extra["zip_data"] = dict(page.download_all.data)
    return DocumentRef(
        stable_id=bill.stable_id, kind=DocumentKind.INVOICE, number=bill.invoice_number, date=bill.date,
        total=bill.total, currency=bill.currency, tax=bill.vat, supplier=SUPPLIER, url=bill.pdf_url,
        filename=f"BT_Bill_{bill.account_number}_{bill.invoice_number}.pdf", extra=extra,
    )


@hookimpl
async def list_documents(session: PortalSession, since: dt.date | None) -> AsyncIterator[DocumentRef]:
    """Every bill dated on or after ``since``, across billing accounts and pages (newest first)."""
    sel = SELECTORS
    scratch = _scratch(session)
    if _consumer(session):
        page = scratch.pop("consumer_page", None) or await _signed_in(session, _get(session, sel.CONSUMER_ACCOUNT_PATH))
        for bill in parse_consumer_bills(page, sel):
            if since is None or bill.date >= since:
                yield _ref(bill, None)
        return
    response = scratch.pop("bills_page", None) or await _signed_in(session, _get(session, sel.BILLS_PATH))
    first = parse_bills(response, sel)
    for account in first.accounts:
        if account == first.selected:
            page = first
        else:
            response = await _signed_in(session, _get(session, first.account_url(account)))
            page = parse_bills(response, sel)
        if page.selected != account:
            raise layout_changed(f"the bills of billing account {account} (the page shows {page.selected})",
                                 response)
        visited = {page.url}
        while True:
            for bill in page.bills:
                if since is None or bill.date >= since:
                    yield _ref(bill, page)
            older = since is not None and any(b.date < since for b in page.bills)
            if page.next_url is None or older:
                break
            if page.next_url in visited:
                raise layout_changed("the bills pagination leads back to a page already read", response)
            visited.add(page.next_url)
            response = await _signed_in(session, _get(session, page.next_url))
            page = parse_bills(response, sel)


# -- downloading ------------------------------------------------------------------------------------------------------


@hookimpl
async def download(session: PortalSession, document: DocumentRef) -> Downloaded:
    """The bill's PDF (its own link, or its member of the account's ZIP), checked to be a PDF."""
    if document.url:
        response = await _signed_in(session, _get(session, document.url))
        if not is_pdf(response.body):
            found = detect(response, SELECTORS)
            raise layout_changed(f"the PDF of bill {document.number} (got a {found.kind.value} page, "
                                 f"HTTP {response.status})", response)
        return Downloaded(body=response.body, filename=attachment_filename(response) or document.filename,
                          content_type="application/pdf")
    if document.extra.get("zip_url"):
        members = await _zip_members(session, document)
        invoice = str(document.extra.get("invoice") or document.number)
        name = next((n for n in members if invoice in n), None)
        if name is None:
            raise LayoutChanged(f"the bills ZIP of account {document.extra.get('account')} has no PDF for "
                                f"invoice {invoice} (files: {', '.join(list(members)[:5])})")
        return Downloaded(body=members[name], filename=name, content_type="application/pdf")
    raise LayoutChanged(f"bill {document.number} has neither a PDF link nor a download-all form")


async def _zip_members(session: PortalSession, document: DocumentRef) -> dict[str, bytes]:
    """The PDFs of the account's "download all" ZIP, fetched once per account and run."""
    scratch = _scratch(session)
    account = str(document.extra.get("account"))
    lock = scratch.setdefault("zip_locks", {}).setdefault(account, asyncio.Lock())
    cache = scratch.setdefault("zips", {})
    async with lock:
        if account not in cache:
            url, data = str(document.extra["zip_url"]), dict(document.extra.get("zip_data") or {})
            response = await _signed_in(session, lambda: session.post(url, data=data))
            if not is_zip(response.body):
                found = detect(response, SELECTORS)
                raise layout_changed(f"the bills ZIP of account {account} (got a {found.kind.value} page)", response)
            try:
                cache[account] = pdfs_in_zip(response.body)
            except BadArchive as exc:
                raise LayoutChanged(f"the bills ZIP of account {account}: {exc}") from None
        return cache[account]
