"""What a BT page is, and what it says: pure functions of a Scrapy response.

:func:`detect` names the page (sign-in steps one and two, the legacy form,
captcha, the two-factor pages, account-state interruptions, the logged-in
site, the bills list, the consumer portal's pages, PDFs and ZIPs) and reads
its *visible* page-level error; :func:`parse_bills` and
:func:`parse_consumer_bills` read the bill lists into attrs records.
Nothing here fetches: the hooks decide what to do, and raise
:class:`~dextcore.outcomes.LayoutChanged` (built with :func:`layout_changed`)
for a page these functions do not understand — never a silent "no bills".

All selectors and texts come from :class:`~dextcore_bt_business.selectors.BTSelectors`
(pass a subclass as ``selectors=`` to follow a site change).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Mapping
from urllib.parse import urlencode, urlsplit

import attrs

from dextcore.outcomes import LayoutChanged
from dextcore.parsing import clean_text as _text
from dextcore.parsing import is_pdf
from dextcore.records import TwoFactorMedium

from dextcore.parsing import select_first
from dextcore_bt_business.selectors import BTSelectors

if TYPE_CHECKING:
    from parsel import Selector
    from scrapy.http import Response

__all__ = [
    "BillRow", "BillsPage", "DetectedPage", "DownloadAll", "ErrorKind", "Interruption", "MfaChoice", "PageKind",
    "SIGNED_OUT", "attachment_filename", "classify_error", "detect", "is_pdf", "is_visible", "is_zip",
    "layout_changed", "mfa_choices", "mfa_sent_to", "parse_bills", "parse_consumer_bills", "parse_date",
    "parse_money", "visible_error",
]

Selectors = type[BTSelectors]


class PageKind(str, enum.Enum):
    """The pages :func:`detect` tells apart."""

    SIGNIN_NAME = "signin_name"
    """B2C step one: ``input#signInName`` (perhaps with a visible error)."""
    SIGNIN_PASSWORD = "signin_password"
    """B2C step two: ``input[name=Password]`` (perhaps with a visible error)."""
    LEGACY_LOGIN = "legacy_login"
    """The classic ``form[name=Login]`` with ``#USER`` and ``#PASSWORD``."""
    CAPTCHA = "captcha"
    """A reCAPTCHA on a sign-in page."""
    MFA_SEND = "mfa_send"
    """"Verify your identity": choose phone or e-mail, send a code."""
    MFA_CODE = "mfa_code"
    """The code was sent: ``input#verificationCode``."""
    INTERRUPTION = "interruption"
    """An account-state page a person must complete (see :attr:`DetectedPage.interruption`)."""
    BILLS = "bills"
    """Previous bills of a billing account (logged in)."""
    LOGGED_IN = "logged_in"
    """Another page of the logged-in business site."""
    CONSUMER_LOGIN = "consumer_login"
    """home.bt.com log in (``USER``/``PASSWORD``, error ``div.loginerror``)."""
    CONSUMER_BILLS = "consumer_bills"
    """My BT with its bills table (logged in on the consumer site)."""
    PUBLIC_HOME = "public_home"
    """The public business home page (logged out)."""
    NOT_FOUND = "not_found"
    PDF = "pdf"
    ZIP = "zip"
    UNKNOWN = "unknown"


SIGNED_OUT = frozenset({PageKind.SIGNIN_NAME, PageKind.SIGNIN_PASSWORD, PageKind.LEGACY_LOGIN,
                        PageKind.CONSUMER_LOGIN, PageKind.PUBLIC_HOME})
"""Pages meaning "no valid session": what an expired session answers, even for a PDF link."""


