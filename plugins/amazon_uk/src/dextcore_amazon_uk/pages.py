"""What an Amazon page is, and what it says: pure functions of a Scrapy response.

:func:`detect` names the page (sign-in steps, error box, the three captchas,
the JavaScript wall, two-step verification, push approval, SSO redirect,
account switcher, logged-in pages, order history, invoice popover);
:func:`parse_order_history` and :func:`parse_invoice_popover` read the
order pages into attrs records. Nothing here fetches or raises for a
portal's answer: the connector decides, and raises
:class:`~dextcore.outcomes.LayoutChanged` (built with
:func:`layout_changed`) when a page is not understood — in particular when
:meth:`OrderHistoryPage.problem` says an order page announced orders it
did not show.

All selectors and texts come from :class:`~dextcore_amazon_uk.selectors.AmazonSelectors`
(pass a subclass as ``selectors=`` to follow a site change).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import attrs

from dextcore.outcomes import LayoutChanged
from dextcore.parsing import clean_text as _text
from dextcore.parsing import is_pdf as body_is_pdf
from dextcore.records import DocumentKind, TwoFactorMedium

from dextcore.parsing import select_first
from dextcore_amazon_uk.selectors import AmazonSelectors

if TYPE_CHECKING:
    from parsel import Selector
    from scrapy.http import Response

__all__ = [
    "DetectedPage", "InvoiceLink", "LinkKind", "OrderCard", "OrderHistoryPage", "OtpDevice", "PageKind",
    "SignInError", "detect", "is_pdf", "layout_changed", "parse_amount", "parse_date", "parse_invoice_popover",
    "parse_order_history",
]

Selectors = type[AmazonSelectors]


class PageKind(str, enum.Enum):
    """The pages :func:`detect` tells apart."""

    SIGNIN_EMAIL = "signin_email"
    """Step 1 of ``form[name=signIn]``: the e-mail box (perhaps with an error box)."""
    SIGNIN_PASSWORD = "signin_password"
    """Step 2: the password box (perhaps with an error box)."""
    PASSKEY = "passkey"
    """Passkey-first page; :attr:`DetectedPage.password_link` leads to the password."""
    INTENT = "intent"
    """Unknown e-mail, newer flow: "Looks like you're new to Amazon"."""
    CAPTCHA_INLINE = "captcha_inline"
    CAPTCHA_CVF = "captcha_cvf"
    CAPTCHA_ROBOT = "captcha_robot"
    JS_WALL = "js_wall"
    OTP_DEVICE_CHOICE = "otp_device_choice"
    OTP_ENTRY = "otp_entry"
    PUSH_APPROVAL = "push_approval"
    PUSH_STATUS = "push_status"
    """The answer of a push approval poll (``transactionApprovalStatus``)."""
    ACCOUNT_SWITCHER = "account_switcher"
    SSO_REDIRECT = "sso_redirect"
    COOKIES_DISABLED = "cookies_disabled"
    INTERNAL_ERROR = "internal_error"
    ORDER_HISTORY = "order_history"
    INVOICE_POPOVER = "invoice_popover"
    ORDER_SUMMARY = "order_summary"
    """A printable order summary (``print.html``) or order details page."""
    LOGGED_IN = "logged_in"
    """Another page of the site, signed in."""
    PDF = "pdf"
    UNKNOWN = "unknown"


class SignInError(str, enum.Enum):
    """Why the error box complains."""

    WRONG_PASSWORD = "wrong_password"
    UNKNOWN_EMAIL = "unknown_email"
    WRONG_CODE = "wrong_code"
    TOO_MANY_CODES = "too_many_codes"
    CAPTCHA_WRONG = "captcha_wrong"
    OTHER = "other"


CAPTCHAS = frozenset({PageKind.CAPTCHA_INLINE, PageKind.CAPTCHA_CVF, PageKind.CAPTCHA_ROBOT, PageKind.JS_WALL})
"""Kinds a plugin reports as :class:`~dextcore.outcomes.Blocked` (unless a captcha solver is plugged in)."""


@attrs.frozen
class OtpDevice:
    """One choice of ``form#auth-select-device-form``."""

    value: str
    """The ``otpDeviceContext`` value to post (``"<id>, SMS"``, ``", TOTP"``)."""
    medium: TwoFactorMedium
    label: str


