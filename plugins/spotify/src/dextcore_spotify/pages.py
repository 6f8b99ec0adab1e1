"""What the Spotify connector knows about spotify.com pages, as pure functions.

Every function takes a page: a Scrapy ``TextResponse`` (its ``text`` and
``url`` are used), a :class:`Page` (HTML plus URL, e.g. a Playwright page's
``content()`` and ``url``), or bare HTML. They work on pages rendered by a
browser and, where the information is in the server's HTML (Next.js data,
the login app's bootstrap JSON), on plain HTTP responses too. Selectors come
from :mod:`dextcore_spotify.selectors`.

Failures to understand a page raise
:class:`~dextcore.outcomes.LayoutChanged` carrying the page, never return
an empty result: "no receipts" and "could not read the receipts" differ.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import urllib.parse
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, Union

import attrs
import parsel

from dextcore.outcomes import LayoutChanged
from dextcore_spotify.selectors import SELECTORS, SpotifySelectors

__all__ = [
    "Invoice",
    "Page",
    "PageKind",
    "accounts_base",
    "banner_text",
    "code_sent_to",
    "country_of",
    "detect",
    "is_challenge_page",
    "is_logged_in",
    "is_login_page",
    "is_two_factor_page",
    "login_error",
    "LoginError",
    "login_url",
    "original_receipt_url",
    "parse_amount",
    "parse_date",
    "parse_invoices",
    "sso_provider",
]

WWW_HOST = "www.spotify.com"
ACCOUNTS_HOST = "accounts.spotify.com"
CHALLENGE_HOST = "challenge.spotify.com"
DEFAULT_COUNTRY = "uk"


class _HasText(Protocol):
    text: str
    url: str


@attrs.frozen
class Page:
    """HTML and the URL it came from (a browser page's ``content()`` and ``url``)."""

    html: str = attrs.field(repr=lambda h: f"<{len(h)} chars>")
    url: str = ""
    text = property(lambda self: self.html)


PageLike = Union[_HasText, Page, str]


def _parts(page: PageLike) -> tuple[parsel.Selector, str]:
    if isinstance(page, str):
        return parsel.Selector(text=page), ""
    return parsel.Selector(text=page.text), getattr(page, "url", "") or ""


def _find(sel: parsel.Selector, alternatives: tuple[str, ...]) -> parsel.SelectorList:
    for css in alternatives:
        found = sel.css(css)
        if found:
            return found
    return parsel.SelectorList([])


def _host_path(url: str) -> tuple[str, str]:
    """(host, path) of a real URL or of a sandbox URL whose first path segment is a host."""
    parts = urllib.parse.urlsplit(url)
    segments = parts.path.split("/")
    if len(segments) > 1 and segments[1].endswith((".spotify.com", ".google.com")):
        return segments[1], "/" + "/".join(segments[2:])
    return parts.hostname or "", parts.path


def _json_script(sel: parsel.Selector, alternatives: tuple[str, ...]) -> Any | None:
    found = _find(sel, alternatives)
    if not found:
        return None
    try:
        return json.loads(found[0].xpath("string()").get() or "")
    except ValueError:
        return None


# -- where things are --------------------------------------------------------------


def accounts_base(www_base: str) -> str:
    """The accounts.spotify.com base that goes with a www base URL.

    ``https://www.spotify.com/uk`` → ``https://accounts.spotify.com``;
    ``http://127.0.0.1:PORT/www.spotify.com/uk`` (sandbox host path) →
    ``http://127.0.0.1:PORT/accounts.spotify.com``.
    """
    parts = urllib.parse.urlsplit(www_base)
    if parts.hostname == WWW_HOST:
        return urllib.parse.urlunsplit((parts.scheme, ACCOUNTS_HOST, "", "", ""))
    marker = f"/{WWW_HOST}"
    if marker in parts.path:
        prefix = parts.path[: parts.path.index(marker)]
        return urllib.parse.urlunsplit((parts.scheme, parts.netloc, f"{prefix}/{ACCOUNTS_HOST}", "", ""))
    raise ValueError(f"not a www.spotify.com base URL: {www_base!r}")


def login_url(www_base: str, continue_url: str) -> str:
    """The password login form (``allow_password=1``) returning to ``continue_url``."""
    query = urllib.parse.urlencode({"allow_password": "1", "continue": continue_url})
    return f"{accounts_base(www_base)}/login?{query}"


def country_of(url: str) -> str | None:
    """The country path of a www.spotify.com URL (``uk`` for ``.../uk/account/...``)."""
    host, path = _host_path(url)
    if host != WWW_HOST:
        return None
    first = path.strip("/").split("/")[0]
    return first if re.fullmatch(r"[a-z]{2}(-[a-z]{2})?", first) else None


# -- what page is this ---------------------------------------------------------------


class PageKind(str, enum.Enum):
    LOGIN = "login"
    """The password form (or its unrendered shell with ``allowPassword``)."""
    LOGIN_CODE = "login_code"
    """The default "email me a code" login, without a password field."""
    TWO_FACTOR = "two_factor"
    CHALLENGE = "challenge"
    """A captcha (reCAPTCHA) page automation cannot pass."""
    SSO = "sso"
    """A third-party (Google ...) sign-in page."""
    LOGGED_IN = "logged_in"
    UNKNOWN = "unknown"


def _bootstrap(sel: parsel.Selector, selectors: SpotifySelectors) -> dict[str, Any]:
    data = _json_script(sel, selectors.bootstrap_data)
    return data if isinstance(data, dict) else {}


def detect(page: PageLike, selectors: SpotifySelectors = SELECTORS) -> PageKind:
    """Classify ``page`` (rendered DOM first; then the server's bootstrap data and URL)."""
    sel, url = _parts(page)
    host, path = _host_path(url)
    if _find(sel, selectors.captcha):
        return PageKind.CHALLENGE
    if _find(sel, selectors.code_input) or _find(sel, selectors.code_digits):
        return PageKind.TWO_FACTOR
    if _find(sel, selectors.login_password):
        return PageKind.LOGIN
    if _logged_in(sel, selectors):
        return PageKind.LOGGED_IN
    boot = _bootstrap(sel, selectors)
    if boot.get("kind") == "recaptcha" or (host == CHALLENGE_HOST and path.endswith("/recaptcha")):
        return PageKind.CHALLENGE
    if boot.get("kind") == "email-code" or (host == CHALLENGE_HOST and path.endswith("/code")):
        return PageKind.TWO_FACTOR
    if host.endswith("google.com") or host.endswith("facebook.com") or host.endswith("appleid.apple.com"):
        return PageKind.SSO
    if "flowCtx" in boot or (host == ACCOUNTS_HOST and path.rstrip("/").endswith("/login")):
        if boot.get("allowPassword") or "allow_password=1" in url:
            return PageKind.LOGIN
        return PageKind.LOGIN_CODE
    if _find(sel, selectors.login_username):
        return PageKind.LOGIN_CODE
    return PageKind.UNKNOWN


def is_login_page(page: PageLike, selectors: SpotifySelectors = SELECTORS) -> bool:
    return detect(page, selectors) in (PageKind.LOGIN, PageKind.LOGIN_CODE)


def is_two_factor_page(page: PageLike, selectors: SpotifySelectors = SELECTORS) -> bool:
    return detect(page, selectors) is PageKind.TWO_FACTOR


def is_challenge_page(page: PageLike, selectors: SpotifySelectors = SELECTORS) -> bool:
    return detect(page, selectors) is PageKind.CHALLENGE


def is_logged_in(page: PageLike, selectors: SpotifySelectors = SELECTORS) -> bool:
    """The page shows the user widget, or is an account page whose Next.js data names a user."""
    return _logged_in(_parts(page)[0], selectors)


def _logged_in(sel: parsel.Selector, selectors: SpotifySelectors) -> bool:
    if _find(sel, selectors.logged_in):
        return True
    data = _json_script(sel, selectors.next_data)
    try:
        return bool(data["props"]["pageProps"]["user"])  # type: ignore[index]
    except (KeyError, TypeError):
        return False


def banner_text(page: PageLike, selectors: SpotifySelectors = SELECTORS) -> str | None:
    """The text of the error banner, if one shows."""
    sel, _ = _parts(page)
    found = _find(sel, selectors.error_banner)
    if not found:
        return None
    return " ".join(found[0].xpath("string()").get("").split()) or None


class LoginError(str, enum.Enum):
    INVALID_CREDENTIALS = "invalid_credentials"
    SSO = "sso"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    INCORRECT_CODE = "incorrect_code"
    CODE_EXPIRED = "code_expired"
    OTHER = "other"


_PROVIDERS = ("google", "facebook", "apple")

# Error codes of the login JSON answer and the banner's data-error attribute.
_ERROR_CODES = {
    "errorInvalidCredentials": LoginError.INVALID_CREDENTIALS,
    "errorThirdPartyLogin": LoginError.SSO,
    "errorTooManyRequests": LoginError.TOO_MANY_ATTEMPTS,
    "errorInvalidCode": LoginError.INCORRECT_CODE,
    "errorCodeExpired": LoginError.CODE_EXPIRED,
}
_ERROR_TEXTS = (
    (re.compile(r"incorrect (username|email) or password", re.I), LoginError.INVALID_CREDENTIALS),
    (re.compile(r"(connected|linked) to (google|facebook|apple)|log in with (google|facebook|apple)", re.I),
     LoginError.SSO),
    (re.compile(r"too many", re.I), LoginError.TOO_MANY_ATTEMPTS),
    (re.compile(r"code .*(incorrect|wrong|invalid)", re.I), LoginError.INCORRECT_CODE),
    (re.compile(r"code .*expired", re.I), LoginError.CODE_EXPIRED),
)


def login_error(page: PageLike | None = None, *, answer: Any = None,
                selectors: SpotifySelectors = SELECTORS) -> LoginError | None:
    """Why a login or code was refused, from the JSON ``answer`` of
    ``login/password`` or from the page's banner; ``None`` when no error shows."""
    if isinstance(answer, dict) and answer.get("error"):
        return _ERROR_CODES.get(str(answer["error"]), LoginError.OTHER)
    if page is None:
        return None
    sel, _ = _parts(page)
    found = _find(sel, selectors.error_banner)
    if not found:
        return None
    code = found[0].attrib.get("data-error")
    if code in _ERROR_CODES:
        return _ERROR_CODES[code]
    text = " ".join(found[0].xpath("string()").get("").split())
    for pattern, kind in _ERROR_TEXTS:
        if pattern.search(text):
            return kind
    return LoginError.OTHER


def sso_provider(page: PageLike | None = None, *, answer: Any = None,
                 selectors: SpotifySelectors = SELECTORS) -> str | None:
    """``google`` (or facebook, apple) when the account signs in through that provider:
    the login answer names it, the banner tells to use it, or the page is its sign-in page."""
    if isinstance(answer, dict) and answer.get("error") == "errorThirdPartyLogin":
        return str(answer.get("provider") or "google")
    if page is None:
        return None
    _, url = _parts(page)
    host, _ = _host_path(url)
    for provider in _PROVIDERS:
        if host.endswith(f"{provider}.com"):
            return provider
    if login_error(page, selectors=selectors) is LoginError.SSO:
        text = (banner_text(page, selectors) or "").lower()
        return next((p for p in _PROVIDERS if p in text), "google")
    return None


def code_sent_to(page: PageLike) -> str | None:
    """The (masked) address a two-factor page says the code went to."""
    sel, _ = _parts(page)
    text = " ".join(" ".join(sel.css("main ::text, body ::text").getall()).split())
    match = re.search(r"sent (?:a|the) code to (\S+@\S+?)\.?(?:\s|$)", text)
    return match.group(1) if match else None


# -- receipts --------------------------------------------------------------------------


@attrs.frozen
class Invoice:
    """One row of the order history."""

    id: str
    date: dt.date
    amount: Decimal
    currency: str
    receipt_url: str | None
    """The HTML receipt page (every invoice has one)."""
    pdf_url: str | None
    """The original PDF receipt (``semanticId "original-receipt"``), when there is one."""
    description: str | None = None

    @property
    def has_pdf(self) -> bool:
        return self.pdf_url is not None


_MONTHS = {
    # English (en-GB writes "Sept"), French (abbreviated with a dot, or full), German.
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
    "janv": 1, "janvier": 1, "févr": 2, "fevr": 2, "février": 2, "mars": 3, "avr": 4, "avril": 4,
    "mai": 5, "juin": 6, "juil": 7, "juillet": 7, "août": 8, "aout": 8, "septembre": 9,
    "octobre": 10, "novembre": 11, "déc": 12, "décembre": 12,
    "januar": 1, "jän": 1, "februar": 2, "märz": 3, "mär": 3, "juni": 6, "juli": 7, "okt": 10,
    "oktober": 10, "dez": 12, "dezember": 12,
}
_MONTH_FIRST = {"us"}
"""Countries writing numeric dates month first."""


def _month(name: str) -> int | None:
    return _MONTHS.get(name.lower().rstrip("."))


def parse_date(text: str, country: str | None = None) -> dt.date:
    """A ``formattedSoldAt`` as the country's locale prints it.

    ``21 Nov 2026``, ``21 Sept 2026`` (uk), ``Nov 21, 2026`` (us),
    ``21.11.2026`` (de), ``21 nov. 2026`` (fr), ISO dates and numeric
    ``dd/mm/yyyy`` (``mm/dd/yyyy`` for us). Raises ``ValueError``.
    """
    clean = " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", clean):
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.fullmatch(r"(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})", clean):
        return dt.date(int(m[3]), int(m[2]), int(m[1]))
    if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{2,4})", clean):
        first, second, year = int(m[1]), int(m[2]), int(m[3])
        year += 2000 if year < 100 else 0
        month, day = (first, second) if (country or "") in _MONTH_FIRST else (second, first)
        return dt.date(year, month, day)
    if m := re.fullmatch(r"(\d{1,2})\.? ([^\W\d_]+\.?) (\d{4})", clean):
        month = _month(m[2])
        if month:
            return dt.date(int(m[3]), month, int(m[1]))
    if m := re.fullmatch(r"([^\W\d_]+\.?) (\d{1,2}),? (\d{4})", clean):
        month = _month(m[1])
        if month:
            return dt.date(int(m[3]), month, int(m[2]))
    raise ValueError(f"unrecognised date {text!r}")