class ErrorKind(str, enum.Enum):
    """What a visible sign-in or verification error complains about."""

    WRONG_PASSWORD = "wrong_password"
    """The account exists; the password is wrong."""
    UNKNOWN_LOGIN = "unknown_login"
    """No business account with these credentials (typically a consumer BT ID)."""
    WRONG_CREDENTIALS = "wrong_credentials"
    """Username or password (the legacy and consumer forms do not say which)."""
    NOT_ROBOT = "not_robot"
    WRONG_CODE = "wrong_code"
    EXPIRED_CODE = "expired_code"
    """The code expired or was voided: a new one must be sent."""
    SESSION_EXPIRED = "session_expired"
    MISSING_EMAIL = "missing_email"
    OTHER = "other"


@attrs.frozen
class Interruption:
    """An account-state page BT puts between sign-in and My Account."""

    what: str
    """``change_password``, ``security_questions``, ``verify_email``, ``update_contact``,
    ``security_number`` or ``compromised``."""

    @property
    def message(self) -> str:
        """What the person must do, for the connection's status."""
        return _INTERRUPTION_MESSAGES.get(self.what, "BT asks you to complete a step on its website first.")


_INTERRUPTION_MESSAGES = {
    "change_password": "BT asks for a new password: log in on the BT Business website, choose a new password, "
                       "then update the password of this connection.",
    "security_questions": "BT asks you to set up security questions: log in on the BT website and complete them.",
    "verify_email": "BT asks you to verify your e-mail address: follow the link in BT's e-mail, then fetch again.",
    "update_contact": "BT asks you to confirm your contact details: log in on the BT website and confirm them.",
    "security_number": "BT asks you to set your security number: log in on the BT website and set it.",
    "compromised": "BT says the account may have been compromised: log in on the BT website and secure it.",
}


@attrs.frozen
class DetectedPage:
    """What :func:`detect` found. Fields not relevant to ``kind`` are empty."""

    kind: PageKind
    error: str = ""
    """Text of the visible page-level error, if any."""
    error_kind: ErrorKind | None = None
    interruption: Interruption | None = None


@attrs.frozen
class MfaChoice:
    """One way to receive a verification code (``mfaMethod`` radio)."""

    value: str
    medium: TwoFactorMedium
    label: str


@attrs.frozen
class BillRow:
    """One bill as the list shows it."""

    account_number: str
    invoice_number: str
    date: dt.date
    total: Decimal | None
    vat: Decimal | None
    currency: str
    pdf_url: str | None
    """Absolute URL of the per-bill PDF (``None`` when the row has no link)."""

    @property
    def stable_id(self) -> str:
        """Billing account and invoice number: BT's own keys, never a URL."""
        return f"{self.account_number}:{self.invoice_number}"


@attrs.frozen
class DownloadAll:
    """The "download all bills" form: POST ``data`` to ``url`` for a ZIP of the account's PDFs."""

    url: str
    data: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class BillsPage:
    """One page of an account's previous bills."""

    url: str
    accounts: tuple[str, ...]
    """Every billing account of the login (the dropdown's options, or the single account)."""
    selected: str
    bills: tuple[BillRow, ...]
    next_url: str | None
    account_form_url: str | None = None
    account_param: str = "accountNumber"
    download_all: DownloadAll | None = None

    def account_url(self, account: str) -> str:
        """The address of ``account``'s bills, as the account dropdown's GET form builds it."""
        base = (self.account_form_url or self.url).split("?", 1)[0]
        return f"{base}?{urlencode({self.account_param: account})}"


# -- detection ---------------------------------------------------------------------------------



def _is_html(response: Response) -> bool:
    return hasattr(response, "css") and hasattr(response, "text")



def is_zip(body: bytes) -> bool:
    return body[:4] == b"PK\x03\x04"


_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def is_visible(node: Selector) -> bool:
    """Whether ``node`` would show: neither it nor an ancestor is hidden
    (``hidden``, ``aria-hidden="true"``, ``display:none``, ``visibility:hidden``, class ``hidden``)."""
    for element in node.xpath("ancestor-or-self::*"):
        attrib = element.attrib
        if "hidden" in attrib or attrib.get("aria-hidden", "").lower() == "true":
            return False
        if _HIDDEN_STYLE.search(attrib.get("style", "")):
            return False
        if "hidden" in attrib.get("class", "").split():
            return False
    return True