@attrs.frozen
class DetectedPage:
    """What :func:`detect` found. Fields not relevant to ``kind`` are empty."""

    kind: PageKind
    error: str = ""
    """Text of the error box (``.a-alert-content``), if any."""
    error_kind: SignInError | None = None
    signed_in: bool = False
    otp_devices: tuple[OtpDevice, ...] = ()
    otp_prompt: str = ""
    otp_medium: TwoFactorMedium | None = None
    push_status: str = ""
    sso_host: str = ""
    sso_provider: str = ""
    password_link: str = ""

    @property
    def is_captcha(self) -> bool:
        return self.kind in CAPTCHAS



def _has(node: Selector | Response, candidates: tuple[str, ...]) -> bool:
    return bool(select_first(node, candidates))


def _first_text(node: Selector | Response, candidates: tuple[str, ...]) -> str:
    """Text of the first element the first matching selector finds ("" if none)."""
    found = select_first(node, candidates)
    return _text(found[0]) if found else ""


def _classify_error(message: str, sel: Selectors) -> SignInError:
    low = message.lower()
    for texts, kind in ((sel.WRONG_PASSWORD_TEXTS, SignInError.WRONG_PASSWORD),
                        (sel.UNKNOWN_EMAIL_TEXTS, SignInError.UNKNOWN_EMAIL),
                        (sel.WRONG_CODE_TEXTS, SignInError.WRONG_CODE),
                        (sel.TOO_MANY_CODES_TEXTS, SignInError.TOO_MANY_CODES),
                        (sel.CAPTCHA_WRONG_TEXTS, SignInError.CAPTCHA_WRONG)):
        if any(t in low for t in texts):
            return kind
    return SignInError.OTHER


def is_pdf(response: Response) -> bool:
    """True when the body really is a PDF (an expired session answers HTML with status 200)."""
    return body_is_pdf(response.body)


def _sso(response: Response, sel: Selectors) -> tuple[str, str] | None:
    """``(host, provider)`` when the response is, or redirects to, a company's identity provider.

    A redirect counts when it leaves the host; a page counts when its
    address carries an identity provider's marks (``okta``, ``loginfmt``...).
    """
    if 300 <= response.status < 400:
        location = response.headers.get(b"Location")
        if not location:
            return None
        target = response.urljoin(location.decode("latin-1"))
        if urlsplit(target).hostname == urlsplit(response.url).hostname:
            return None
    else:
        target = response.url
        if not any(marker in target.lower() for marker in sel.SSO_MARKERS):
            return None
    low = target.lower()
    host = urlsplit(target).hostname or ""
    return host, next((name for marker, name in sel.SSO_PROVIDERS if marker in low), host)


def _medium(value: str) -> TwoFactorMedium:
    kind = value.rsplit(",", 1)[-1].strip().upper()
    return {"TOTP": TwoFactorMedium.APP, "SMS": TwoFactorMedium.SMS, "VOICE": TwoFactorMedium.SMS,
            "EMAIL": TwoFactorMedium.EMAIL}.get(kind, TwoFactorMedium.SMS)


def _otp_devices(response: Response, sel: Selectors) -> tuple[OtpDevice, ...]:
    form = select_first(response, sel.OTP_DEVICE_FORM)
    devices = []
    for radio in select_first(form, sel.OTP_DEVICE_RADIO):
        value = radio.attrib.get("value", "")
        label_node = radio.xpath("ancestor::label[1]")
        label = (_first_text(label_node[0], sel.OTP_DEVICE_LABEL) if label_node else "") or value
        devices.append(OtpDevice(value=value, medium=_medium(value), label=label))
    return tuple(devices)


