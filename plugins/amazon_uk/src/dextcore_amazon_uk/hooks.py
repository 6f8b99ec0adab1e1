"""The Amazon connector hooks, on the core's :class:`~dextcore.portal.session.PortalSession`.

Each step fetches through the session (cookies, retries, allowed domains),
names the page with :func:`~dextcore_amazon_uk.pages.detect` and reacts:
the login is an ordered chain of pages (e-mail, password, then whatever
Amazon puts in between), as amazon-orders does it. Every page the chain
does not know ends in :class:`~dextcore.outcomes.LayoutChanged` with that
page, never in a silent "no documents".

Choices:

* The printable order summary is listed only for orders without a PDF
  invoice (US orders), as a receipt.
* What a listing knows comes from the order card: the order date and total,
  and the sellers ("Sold by"). "Invoice N" is attributed to the N-th seller
  only when the card shows as many sellers as there are invoices; the
  order total is an invoice's total only for a one-seller, one-invoice
  order; a credit note gets neither date nor total (the card shows only
  the order's). The invoice number is only in the PDF (and its file name).
* The e-mail step is posted without following a redirect off the site: a
  business account sent to its company's identity provider is reported as
  SSO without that provider ever being contacted.
* An e-mail address the site does not know is looked up (e-mail step only,
  never the password) on the other Amazon sites, so the hint can name the
  site the account belongs to.
* A remembered device is always requested ("Don't require OTP on this
  browser").
* Push approvals are polled every ``AMAZON_PUSH_POLL_INTERVAL`` seconds (a
  crawl setting, default :data:`PUSH_POLL_INTERVAL`) for at most
  :data:`PUSH_TIMEOUT`, as peers do.
* A session that ends during a run is signed in again once, shared by every
  concurrent download (``session.state`` holds the sign-in count and lock).
"""

from __future__ import annotations

import attrs

import asyncio
import datetime as dt
import re
import time
from typing import TYPE_CHECKING, Any, AsyncIterator, Mapping
from urllib.parse import urlencode, urlsplit

from scrapy import Request

from dextcore.hookspecs import hookimpl
from dextcore.outcomes import (
    ActionRequired,
    Blocked,
    ConnectorOutcome,
    ForeignHostBlocked,
    IncorrectCode,
    IncorrectCredentials,
    PortalUnavailable,
    SsoNotSupported,
    TwoFactorRequired,
)
from dextcore.records import Challenge, DocumentKind, DocumentRef, Downloaded, TwoFactorMedium

from dextcore_amazon_uk.pages import (
    DetectedPage, InvoiceLink, LinkKind, OrderCard, PageKind, SignInError, detect, is_pdf, layout_changed,
    parse_invoice_popover, parse_order_history,
)
from dextcore_amazon_uk.selectors import AmazonSelectors

if TYPE_CHECKING:
    from scrapy.http import Response

    from dextcore.portal.session import PortalSession

__all__ = ["authenticate", "download", "handle_2fa", "list_documents"]

SELECTORS = AmazonSelectors
ORDERS_PATH = "/your-orders/orders"
CODE_LIFETIME = dt.timedelta(minutes=10)
PUSH_POLL_INTERVAL = 5.0
"""Seconds between push-approval polls, unless the crawl setting ``AMAZON_PUSH_POLL_INTERVAL`` says otherwise."""
PUSH_TIMEOUT = dt.timedelta(minutes=10)
_OPENID = "http://specs.openid.net/auth/2.0"
_SIGNED_IN = (PageKind.ORDER_HISTORY, PageKind.LOGGED_IN)
_SIGNIN_PAGES = (PageKind.SIGNIN_EMAIL, PageKind.SIGNIN_PASSWORD, PageKind.PASSKEY)
_MAX_STEPS = 6
_REDIRECTS = (301, 302, 303, 307, 308)
_SIGNINS = "amazon_signins"
_SIGNIN_LOCK = "amazon_signin_lock"