def visible_error(response: Response, selectors: Selectors = BTSelectors) -> str:
    """The text of the first visible, non-empty error block (page-level, legacy or consumer); ``""`` if none."""
    if not _is_html(response):
        return ""
    for group in (selectors.PAGE_ERROR, selectors.LEGACY_ERROR, selectors.CONSUMER_ERROR, selectors.FORM_ERROR):
        for css in group:
            for node in response.css(css):
                text = _text(node)
                if text and is_visible(node):
                    return text
    return ""


def classify_error(text: str, selectors: Selectors = BTSelectors) -> ErrorKind | None:
    """What an error text complains about (``None`` for no text)."""
    if not text:
        return None
    low = text.lower().replace("\u2019", "'")
    for texts, kind in (
        (selectors.NOT_ROBOT_TEXTS, ErrorKind.NOT_ROBOT),
        (selectors.WRONG_CODE_TEXTS, ErrorKind.WRONG_CODE),
        (selectors.EXPIRED_CODE_TEXTS, ErrorKind.EXPIRED_CODE),
        # "username or password ... incorrect" names both halves: checked before the password-only texts.
        (selectors.LEGACY_WRONG_TEXTS, ErrorKind.WRONG_CREDENTIALS),
        (selectors.CONSUMER_WRONG_TEXTS, ErrorKind.WRONG_CREDENTIALS),
        (selectors.WRONG_PASSWORD_TEXTS, ErrorKind.WRONG_PASSWORD),
        (selectors.UNKNOWN_LOGIN_TEXTS, ErrorKind.UNKNOWN_LOGIN),
        (selectors.SESSION_EXPIRED_TEXTS, ErrorKind.SESSION_EXPIRED),
        (selectors.MISSING_EMAIL_TEXTS, ErrorKind.MISSING_EMAIL),
    ):
        if any(t in low for t in texts):
            return kind
    return ErrorKind.OTHER


def _interruption(response: Response, selectors: Selectors) -> Interruption | None:
    path = urlsplit(response.url).path.lower()
    for fragment, what in selectors.INTERRUPTION_PATHS:
        if path.endswith(fragment) or fragment + "/" in path:
            return Interruption(what)
    for css, what in selectors.INTERRUPTION_FORMS:
        if response.css(css):
            return Interruption(what)
    headline = " ".join(_text(n) for n in response.css("h1, h2, p.intro, [role=alert]")).lower()
    for fragment, what in selectors.INTERRUPTION_TEXTS:
        if fragment in headline:
            return Interruption(what)
    return None


def _has(response: Response, candidates: tuple[str, ...]) -> bool:
    return bool(select_first(response, candidates))