def detect(response: Response, *, selectors: Selectors = AmazonSelectors) -> DetectedPage:
    """Name the page ``response`` is (see :class:`PageKind`); never raises for an unknown page."""
    sel = selectors
    sso = _sso(response, sel)
    if sso is not None:
        return DetectedPage(PageKind.SSO_REDIRECT, sso_host=sso[0], sso_provider=sso[1])
    if is_pdf(response):
        return DetectedPage(PageKind.PDF)
    if not hasattr(response, "css"):  # another binary answer
        return DetectedPage(PageKind.UNKNOWN)
    signed_in = _has(response, sel.SIGNED_IN)
    box = select_first(response, sel.ERROR_BOX)
    error = (_first_text(box[0], sel.ERROR_MESSAGE) or _text(box[0])) if box else ""
    error_kind = _classify_error(error, sel) if error else None

    def found(kind: PageKind, **extra: object) -> DetectedPage:
        values: dict[str, object] = {"error": error, "error_kind": error_kind, "signed_in": signed_in, **extra}
        return DetectedPage(kind, **values)  # type: ignore[arg-type]

    if response.status == 202 or _has(response, sel.JS_WALL):
        return found(PageKind.JS_WALL)
    if _has(response, sel.CAPTCHA_ROBOT_INPUT):
        return found(PageKind.CAPTCHA_ROBOT)
    if _has(response, sel.CAPTCHA_CVF_FORM):
        return found(PageKind.CAPTCHA_CVF)
    status = select_first(response, sel.PUSH_STATUS)
    if status and not _has(response, sel.PUSH_FORM):
        return found(PageKind.PUSH_STATUS, push_status=status[0].attrib.get("value", ""))
    if _has(response, sel.PUSH_FORM):
        return found(PageKind.PUSH_APPROVAL, otp_medium=TwoFactorMedium.PUSH,
                     otp_prompt=_first_text(response, sel.PUSH_MESSAGE))
    if _has(response, sel.OTP_DEVICE_FORM):
        return found(PageKind.OTP_DEVICE_CHOICE, otp_devices=_otp_devices(response, sel))
    if _has(response, sel.OTP_FORM):
        form = select_first(response, sel.OTP_FORM)
        device_id = form.css("input[name=deviceId]::attr(value)").get("")
        prompt = _first_text(form[0], sel.OTP_PROMPT)
        medium = TwoFactorMedium.SMS if device_id else TwoFactorMedium.APP
        return found(PageKind.OTP_ENTRY, otp_prompt=prompt, otp_medium=medium)
    path = urlsplit(response.url).path
    if _has(response, sel.ACCOUNT_SWITCHER) or any(path.endswith(p) for p in sel.ACCOUNT_SWITCHER_PATHS):
        return found(PageKind.ACCOUNT_SWITCHER)
    if _has(response, sel.INTENT_FORM):
        return found(PageKind.INTENT, error_kind=SignInError.UNKNOWN_EMAIL)
    form = select_first(response, sel.SIGNIN_FORM)
    if form:
        if _has(form, sel.CAPTCHA_INLINE_IMAGE):
            return found(PageKind.CAPTCHA_INLINE)
        if _has(form, sel.SIGNIN_PASSWORD):
            return found(PageKind.SIGNIN_PASSWORD)
        if _has(form, sel.SIGNIN_EMAIL):
            return found(PageKind.SIGNIN_EMAIL)
    link = select_first(response, sel.PASSKEY_PASSWORD_LINK)
    if link:
        return found(PageKind.PASSKEY, password_link=response.urljoin(link[0].attrib["href"]))
    low = response.text[:20000].lower()
    if any(t in low for t in sel.COOKIES_TEXTS):
        return found(PageKind.COOKIES_DISABLED)
    if error and any(t in error.lower() for t in sel.INTERNAL_ERROR_TEXTS):
        return found(PageKind.INTERNAL_ERROR)
    if _has(response, sel.POPOVER_LIST):
        return found(PageKind.INVOICE_POPOVER)
    if _has(response, sel.ORDER_HISTORY) and _has(response, sel.ORDER_COUNT):
        return found(PageKind.ORDER_HISTORY)
    if _has(response, sel.ORDER_SUMMARY):
        return found(PageKind.ORDER_SUMMARY)
    if signed_in:
        return found(PageKind.LOGGED_IN)
    return found(PageKind.UNKNOWN)


# -- values -------------------------------------------------------------------------------


def parse_date(text: str, *, selectors: Selectors = AmazonSelectors) -> dt.date | None:
    """"5 March 2024", "5. März 2024" or "March 5, 2024" (``None`` if not a date)."""
    clean = " ".join(text.replace(",", " ").replace(".", " ").split()).lower()
    match = re.fullmatch(r"(\d{1,2}) (\w+) (\d{4})", clean) or None
    if match:
        day, month, year = match.group(1), match.group(2), match.group(3)
    else:
        match = re.fullmatch(r"(\w+) (\d{1,2}) (\d{4})", clean)
        if not match:
            return None
        month, day, year = match.group(1), match.group(2), match.group(3)
    number = selectors.MONTHS.get(month)
    if number is None:
        return None
    try:
        return dt.date(int(year), number, int(day))
    except ValueError:
        return None


