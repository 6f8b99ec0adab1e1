"""Deterministic data of the Spotify sandbox: countries, accounts, receipts.

Everything is derived from the portal's ``seed``, the account and the
portal's clock, so the same sandbox serves the same receipts every run.
The formats (``formattedSoldAt``, ``formattedAmountSummary``) imitate what a
browser's ``Intl`` API prints for the country's locale (medium date style,
currency style), which is what the real Next.js page shows; the exact real
strings are not documented (inferred).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import ROUND_HALF_UP, Decimal

import attrs

__all__ = ["COUNTRIES", "Country", "Receipt", "SandboxAccount", "default_accounts", "receipts_for"]

CENT = Decimal("0.01")

_EN_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec"]
_EN_US_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_FR_MONTHS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]
NBSP = "\u00a0"
NNBSP = "\u202f"


@attrs.frozen
class Country:
    """A country path of www.spotify.com (``/uk/``, ``/de/`` ...)."""

    code: str
    locale: str
    currency: str
    vat_rate: Decimal
    old_price: Decimal
    """Gross monthly Premium price before the price rise."""
    new_price: Decimal

    def format_date(self, day: dt.date) -> str:
        """The day as ``Intl.DateTimeFormat(locale, {dateStyle: "medium"})`` prints it."""
        if self.locale == "en-GB":
            return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"
        if self.locale == "en-US":
            return f"{_EN_US_MONTHS[day.month - 1]} {day.day}, {day.year}"
        if self.locale == "de-DE":
            return f"{day.day:02d}.{day.month:02d}.{day.year}"
        if self.locale == "fr-FR":
            return f"{day.day} {_FR_MONTHS[day.month - 1]} {day.year}"
        raise ValueError(self.locale)

    def format_amount(self, amount: Decimal) -> str:
        """The amount as ``Intl.NumberFormat(locale, {style: "currency"})`` prints it."""
        text = f"{amount:.2f}"
        if self.locale == "en-GB":
            return f"£{text}"
        if self.locale == "en-US":
            return f"${text}"
        # de-DE and fr-FR: decimal comma, no-break space before the symbol.
        return f"{text.replace('.', ',')}{NBSP}€"

    def split_price(self, gross: Decimal) -> tuple[Decimal, Decimal]:
        """(net unit price, gross shown) for a target gross price.

        Receipts print net + VAT rounded to the cent, so not every gross is
        reachable (at 19 % most prices ending in .99 are not): the gross
        shown is the reachable one nearest the target, never above it.
        """
        net = (gross / (1 + self.vat_rate)).quantize(CENT, ROUND_HALF_UP)
        while True:
            shown = net + (net * self.vat_rate).quantize(CENT, ROUND_HALF_UP)
            if shown <= gross:
                return net, shown
            net -= CENT


COUNTRIES: dict[str, Country] = {
    "uk": Country("uk", "en-GB", "GBP", Decimal("0.20"), Decimal("10.99"), Decimal("11.99")),
    "de": Country("de", "de-DE", "EUR", Decimal("0.19"), Decimal("10.99"), Decimal("12.99")),
    "us": Country("us", "en-US", "USD", Decimal("0"), Decimal("10.99"), Decimal("11.99")),
    "fr": Country("fr", "fr-FR", "EUR", Decimal("0.20"), Decimal("10.99"), Decimal("11.99")),
}


@attrs.frozen
class SandboxAccount:
    """A Spotify account the sandbox knows (the portal's own view, secrets included)."""

    username: str
    password: str | None = attrs.field(repr=False)
    """``None`` for a Google-only account (it has no Spotify password)."""
    country: str
    scenario: str
    display_name: str
    description: str
    email: str = ""
    """Where login codes go (the sandbox mailbox address); defaults to the username."""

    @property
    def mail_to(self) -> str:
        return self.email or self.username


def default_accounts() -> list[SandboxAccount]:
    """The seeded accounts (the demo accounts list them with their passwords)."""
    return [
        SandboxAccount("listener@example.com", "correct-horse-1", "uk", "ok", "Alex Listener",
                       "Logs in with a password; monthly receipts on /uk/."),
        SandboxAccount("hoerer@example.de", "richtiges-pferd-1", "de", "ok", "Jonas Hörer",
                       "Logs in with a password; receipts in EUR on /de/."),
        SandboxAccount("listener@example.us", "correct-horse-2", "us", "ok", "Sam Listener",
                       "Logs in with a password; receipts in USD on /us/."),
        SandboxAccount("auditeur@example.fr", "bon-cheval-1", "fr", "ok", "Camille Auditeur",
                       "Logs in with a password; receipts in EUR on /fr/."),
        SandboxAccount("twofactor@example.com", "correct-horse-3", "uk", "2fa", "Robin Twofactor",
                       "After the password, a 6-digit code is e-mailed; 'trust this device' skips it next time."),
        SandboxAccount("google-user@example.com", None, "uk", "sso-google", "Gene Google",
                       "Signed up with Google: a password login is refused with 'log in with Google'."),
        SandboxAccount("suspicious@example.com", "correct-horse-4", "uk", "challenge", "Casey Challenge",
                       "Every login is sent to a reCAPTCHA challenge page that automation cannot pass."),
    ]


@attrs.frozen
class Receipt:
    """One monthly receipt of an account."""

    id: str
    sold_on: dt.date
    country: Country
    product: str
    net: Decimal
    gross: Decimal
    has_pdf: bool
    payment_method: str

    @property
    def formatted_sold_at(self) -> str:
        return self.country.format_date(self.sold_on)

    @property
    def formatted_amount(self) -> str:
        return self.country.format_amount(self.gross)


def _digest(*parts: object) -> bytes:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()


def _month_back(year: int, month: int, back: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) - back
    return index // 12, index % 12 + 1


HISTORY_MONTHS = 27
"""Receipts cover this many months before the current one (2+ calendar years)."""
PRICE_RISE_MONTHS = 8
"""The last receipts (this many months) carry the new price."""


def receipts_for(account: SandboxAccount, *, seed: int, today: dt.date) -> list[Receipt]:
    """The account's receipts, newest first, one per month up to ``today``.

    The billing day (1-28) comes from the seed and the account. About one
    receipt in seven was paid with a gift card: those have no original PDF,
    only the HTML receipt page (at least one per account, by construction).
    """
    country = COUNTRIES[account.country]
    billing_day = _digest(seed, account.username, "day")[0] % 28 + 1
    gift_slot = _digest(seed, account.username, "gift")[0] % 7
    receipts: list[Receipt] = []
    for back in range(HISTORY_MONTHS + 1):
        year, month = _month_back(today.year, today.month, back)
        sold_on = dt.date(year, month, billing_day)
        if sold_on > today:
            continue
        digest = _digest(seed, account.username, sold_on.isoformat())
        receipt_id = "P" + str(int.from_bytes(digest[:8], "big") % 10**11).zfill(11)
        gross = country.new_price if back < PRICE_RISE_MONTHS else country.old_price
        net, shown = country.split_price(gross)
        gift = back % 7 == gift_slot
        receipts.append(
            Receipt(
                id=receipt_id,
                sold_on=sold_on,
                country=country,
                product="Spotify Premium Individual",
                net=net,
                gross=shown,
                has_pdf=not gift,
                payment_method="Gift card" if gift else "Visa ending 4242",
            )
        )
    return receipts