def detect(response: Response, selectors: Selectors = BTSelectors) -> DetectedPage:
    """Name the page ``response`` shows (``UNKNOWN`` when nothing known matches)."""
    body = response.body
    if is_pdf(body):
        return DetectedPage(PageKind.PDF)
    if is_zip(body):
        return DetectedPage(PageKind.ZIP)
    if not _is_html(response):
        return DetectedPage(PageKind.UNKNOWN)
    error = visible_error(response, selectors)
    found = classify_error(error, selectors)

    def page(kind: PageKind, **extra: object) -> DetectedPage:
        return DetectedPage(kind, error=error, error_kind=found, **extra)  # type: ignore[arg-type]

    interruption = _interruption(response, selectors)
    if interruption is not None:
        return page(PageKind.INTERRUPTION, interruption=interruption)
    if _has(response, selectors.CAPTCHA):
        return page(PageKind.CAPTCHA)
    if _has(response, selectors.MFA_CODE_INPUT):
        return page(PageKind.MFA_CODE)
    if _has(response, selectors.MFA_SEND_BUTTON):
        return page(PageKind.MFA_SEND)
    if _has(response, selectors.SIGNIN_PASSWORD):
        return page(PageKind.SIGNIN_PASSWORD)
    if _has(response, selectors.SIGNIN_NAME):
        return page(PageKind.SIGNIN_NAME)
    if _has(response, selectors.LEGACY_FORM) and _has(response, selectors.LEGACY_PASSWORD):
        return page(PageKind.LEGACY_LOGIN)
    if _has(response, selectors.CONSUMER_FORM) and _has(response, selectors.CONSUMER_PASSWORD):
        return page(PageKind.CONSUMER_LOGIN)
    if _has(response, selectors.CONSUMER_BILLS_TABLE):
        return page(PageKind.CONSUMER_BILLS)
    logged_in = _has(response, selectors.LOGGED_IN)
    if logged_in and (_has(response, selectors.BILLS_TABLE) or _has(response, selectors.NO_BILLS)):
        return page(PageKind.BILLS)
    if logged_in:
        return page(PageKind.LOGGED_IN)
    title = _text(response.css("title, h1")).lower()
    if any(t in title for t in selectors.NOT_FOUND_TEXTS):
        return page(PageKind.NOT_FOUND)
    if _has(response, selectors.PUBLIC_LOGIN_LINK):
        return page(PageKind.PUBLIC_HOME)
    return page(PageKind.UNKNOWN)


def layout_changed(what: str, response: Response) -> LayoutChanged:
    """The outcome for a page not understood, carrying the page to save for the maintainer."""
    return LayoutChanged(what, page=response)


# -- two-factor -------------------------------------------------------------------------------------


def mfa_choices(response: Response, selectors: Selectors = BTSelectors) -> tuple[MfaChoice, ...]:
    """The ways to receive a code the "Verify your identity" page offers (empty: the portal chooses)."""
    out = []
    for radio in select_first(response, selectors.MFA_METHOD):
        value = radio.attrib.get("value", "")
        ident = radio.attrib.get("id", "")
        label = _text(response.css(f"label[for='{ident}']")) if ident else ""
        medium = TwoFactorMedium.EMAIL if value.lower() in selectors.MFA_EMAIL_VALUES else TwoFactorMedium.SMS
        out.append(MfaChoice(value=value, medium=medium, label=label or value))
    return tuple(out)


def mfa_sent_to(response: Response, selectors: Selectors = BTSelectors) -> str:
    """The (masked) number or address the portal says the code went to, or its whole notice."""
    info = _text(select_first(response, selectors.MFA_SENT_INFO))
    found = re.search(r"sent to (\S+?)\.?(?:\s|$)", info)
    return found.group(1) if found else info


# -- bills -----------------------------------------------------------------------------------------------


def parse_money(text: str, selectors: Selectors = BTSelectors) -> tuple[Decimal | None, str | None]:
    """``"£1,234.56"`` → ``(Decimal("1234.56"), "GBP")``; ``(None, None)`` when there is no amount."""
    currency = next((code for symbol, code in selectors.CURRENCY_SYMBOLS if symbol in text), None)
    negative = "-" in text or "\u2212" in text or text.strip().upper().endswith("CR")
    digits = re.sub(r"[^0-9.]", "", text)
    if not digits:
        return None, currency
    try:
        value = Decimal(digits)
    except InvalidOperation:
        return None, currency
    return (-value if negative else value), currency


def parse_date(text: str, selectors: Selectors = BTSelectors) -> dt.date | None:
    """A bill date as BT prints it ("21 Oct 2026"); ``None`` when no known format matches."""
    cleaned = " ".join(text.replace(",", " ").split())
    for fmt in selectors.DATE_FORMATS:
        try:
            return dt.datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


def _cell(row: Selector, candidates: tuple[str, ...]) -> str:
    return _text(select_first(row, candidates))