def _signin_url(session: PortalSession, base: str | None = None, handle: str | None = None) -> str:
    """``/ap/signin`` with Amazon's OpenID parameters, on ``base`` (default: this connection's site)."""
    handle = handle or session.connection.variant.options.get("assoc_handle", "gbflex")
    root = (base or session.base_url).rstrip("/")
    params = {"openid.pape.max_auth_age": "0", "openid.return_to": f"{root}{ORDERS_PATH}",
              "openid.identity": f"{_OPENID}/identifier_select", "openid.assoc_handle": handle,
              "openid.mode": "checkid_setup", "openid.claimed_id": f"{_OPENID}/identifier_select",
              "openid.ns": _OPENID}
    return f"{root}/ap/signin?" + urlencode(params)


def _site(session: PortalSession) -> str:
    return session.connection.variant.base_url.removeprefix("https://").removeprefix("www.")


def _hidden_fields(response: Response, form_css: str) -> dict[str, str]:
    form = response.css(form_css)
    return {i.attrib["name"]: i.attrib.get("value", "")
            for i in form.css("input[type=hidden][name]")}


def _form_action(response: Response, form_css: str) -> str:
    action = response.css(form_css).attrib.get("action") or response.url
    return response.urljoin(action)


# -- sign-in --------------------------------------------------------------------------------


@hookimpl
async def authenticate(session: PortalSession) -> None:
    """Return at once when the saved session still opens the order history; else sign in."""
    response = await session.get(session.url(ORDERS_PATH))
    page = detect(response, selectors=SELECTORS)
    if page.kind in _SIGNED_IN and page.signed_in:
        session.log.info("saved Amazon session still signed in")
        return None
    if page.kind not in _SIGNIN_PAGES:
        response = await session.get(_signin_url(session))
        page = detect(response, selectors=SELECTORS)
    await _sign_in(session, response, page)
    return None


async def _submit_email(session: PortalSession, response: Response, email: str) -> Response:
    """Post the e-mail step, following redirects only while they stay on the site.

    A business account is redirected to its company's identity provider
    here; that redirect is returned unfollowed (:func:`detect` names it), so
    the provider is never contacted — not even with the e-mail address.
    """
    form = SELECTORS.SIGNIN_FORM[0]
    data = {**_hidden_fields(response, form), "email": email}
    meta = {"dont_redirect": True, "handle_httpstatus_list": list(_REDIRECTS)}
    answer = await session.fetch(Request(
        _form_action(response, form), method="POST", body=urlencode(data),
        headers={"Content-Type": "application/x-www-form-urlencoded"}, meta=meta, dont_filter=True))
    for _ in range(_MAX_STEPS):
        location = answer.headers.get(b"Location") if answer.status in _REDIRECTS else None
        if not location:
            return answer
        target = answer.urljoin(location.decode("latin-1"))
        if urlsplit(target).netloc != urlsplit(answer.url).netloc:
            return answer
        answer = await session.get(target, meta=meta)
    return answer


async def _sign_in(session: PortalSession, response: Response, page: DetectedPage) -> None:
    form = SELECTORS.SIGNIN_FORM[0]
    if page.kind is PageKind.SIGNIN_EMAIL:
        try:
            response = await _submit_email(session, response, session.connection.username or "")
        except ForeignHostBlocked as exc:  # a site that sends the browser off by other means
            raise SsoNotSupported(_provider(exc.host)) from exc
        page = detect(response, selectors=SELECTORS)
        if page.kind is PageKind.PASSKEY:
            response = await session.get(page.password_link)
            page = detect(response, selectors=SELECTORS)
    if page.kind is PageKind.SIGNIN_PASSWORD and page.error_kind is None:
        password = session.secret("password") or ""
        response = await session.submit_form(response, css=form, data={"password": password, "rememberMe": "true"})
        page = detect(response, selectors=SELECTORS)
    await _continue(session, response, page)


async def _unknown_email_hint(session: PortalSession) -> str:
    """Name the Amazon site that knows the e-mail address, if another one does (e-mail step only)."""
    other = await _site_knowing(session)
    if other is None:
        return "Accounts belong to one Amazon site: check the e-mail address and the site (region) chosen."
    return (f"The address has an account on {other.base_url.removeprefix('https://www.')}: change the "
            f"connection's site to {other.label}.")