def parse_amount(text: str, *, selectors: Selectors = AmazonSelectors) -> tuple[Decimal, str | None] | None:
    """"£1,234.56" / "1.234,56 €" / "$12.00" → ``(Decimal, ISO currency)`` (``None`` if no amount)."""
    currency = next((code for symbol, code in selectors.CURRENCY_SYMBOLS if symbol in text), None)
    match = re.search(r"-?\d[\d.,\s]*", text)
    if not match:
        return None
    digits = match.group(0).strip().replace(" ", "")
    negative = digits.startswith("-") or "-" in text[: match.start()]
    digits = digits.lstrip("-")
    last_sep = max(digits.rfind(","), digits.rfind("."))
    if last_sep != -1 and len(digits) - last_sep - 1 == 2:
        whole, cents = digits[:last_sep], digits[last_sep + 1:]
        number = re.sub(r"[.,]", "", whole) + "." + cents
    else:
        number = re.sub(r"[.,]", "", digits)
    try:
        value = Decimal(number)
    except InvalidOperation:
        return None
    return (-value if negative else value), currency


# -- order history ---------------------------------------------------------------------------


@attrs.frozen
class OrderCard:
    """One order of the history page."""

    order_id: str
    placed: dt.date | None
    total: Decimal | None
    currency: str | None
    details_url: str | None = None
    popover_url: str | None = None
    """The invoice popover (UK/EU)."""
    summary_url: str | None = None
    """A direct "View invoice" printable summary (US)."""
    sellers: tuple[str, ...] = ()
    """Distinct "Sold by" names of the card's items, in the order shown."""

    @property
    def digital(self) -> bool:
        return self.order_id.startswith("D01-")


@attrs.frozen
class OrderHistoryPage:
    count: int | None
    """The announced number of orders in the period (``.num-orders``); ``None`` when absent."""
    orders: tuple[OrderCard, ...]
    next_url: str | None
    unparsed_cards: int = 0
    """Cards found without an order id."""
    years: tuple[int, ...] = ()
    """Years offered by the period menu (``year-YYYY``), newest first."""

    @property
    def problem(self) -> str | None:
        """Why this page cannot be trusted, or ``None``: tells "no orders" from "page not understood"."""
        if self.count is None:
            return "no order count on the order history page"
        if self.unparsed_cards:
            return f"{self.unparsed_cards} order card(s) without an order id"
        if self.count > 0 and not self.orders:
            return f"the page announces {self.count} orders but no order card was recognised"
        if any(o.placed is None or o.total is None for o in self.orders):
            return "an order card without its date or total"
        return None


def _header_value(card: Selector, labels: tuple[str, ...], sel: Selectors) -> str | None:
    for item in select_first(card, sel.ORDER_HEADER_ITEM):
        label = _first_text(item, sel.ORDER_HEADER_LABEL).lower()
        if label and any(label == want or label.startswith(want) for want in labels):
            return _first_text(item, sel.ORDER_HEADER_VALUE) or None
    return None


def _sellers(card: Selector, sel: Selectors) -> tuple[str, ...]:
    names: list[str] = []
    for node in select_first(card, sel.ORDER_ITEM_SELLER):
        text = _text(node)
        low = text.lower()
        label = next((t for t in sel.SOLD_BY_TEXTS if low.startswith(t)), None)
        if label is None:
            continue
        name = text[len(label):].strip()
        if name and name not in names:
            names.append(name)
    return tuple(names)


def _popover_url(card: Selector, response: Response, sel: Selectors) -> str | None:
    for node in select_first(card, sel.ORDER_INVOICE_POPOVER):
        try:
            config = json.loads(node.attrib.get("data-a-popover", ""))
        except ValueError:
            continue
        url = config.get("url", "") if isinstance(config, dict) else ""
        if "invoice" in url:
            return response.urljoin(url)
    return None