_SYMBOLS = {"£": "GBP", "€": "EUR", "US$": "USD", "$": "USD", "kr": "SEK", "CHF": "CHF"}
_CODES = ("GBP", "EUR", "USD", "SEK", "CHF", "CAD", "AUD")
_COUNTRY_CURRENCY = {"uk": "GBP", "de": "EUR", "fr": "EUR", "us": "USD", "es": "EUR", "it": "EUR",
                     "nl": "EUR", "ie": "EUR", "ca": "CAD", "au": "AUD", "se": "SEK"}


def parse_amount(text: str, country: str | None = None) -> tuple[Decimal, str]:
    """``(amount, currency)`` from a ``formattedAmountSummary``: ``£11.99``,
    ``11,99 €``, ``$11.99``, ``1.234,56 €``, ``EUR 11.99``. A bare ``$`` is
    taken in the country's dollars (US by default). Raises ``ValueError``."""
    clean = text.replace("\u00a0", " ").replace("\u202f", " ").strip()
    currency = next((code for code in _CODES if code in clean.upper()), None)
    if currency is None:
        for symbol, code in _SYMBOLS.items():
            if symbol in clean:
                currency = code
                if symbol == "$" and country in _COUNTRY_CURRENCY:
                    currency = _COUNTRY_CURRENCY[country]
                break
    if currency is None and country in _COUNTRY_CURRENCY:
        currency = _COUNTRY_CURRENCY[country]
    if currency is None:
        raise ValueError(f"no currency in {text!r}")
    m = re.search(r"-?\d[\d.,\s]*", clean)
    if not m:
        raise ValueError(f"no amount in {text!r}")
    digits = m.group(0).replace(" ", "").rstrip(".,")
    # The last separator followed by exactly two digits is the decimal mark.
    if re.search(r"[.,]\d{2}$", digits):
        whole, frac = digits[:-3], digits[-2:]
        digits = re.sub(r"[.,]", "", whole) + "." + frac
    else:
        digits = re.sub(r"[.,]", "", digits)
    try:
        return Decimal(digits), currency
    except InvalidOperation:
        raise ValueError(f"unrecognised amount {text!r}") from None