async def _site_knowing(session: PortalSession) -> Any:
    """The first other variant (personal first) whose site accepts the e-mail step, or ``None``."""
    current = session.connection.variant
    host = current.base_url.removeprefix("https://")
    if host not in session.base_url:
        return None
    business = bool(current.options.get("business"))
    seen = {host}
    variants = sorted(session.connection.connector.variants,
                      key=lambda v: bool(v.options.get("business")) != business)
    for variant in variants:
        other = variant.base_url.removeprefix("https://")
        if other in seen:
            continue
        seen.add(other)
        base = session.base_url.replace(host, other, 1)
        try:
            response = await session.get(_signin_url(session, base, variant.options.get("assoc_handle")))
            if detect(response, selectors=SELECTORS).kind is not PageKind.SIGNIN_EMAIL:
                continue
            response = await _submit_email(session, response, session.connection.username or "")
        except ConnectorOutcome:  # a probe must not hide the real outcome
            continue
        page = detect(response, selectors=SELECTORS)
        if page.kind in (PageKind.SIGNIN_PASSWORD, PageKind.PASSKEY) and page.error_kind is None:
            return variant
    return None


def _provider(host: str) -> str:
    low = host.lower()
    return next((name for marker, name in SELECTORS.SSO_PROVIDERS if marker in low), host)


async def _continue(session: PortalSession, response: Response, page: DetectedPage) -> None:
    """Walk the pages Amazon shows after the password until signed in, or raise the outcome."""
    for _ in range(_MAX_STEPS):
        kind = page.kind
        if kind in _SIGNED_IN:
            return
        if page.error_kind is SignInError.WRONG_PASSWORD:
            raise IncorrectCredentials("Amazon says the password is incorrect.",
                                       hint=f"Check the password you use on {_site(session)}.")
        if page.error_kind is SignInError.UNKNOWN_EMAIL or kind is PageKind.INTENT:
            raise IncorrectCredentials(f"Amazon finds no account with this e-mail address on {_site(session)}.",
                                       hint=await _unknown_email_hint(session))
        if kind is PageKind.SSO_REDIRECT:
            raise SsoNotSupported(page.sso_provider)
        if kind is PageKind.JS_WALL:
            raise Blocked("JavaScript bot challenge")
        if page.is_captcha:
            raise Blocked("captcha")
        if page.error_kind is SignInError.TOO_MANY_CODES:
            raise PortalUnavailable("Amazon refuses to send more codes today.", retry_after=dt.timedelta(hours=24))
        if kind is PageKind.OTP_DEVICE_CHOICE:
            response = await _choose_device(session, response, page)
        elif kind is PageKind.OTP_ENTRY:
            response = await _answer_with_authenticator(session, response, page)
        elif kind is PageKind.PUSH_APPROVAL:
            raise TwoFactorRequired(_push_challenge(response, page))
        elif kind is PageKind.ACCOUNT_SWITCHER:
            response = await _switch_account(session, response)
        elif kind is PageKind.INTERNAL_ERROR:
            raise PortalUnavailable("Amazon answered 'Internal Error. Please try again later.'")
        else:
            raise layout_changed(f"unexpected page while signing in ({kind.value})", response)
        page = detect(response, selectors=SELECTORS)
    raise layout_changed("sign-in did not finish", response)


async def _choose_device(session: PortalSession, response: Response, page: DetectedPage) -> Response:
    """Pick the authenticator app when a key is stored, else the first text-message device."""
    devices = page.otp_devices
    if not devices:
        raise layout_changed("two-step verification device choice without devices", response)
    app = next((d for d in devices if d.medium is TwoFactorMedium.APP), None)
    sms = next((d for d in devices if d.value.upper().endswith("SMS")), None)
    chosen = app if app is not None and session.secret("totp_secret") else sms or devices[0]
    return await session.submit_form(response, css=SELECTORS.OTP_DEVICE_FORM[0],
                                     data={"otpDeviceContext": chosen.value}, click=SELECTORS.OTP_SEND_CODE[0])