def parse_order_history(response: Response, *, selectors: Selectors = AmazonSelectors) -> OrderHistoryPage:
    """Read one ``/your-orders/orders`` page. Check :attr:`OrderHistoryPage.problem` before trusting it."""
    sel = selectors
    digits = re.search(r"\d[\d.,]*", _first_text(response, sel.ORDER_COUNT))
    count = int(re.sub(r"[.,]", "", digits.group(0))) if digits else None
    cards: list[OrderCard] = []
    unparsed = 0
    for card in select_first(response, sel.ORDER_CARD):
        order_id = _first_text(card, sel.ORDER_ID)
        if not re.fullmatch(r"[0-9D]\d{2}-\d{7}-\d{7}", order_id):
            unparsed += 1
            continue
        placed_text = _header_value(card, sel.ORDER_PLACED_LABELS, sel)
        total_text = _header_value(card, sel.TOTAL_LABELS, sel)
        amount = parse_amount(total_text, selectors=sel) if total_text else None
        details = select_first(card, sel.ORDER_DETAILS_LINK)
        summary = select_first(card, sel.ORDER_INVOICE_PRINT_LINK)
        cards.append(OrderCard(
            order_id=order_id,
            placed=parse_date(placed_text, selectors=sel) if placed_text else None,
            total=amount[0] if amount else None,
            currency=amount[1] if amount else None,
            details_url=response.urljoin(details[0].attrib["href"]) if details else None,
            popover_url=_popover_url(card, response, sel),
            summary_url=response.urljoin(summary[0].attrib["href"]) if summary else None,
            sellers=_sellers(card, sel),
        ))
    nxt = select_first(response, sel.NEXT_PAGE)
    next_url = response.urljoin(nxt[0].attrib["href"]) if nxt and nxt[0].attrib.get("href") else None
    years = sorted({int(m.group(1)) for value in select_first(response, sel.PERIOD_OPTIONS).xpath("@value").getall()
                    if (m := re.fullmatch(r"year-(\d{4})", value))}, reverse=True)
    return OrderHistoryPage(count=count, orders=tuple(cards), next_url=next_url, unparsed_cards=unparsed,
                            years=tuple(years))


# -- invoice popover -------------------------------------------------------------------------------


class LinkKind(str, enum.Enum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    SUMMARY = "summary"
    """The Printable Order Summary: an HTML page, to be printed to PDF."""

    @property
    def document_kind(self) -> DocumentKind:
        return DocumentKind.CREDIT_NOTE if self is LinkKind.CREDIT_NOTE else DocumentKind.INVOICE


@attrs.frozen
class InvoiceLink:
    url: str
    label: str
    kind: LinkKind

    @property
    def is_pdf(self) -> bool:
        return self.kind is not LinkKind.SUMMARY


def _link_kind(label: str, href: str, sel: Selectors) -> LinkKind | None:
    low = label.lower()
    if any(t in low for t in sel.REQUEST_INVOICE_LABELS):
        return None
    if any(h in href for h in sel.SUMMARY_HREFS) or any(t in low for t in sel.SUMMARY_LABELS):
        return LinkKind.SUMMARY
    if any(t in low for t in sel.CREDIT_NOTE_LABELS):
        return LinkKind.CREDIT_NOTE
    if any(h in href for h in sel.DOCUMENT_HREFS) or any(t in low for t in sel.INVOICE_LABELS):
        return LinkKind.INVOICE
    return None


def parse_invoice_popover(response: Response, *,
                          selectors: Selectors = AmazonSelectors) -> tuple[InvoiceLink, ...] | None:
    """The document links of an invoice popover ("Request invoice" and other links skipped).

    ``None`` when the popover's list is missing (the layout changed); an
    empty tuple when the list holds no document.
    """
    sel = selectors
    if not _has(response, sel.POPOVER_LIST):
        return None
    links = []
    for anchor in select_first(response, sel.POPOVER_LINK):
        href = anchor.attrib.get("href", "")
        label = _text(anchor)
        kind = _link_kind(label, href, sel)
        if kind is not None and href:
            links.append(InvoiceLink(url=response.urljoin(href), label=label, kind=kind))
    return tuple(links)


def layout_changed(what: str, response: Response | None = None) -> LayoutChanged:
    """The outcome to raise when a page is not understood; carries the response so the core saves it."""
    if response is not None:
        what = f"{what} ({urlsplit(response.url).path})"
    return LayoutChanged(what, page=response)


def query_value(url: str, name: str) -> str | None:
    """One query parameter of ``url`` (e.g. ``orderId`` of a popover URL)."""
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None