def _bill_row(response: Response, row: Selector, selected: str, selectors: Selectors) -> BillRow:
    date_text = _cell(row, selectors.BILL_DATE)
    date = parse_date(date_text, selectors)
    invoice = _cell(row, selectors.BILL_INVOICE)
    if date is None or not invoice:
        raise layout_changed(f"a bill row (date {date_text!r}, invoice {invoice!r})", response)
    total, currency = parse_money(_cell(row, selectors.BILL_AMOUNT), selectors)
    vat, vat_currency = parse_money(_cell(row, selectors.BILL_VAT), selectors)
    href = select_first(row, selectors.BILL_PDF_LINK).attrib.get("href")
    return BillRow(account_number=_cell(row, selectors.BILL_ACCOUNT) or selected, invoice_number=invoice,
                   date=date, total=total, vat=vat, currency=currency or vat_currency or "GBP",
                   pdf_url=response.urljoin(href) if href else None)


def parse_bills(response: Response, selectors: Selectors = BTSelectors) -> BillsPage:
    """Read a business "Previous bills" page; raise :class:`LayoutChanged` when it is not one.

    "No bills" (``p.no-bills``) gives an empty page; a table without a
    readable row, or neither table nor notice, is a layout change.
    """
    if not _is_html(response) or detect(response, selectors).kind is not PageKind.BILLS:
        raise layout_changed("the previous bills page", response)
    select = select_first(response, selectors.ACCOUNT_SELECT)
    form_url = None
    param = "accountNumber"
    if select:
        options = select[0].css("option")
        accounts = tuple(o.attrib.get("value") or _text(o) for o in options)
        chosen = [o.attrib.get("value") or _text(o) for o in options if "selected" in o.attrib]
        selected = chosen[0] if chosen else (accounts[0] if accounts else "")
        param = select[0].attrib.get("name", param)
        form = select_first(response, selectors.ACCOUNT_SELECT_FORM)
        if form and form[0].attrib.get("action"):
            form_url = response.urljoin(form[0].attrib["action"])
    else:
        single = _text(select_first(response, selectors.SINGLE_ACCOUNT))
        accounts = (single,) if single else ()
        selected = single
    rows = select_first(response, selectors.BILL_ROW)
    table = select_first(response, selectors.BILLS_TABLE)
    if table and not rows:
        raise layout_changed("the bills table has no readable rows", response)
    bills = tuple(_bill_row(response, row, selected, selectors) for row in rows)
    if not accounts:
        accounts = tuple(dict.fromkeys(b.account_number for b in bills))
        selected = accounts[0] if accounts else ""
    if not accounts:
        raise layout_changed("the billing account of the bills page", response)
    next_href = select_first(response, selectors.NEXT_PAGE).attrib.get("href")
    download_all = None
    zip_form = select_first(response, selectors.DOWNLOAD_ALL_FORM)
    if zip_form:
        data = {i.attrib["name"]: i.attrib.get("value", "") for i in zip_form[0].css("input[type=hidden][name]")}
        download_all = DownloadAll(url=response.urljoin(zip_form[0].attrib.get("action") or response.url), data=data)
    return BillsPage(url=response.url, accounts=accounts, selected=selected, bills=bills,
                     next_url=response.urljoin(next_href) if next_href else None, account_form_url=form_url,
                     account_param=param, download_all=download_all)


def parse_consumer_bills(response: Response, selectors: Selectors = BTSelectors) -> tuple[BillRow, ...]:
    """Read the bills table of My BT (home.bt.com); raise :class:`LayoutChanged` when it is not there."""
    if not _is_html(response) or detect(response, selectors).kind is not PageKind.CONSUMER_BILLS:
        raise layout_changed("the My BT bills page", response)
    rows = select_first(response, selectors.CONSUMER_BILL_ROW)
    return tuple(_bill_row(response, row, "", selectors) for row in rows)


def attachment_filename(response: Response) -> str | None:
    """The file name of a ``Content-Disposition: attachment`` answer, if any."""
    raw = response.headers.get(b"Content-Disposition") or b""
    found = re.search(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', raw.decode("latin-1"))
    return found.group(1).strip() if found else None