async def _answer_with_authenticator(session: PortalSession, response: Response, page: DetectedPage) -> Response:
    """Answer an authenticator-app prompt from the stored key; otherwise ask a person."""
    code = session.totp() if page.otp_medium is TwoFactorMedium.APP else None
    if code is None or page.error_kind is SignInError.WRONG_CODE:
        if page.error_kind is SignInError.WRONG_CODE and code is not None:
            raise IncorrectCredentials("Amazon rejected the code generated from the stored authenticator key.",
                                       hint="Check the authenticator key (and this computer's clock).")
        raise TwoFactorRequired(_otp_challenge(response, page))
    return await _post_code(session, _otp_state(response), code)


def _otp_state(response: Response) -> dict[str, Any]:
    form = SELECTORS.OTP_FORM[0]
    return {"action": _form_action(response, form), "fields": _hidden_fields(response, form)}


def _otp_challenge(response: Response, page: DetectedPage) -> Challenge:
    medium = page.otp_medium or TwoFactorMedium.SMS
    expires = None if medium is TwoFactorMedium.APP else dt.datetime.now(dt.timezone.utc) + CODE_LIFETIME
    prompt = page.otp_prompt or "Enter the One Time Password (OTP) Amazon sent you."
    return Challenge(medium=medium, prompt=prompt, expires_at=expires, state=_otp_state(response))


def _push_challenge(response: Response, page: DetectedPage) -> Challenge:
    form = SELECTORS.PUSH_POLL_FORM[0]
    poll = _form_action(response, form) + "?" + urlencode(_hidden_fields(response, form))
    prompt = page.otp_prompt or "Approve the sign-in in the Amazon app."
    return Challenge(medium=TwoFactorMedium.PUSH, prompt=prompt,
                     expires_at=dt.datetime.now(dt.timezone.utc) + PUSH_TIMEOUT, state={"poll": poll})


async def _post_code(session: PortalSession, state: Mapping[str, Any], code: str) -> Response:
    data = dict(state["fields"])
    data["otpCode"] = code.replace(" ", "")
    data["rememberDevice"] = ""  # ticked: "Don't require OTP on this browser"
    return await session.post(state["action"], data=data)


async def _switch_account(session: PortalSession, response: Response) -> Response:
    links = [(a.attrib.get("href", ""), " ".join(a.css("::text").getall()).strip())
             for a in response.css(SELECTORS.ACCOUNT_SWITCHER_LINK[0])]
    if not links:
        raise layout_changed("account switcher without accounts", response)
    wanted = str(session.connection.fields.get("profile") or "").strip().lower()
    if wanted:
        matching = [link for link in links if wanted in link[1].lower()]
        if not matching:
            raise ActionRequired(f"None of the Amazon accounts of this login matches '{wanted}'",
                                 where=", ".join(label for _, label in links))
        links = matching
    return await session.get(response.urljoin(links[0][0]))


@hookimpl
async def handle_2fa(session: PortalSession, challenge: Challenge, code: str | None) -> None:
    """Send the code (or poll the push approval) and finish signing in."""
    if challenge.medium is TwoFactorMedium.PUSH:
        await _wait_for_approval(session, challenge)
        response = await session.get(session.url(ORDERS_PATH))
        await _continue(session, response, detect(response, selectors=SELECTORS))
        return None
    if not code:
        raise IncorrectCode("No code was given.", challenge=challenge)
    response = await _post_code(session, challenge.state, code)
    page = detect(response, selectors=SELECTORS)
    if page.kind is PageKind.OTP_ENTRY and page.error_kind is SignInError.WRONG_CODE:
        raise IncorrectCode("Amazon did not accept the code.", challenge=_otp_challenge(response, page))
    await _continue(session, response, page)
    return None


def _push_poll_interval(session: PortalSession) -> float:
    settings = getattr(getattr(session, "crawler", None), "settings", None)
    if settings is None:
        return PUSH_POLL_INTERVAL
    return settings.getfloat("AMAZON_PUSH_POLL_INTERVAL", PUSH_POLL_INTERVAL)