def _invoice_from_next(item: Any, country: str | None) -> Invoice:
    links = {}
    for entry in item.get("menu") or []:
        link = (entry or {}).get("link") or {}
        if link.get("semanticId") and link.get("url"):
            links[link["semanticId"]] = link["url"]
    amount, currency = parse_amount(str(item["formattedAmountSummary"]), country)
    return Invoice(
        id=str(item["id"]),
        date=parse_date(str(item["formattedSoldAt"]), country),
        amount=amount,
        currency=currency,
        receipt_url=links.get("receipt"),
        pdf_url=links.get("original-receipt"),
        description=item.get("productName"),
    )


def _invoices_from_rows(sel: parsel.Selector, url: str, country: str | None,
                        selectors: SpotifySelectors) -> list[Invoice] | None:
    rows = _find(sel, selectors.invoice_rows)
    if not rows:
        return None
    out = []
    for row in rows:
        link = _find(row, selectors.receipt_link)
        href = link[0].attrib.get("href") if link else None
        if not href:
            continue
        href = urllib.parse.urljoin(url, href)
        match = re.search(r"/receipt/([^/?#]+)", href)
        cells = [" ".join(c.xpath("string()").get("").split()) for c in row.css("td, [role=cell]")]
        date = amount = None
        for cell in cells:
            if date is None:
                try:
                    date = parse_date(cell, country)
                    continue
                except ValueError:
                    pass
            if amount is None and re.search(r"\d[.,]\d{2}", cell):
                try:
                    amount = parse_amount(cell, country)
                except ValueError:
                    pass
        if match is None or date is None or amount is None:
            raise ValueError("a receipts row without id, date or amount")
        out.append(Invoice(id=match.group(1), date=date, amount=amount[0], currency=amount[1],
                           receipt_url=href, pdf_url=None))
    return out