async def _wait_for_approval(session: PortalSession, challenge: Challenge) -> None:
    deadline = time.monotonic() + PUSH_TIMEOUT.total_seconds()
    interval = _push_poll_interval(session)
    while True:
        response = await session.get(challenge.state["poll"])
        page = detect(response, selectors=SELECTORS)
        if page.kind is not PageKind.PUSH_STATUS:
            raise layout_changed("push approval poll", response)
        if page.push_status == "TransactionCompleted":
            return
        if page.push_status == "TransactionResponded":
            raise IncorrectCode("The sign-in was declined in the Amazon app.")
        if page.push_status == "TransactionCompletionTimeout" or time.monotonic() >= deadline:
            raise IncorrectCode("The sign-in was not approved in the Amazon app in time.")
        await asyncio.sleep(interval)


# -- documents ----------------------------------------------------------------------------------


async def _sign_in_again(session: PortalSession, seen: int) -> None:
    """Sign in again after the session ended, once for every task that saw it end (``seen``:
    the sign-in count when that task sent its request)."""
    lock = session.state.setdefault(_SIGNIN_LOCK, asyncio.Lock())
    async with lock:
        if session.state.get(_SIGNINS, 0) != seen:
            return  # another task signed in meanwhile
        session.log.info("the Amazon session ended during the run: signing in again")
        await authenticate(session)
        session.state[_SIGNINS] = seen + 1


async def _get_signed_in(session: PortalSession, url: str) -> Response:
    """GET a page that needs the login; if the session ended, sign in again (once) and retry."""
    seen = session.state.get(_SIGNINS, 0)
    response = await session.get(url)
    if detect(response, selectors=SELECTORS).kind in _SIGNIN_PAGES:
        await _sign_in_again(session, seen)
        response = await session.get(url)
        if detect(response, selectors=SELECTORS).kind in _SIGNIN_PAGES:
            raise PortalUnavailable("Amazon ended the session again right after signing in.")
    return response


async def _history(session: PortalSession, url: str) -> tuple[Response, Any]:
    response = await _get_signed_in(session, url)
    page = detect(response, selectors=SELECTORS)
    if page.kind is not PageKind.ORDER_HISTORY:
        raise layout_changed(f"order history expected, got {page.kind.value}", response)
    history = parse_order_history(response, selectors=SELECTORS)
    if history.problem:
        raise layout_changed(history.problem, response)
    return response, history


@hookimpl
async def list_documents(session: PortalSession, since: dt.date | None) -> AsyncIterator[DocumentRef]:
    """Every invoice and credit note of orders placed on or after ``since``, year by year, newest first."""
    response, first = await _history(session, session.url(ORDERS_PATH))
    if not first.years:
        raise layout_changed("no years in the order history's period menu", response)
    years = [y for y in first.years if since is None or y >= since.year]
    for year in years:
        url: str | None = session.url(f"{ORDERS_PATH}?{urlencode({'timeFilter': f'year-{year}', 'startIndex': 0})}")
        while url:
            _, history = await _history(session, url)
            for card in history.orders:
                if since is not None and card.placed is not None and card.placed < since:
                    url = None
                    break
                async for ref in _documents_of(session, card):
                    yield ref
            else:
                url = history.next_url


def _number_in(label: str) -> int:
    match = re.search(r"\d+", label)
    return int(match.group(0)) if match else 1