def parse_invoices(page: PageLike, *, country: str | None = None,
                   selectors: SpotifySelectors = SELECTORS) -> list[Invoice]:
    """The invoices of an order-history page, newest first as listed.

    Reads ``script#__NEXT_DATA__`` → ``props.pageProps.paymentHistoryResult.invoices``
    (present in the server's HTML too); falls back to the rendered table,
    whose rows carry no PDF link (``pdf_url`` is ``None``: open the receipt
    page). ``country`` (default: from the page URL) decides date and dollar
    readings. Raises :class:`LayoutChanged` when neither can be read.
    """
    sel, url = _parts(page)
    country = country or country_of(url)
    data = _json_script(sel, selectors.next_data)
    if data is not None:
        try:
            result = data["props"]["pageProps"]["paymentHistoryResult"]
            items = result["invoices"]
            if not isinstance(items, list):
                raise TypeError("invoices is not a list")
            return [_invoice_from_next(item, country) for item in items]
        except (KeyError, TypeError, ValueError) as exc:
            try:
                rows = _invoices_from_rows(sel, url, country, selectors)
            except ValueError:
                rows = None
            if rows is not None:
                return rows
            raise LayoutChanged(f"order history data not understood ({exc})", page=page) from None
    try:
        rows = _invoices_from_rows(sel, url, country, selectors)
    except ValueError as exc:
        raise LayoutChanged(f"receipts table not understood ({exc})", page=page) from None
    if rows is None:
        raise LayoutChanged("order history without __NEXT_DATA__ or receipts table", page=page)
    return rows


def original_receipt_url(page: PageLike, selectors: SpotifySelectors = SELECTORS) -> str | None:
    """On a receipt page, the link to the original PDF (``None``: none exists, print the page).

    Raises :class:`LayoutChanged` when the page is not a receipt page.
    """
    sel, url = _parts(page)
    if not _find(sel, selectors.receipt_article):
        raise LayoutChanged("receipt page not recognised", page=page)
    link = _find(sel, selectors.original_receipt_link)
    href = link[0].attrib.get("href") if link else None
    return urllib.parse.urljoin(url, href) if href else None