async def _documents_of(session: PortalSession, card: OrderCard) -> AsyncIterator[DocumentRef]:
    links: tuple[InvoiceLink, ...] = ()
    if card.popover_url:
        response = await _get_signed_in(session, card.popover_url)
        parsed = parse_invoice_popover(response, selectors=SELECTORS)
        if parsed is None:
            raise layout_changed("invoice popover", response)
        links = parsed
    elif card.summary_url:
        links = (InvoiceLink(url=card.summary_url, label="Order summary", kind=LinkKind.SUMMARY),)
    pdfs = [link for link in links if link.is_pdf]
    chosen = pdfs or [link for link in links if link.kind is LinkKind.SUMMARY][:1]
    invoices = [link for link in pdfs if link.kind is LinkKind.INVOICE]
    sellers = card.sellers
    one_seller = sellers[0] if len(sellers) == 1 else None
    for link in chosen:
        n = 1 if link.kind is LinkKind.SUMMARY else _number_in(link.label)
        date: dt.date | None = card.placed
        total = None
        if link.kind is LinkKind.SUMMARY:  # the whole order
            kind, supplier, total = DocumentKind.RECEIPT, one_seller, card.total
        elif link.kind is LinkKind.INVOICE:
            kind = DocumentKind.INVOICE
            # "Invoice N" is the N-th seller's only when every seller has one (none missing).
            supplier = sellers[n - 1] if len(invoices) == len(sellers) and 1 <= n <= len(sellers) else None
            if len(invoices) == 1 and one_seller is not None:
                total = card.total
        else:  # a credit note: its date and amount are only in the PDF
            kind, supplier, date = DocumentKind.CREDIT_NOTE, one_seller, None
        yield DocumentRef(
            stable_id=f"{card.order_id}:{link.kind.value}-{n}",
            kind=kind,
            date=date,
            total=total,
            currency=card.currency,
            supplier=supplier,
            url=link.url,
            filename=f"amazon-{card.order_id}-{link.kind.value.replace('_', '-')}-{n}.pdf",
            extra={"order_id": card.order_id, "link_kind": link.kind.value, "n": n,
                   "popover_url": card.popover_url or ""},
        )


async def _fresh_link(session: PortalSession, document: DocumentRef) -> str:
    """Download links change on every visit: open the order's popover again for this document's link."""
    popover = document.extra.get("popover_url")
    if not popover:
        return document.url or ""
    response = await _get_signed_in(session, popover)
    links = parse_invoice_popover(response, selectors=SELECTORS)
    if links is None:
        raise layout_changed("invoice popover", response)
    for link in links:
        if link.kind.value == document.extra.get("link_kind") and _number_in(link.label) == document.extra.get("n"):
            return link.url
    raise layout_changed(f"the popover no longer lists {document.stable_id}", response)


def _filename(response: Response, fallback: str | None) -> str | None:
    disposition = (response.headers.get(b"Content-Disposition") or b"").decode("latin-1")
    match = re.search(r'filename="?([^";]+)"?', disposition)
    return match.group(1) if match else fallback


@hookimpl
async def download(session: PortalSession, document: DocumentRef) -> Downloaded:
    """The document's PDF; printable summaries are printed to PDF. Signs in again once if the session ended."""
    if document.extra.get("link_kind") == LinkKind.SUMMARY.value:
        response = await _get_signed_in(session, document.url or "")
        if detect(response, selectors=SELECTORS).kind is not PageKind.ORDER_SUMMARY:
            raise layout_changed("printable order summary", response)
        return Downloaded(body=await session.print_pdf(response), filename=document.filename,
                          content_type="application/pdf")
    response = await session.get(document.url or await _fresh_link(session, document))
    if not is_pdf(response):
        # The sign-in page instead of the PDF: the session ended, or the link belongs to a
        # session that another download already replaced. A fresh link from the popover
        # (signing in again first if need be) tells which.
        if detect(response, selectors=SELECTORS).kind not in _SIGNIN_PAGES:
            raise layout_changed("an invoice link answered no PDF", response)
        response = await session.get(await _fresh_link(session, document))
        if not is_pdf(response):
            if detect(response, selectors=SELECTORS).kind in _SIGNIN_PAGES:
                raise PortalUnavailable("Amazon ended the session again right after signing in.")
            raise layout_changed("an invoice link answered no PDF after signing in again", response)
    filename = _filename(response, document.filename)
    return Downloaded(body=response.body, filename=filename, content_type="application/pdf",
                      document=_with_number_from(filename, document))


def _with_number_from(filename: str | None, document: DocumentRef) -> DocumentRef | None:
    """The popover only says "Invoice 1"; the invoice number is the PDF's file name."""
    if document.number or not filename or not filename.lower().endswith(".pdf"):
        return None
    number = filename[: -len(".pdf")].strip()
    return attrs.evolve(document, number=number) if number else None
