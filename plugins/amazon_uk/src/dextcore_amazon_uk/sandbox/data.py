"""Seeded accounts and order histories of the Amazon sandbox.

Everything here is a pure function of the portal seed, the account and the
clock's date, so the same sandbox serves the same orders and invoices on
every run. Choices the reference leaves open:

* Orders span the current and the two previous calendar years; the year
  before last has 21-24 orders (three history pages), the current year
  11-14 (two pages), the oldest 5-8.
* UK/DE orders carry PDF documents: one invoice per seller (Amazon itself,
  marketplace sellers), credit notes for some refunds; a marketplace seller
  that never uploaded its invoice leaves a "Request invoice" link instead.
  Digital orders (``D01-``) have one invoice from Amazon's digital entity.
  US orders have no PDFs: "View invoice" opens the printable summary.
* Invoice numbers: ``INV-GB-2024-00012345`` for Amazon, ``<SELLER>-2024-00123``
  for marketplace sellers, ``CN-GB-2024-...`` for credit notes.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
from decimal import Decimal
from typing import Callable

import attrs

from dextcore.sandbox import InvoiceLine, invoice_totals

from dextcore_amazon_uk.sandbox.regions import Region, region_for_variant

__all__ = ["AmazonAccount", "Document", "Item", "Order", "build_accounts", "build_orders"]


@attrs.frozen
class AmazonAccount:
    """A customer account of one marketplace, with the scenario it plays."""

    username: str
    password: str = attrs.field(repr=False)
    name: str
    variant: str
    """Region variant the account belongs to (``co.uk``...); business variants add ``-business``."""
    scenario: str
    description: str
    totp_secret: str | None = attrs.field(default=None, repr=False)
    """As Amazon shows it: groups of four characters separated by spaces."""
    phone: str | None = None
    devices: tuple[str, ...] = ()
    """Second-factor devices: ``SMS``, ``VOICE``, ``TOTP`` (a device choice page when several)."""
    demo_password: str | None = attrs.field(default=None, repr=False)
    """The password the demo account hands out when it differs (stale password scenario)."""
    demo_variant: str | None = None
    """The variant the demo account is configured with when it differs (wrong variant scenario)."""
    profiles: tuple[str, ...] = ()
    """Profiles offered by the account switcher."""
    passkey_first: bool = False

    @property
    def region(self) -> Region:
        return region_for_variant(self.variant)

    @property
    def business(self) -> bool:
        return self.variant.endswith("-business")


def _totp_secret(rng: random.Random) -> str:
    raw = base64.b32encode(bytes(rng.getrandbits(8) for _ in range(20))).decode()
    return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def build_accounts(rng: Callable[..., random.Random]) -> list[AmazonAccount]:
    """Every account the sandbox knows, one per scenario (``rng(*parts)`` is the portal's seeded generator)."""
    uk, de, us = "co.uk", "de", "com"
    return [
        AmazonAccount("buyer@example.co.uk", "sandbox-uk-pass", "Alice Buyer", uk, "ok",
                      "UK account, password only"),
        AmazonAccount("kaeufer@example.de", "sandbox-de-pass", "Klara Käufer", de, "ok",
                      "German account, password only"),
        AmazonAccount("buyer@example.com", "sandbox-us-pass", "Bob Buyer", us, "ok",
                      "US account, password only; invoices are printable summaries"),
        AmazonAccount("totp@example.co.uk", "sandbox-totp-pass", "Tara Totp", uk, "totp",
                      "authenticator-app codes (TOTP); give the secret to skip prompts",
                      totp_secret=_totp_secret(rng("totp", "totp@example.co.uk")), devices=("TOTP",)),
        AmazonAccount("sms@example.co.uk", "sandbox-sms-pass", "Sam Sms", uk, "sms",
                      "device choice (SMS or voice), code sent to the phone",
                      phone="+447700900123", devices=("SMS", "VOICE")),
        AmazonAccount("push@example.co.uk", "sandbox-push-pass", "Pat Push", uk, "push",
                      "approve the sign-in in the Amazon app (approved after a few polls)",
                      phone="+447700900456"),
        AmazonAccount("passkey@example.co.uk", "sandbox-passkey-pass", "Peggy Passkey", uk, "passkey-first",
                      "passkey offered first; a link leads to the password"),
        AmazonAccount("captcha@example.co.uk", "sandbox-captcha-pass", "Chris Captcha", uk, "captcha-inline",
                      "image captcha on the password page"),
        AmazonAccount("cvf@example.co.uk", "sandbox-cvf-pass", "Cleo Cvf", uk, "captcha-cvf",
                      "account-protection puzzle (cvf) after the password"),
        AmazonAccount("robot@example.co.uk", "sandbox-robot-pass", "Rob Robot", uk, "captcha-robot",
                      "robot check (validateCaptcha) after the password"),
        AmazonAccount("jswall@example.co.uk", "sandbox-jswall-pass", "Jo Wall", uk, "jswall",
                      "JavaScript bot challenge (AWS WAF) after the e-mail"),
        AmazonAccount("ap@acme-sso.example", "sandbox-sso-pass", "Acme Accounts", "co.uk-business", "sso",
                      "business account signing in through its company's identity provider"),
        AmazonAccount("team@acme.example", "sandbox-team-pass", "Acme Team", "co.uk-business", "account-switcher",
                      "business login with an account switcher (two profiles)",
                      profiles=("Acme Ltd (Business)", "Tom Team (Personal)")),
        AmazonAccount("stale@example.co.uk", "sandbox-stale-new", "Stella Stale", uk, "wrong-password",
                      "the stored password is out of date", demo_password="sandbox-stale-old"),
        AmazonAccount("movedon@example.co.uk", "sandbox-moved-pass", "Mo Ved", uk, "wrong-variant",
                      "a UK account configured for amazon.de", demo_variant=de),
    ]


@attrs.frozen
class Item:
    title: str
    seller: str
    quantity: int
    unit_price: Decimal
    """Net price of one unit."""


@attrs.frozen
class Document:
    """One PDF of an order: an invoice per seller, or a credit note."""

    kind: str
    """``invoice`` or ``credit_note``."""
    n: int
    """Number in its label: "Invoice 2", "Credit note 1"."""
    number: str
    date: dt.date
    seller: str
    seller_vat: str
    lines: tuple[InvoiceLine, ...]

    @property
    def title(self) -> str:
        return "Credit Note" if self.kind == "credit_note" else "Invoice"

    @property
    def total(self) -> Decimal:
        return invoice_totals(self.lines)[2]


@attrs.frozen
class Order:
    order_id: str
    placed: dt.date
    items: tuple[Item, ...]
    total: Decimal
    documents: tuple[Document, ...]
    missing_invoice_seller: str | None
    """A marketplace seller that has not uploaded an invoice ("Request invoice")."""

    @property
    def digital(self) -> bool:
        return self.order_id.startswith("D01-")


_PRODUCTS = (
    ("USB-C Charging Cable 2m", Decimal("7.49")), ("Stainless Steel Kettle 1.7L", Decimal("24.99")),
    ("A4 Printer Paper, 500 sheets", Decimal("4.99")), ("Wireless Mouse", Decimal("12.49")),
    ("Desk Lamp with Dimmer", Decimal("19.99")), ("Notebook A5, pack of 3", Decimal("6.66")),
    ("Noise Cancelling Headphones", Decimal("89.99")), ("HDMI Cable 1.5m", Decimal("5.83")),
    ("Office Chair Cushion", Decimal("16.65")), ("Coffee Beans 1kg", Decimal("14.99")),
    ("Laptop Stand, Aluminium", Decimal("22.49")), ("Whiteboard Markers, 12 pack", Decimal("8.32")),
)
_DIGITAL = (("Kindle Edition: The Practical Accountant", Decimal("5.99")),
            ("Prime Video: Season Pass", Decimal("12.49")), ("Audible credit", Decimal("6.66")))
_SELLERS = {
    "GB": (("Bright Spark Electronics Ltd", "GB 284 5521 90", "BSE"), ("Kettle & Co", "GB 193 4471 22", "KCO"),
           ("Northwind Office Supplies", "GB 377 1020 45", "NWO")),
    "DE": (("Müller Haushaltswaren GmbH", "DE 287 654 321", "MHW"), ("Bürobedarf Schmidt", "DE 311 224 908", "BBS"),
           ("Elektro Weber KG", "DE 145 998 120", "EWK")),
    "US": (("Lakeside Electronics LLC", "", "LSE"), ("Maple Office Goods", "", "MOG")),
}
_AMAZON = {
    "GB": ("Amazon EU S.à r.l., UK Branch", "GB 727 2558 21"),
    "DE": ("Amazon EU S.à r.l., Niederlassung Deutschland", "DE 814 584 193"),
    "US": ("Amazon.com Services LLC", ""),
}
_AMAZON_DIGITAL = {
    "GB": ("Amazon Media EU S.à r.l.", "GB 927 3000 91"),
    "DE": ("Amazon Media EU S.à r.l.", "DE 814 584 193"),
    "US": ("Amazon Digital Services LLC", ""),
}


def _order_id(rng: random.Random, prefix: str) -> str:
    return f"{prefix}-{rng.randrange(10**7):07d}-{rng.randrange(10**7):07d}"


def _dates(rng: random.Random, year: int, count: int, today: dt.date) -> list[dt.date]:
    start = dt.date(year, 1, 1)
    end = min(dt.date(year, 12, 31), today)
    span = (end - start).days
    return [start + dt.timedelta(days=rng.randint(0, span)) for _ in range(count)]


def build_orders(account: AmazonAccount, rng: random.Random, today: dt.date) -> list[Order]:
    """The account's orders, newest first, over the current and two previous calendar years."""
    region = account.region
    cc = region.country_code
    with_pdfs = cc != "US"
    counts = {today.year - 2: rng.randint(5, 8), today.year - 1: rng.randint(21, 24), today.year: rng.randint(11, 14)}
    invoice_seq = rng.randrange(10**6, 10**7)
    orders: list[Order] = []
    for year, count in counts.items():
        for placed in _dates(rng, year, count, today):
            roll = rng.random()
            docs: list[Document] = []
            missing: str | None = None
            if roll < 0.12:
                title, price = rng.choice(_DIGITAL)
                seller, vat_id = _AMAZON_DIGITAL[cc]
                items = (Item(title, seller, 1, price),)
                order_id = _order_id(rng, "D01")
            else:
                order_id = _order_id(rng, rng.choice(region.order_prefixes))
                amazon, amazon_vat = _AMAZON[cc]
                picks = rng.sample(_PRODUCTS, rng.randint(1, 3))
                items = tuple(Item(t, amazon, rng.randint(1, 3), p) for t, p in picks)
                if roll < 0.45:  # a marketplace seller too
                    seller, seller_vat, code = rng.choice(_SELLERS[cc])
                    t, p = rng.choice(_PRODUCTS)
                    items += (Item(t, seller, 1, p + Decimal("1.50")),)
                    if roll > 0.37:
                        missing = seller
            sellers: list[str] = []
            for item in items:
                if item.seller not in sellers:
                    sellers.append(item.seller)
            if with_pdfs:
                for seller in sellers:
                    if seller == missing:
                        continue
                    lines = tuple(InvoiceLine(i.title, i.quantity, i.unit_price, region.vat_rate)
                                  for i in items if i.seller == seller)
                    invoice_seq += 1
                    vat_id, number = _seller_number(cc, seller, placed.year, invoice_seq)
                    docs.append(Document("invoice", len(docs) + 1, number, placed, seller, vat_id, lines))
                refund_day = placed + dt.timedelta(days=rng.randint(5, 20))
                if docs and rng.random() < 0.15 and refund_day <= today:
                    first = docs[0].lines[0]
                    invoice_seq += 1
                    docs.append(Document("credit_note", 1, f"CN-{cc}-{refund_day.year}-{invoice_seq:08d}",
                                         refund_day, docs[0].seller, docs[0].seller_vat,
                                         (InvoiceLine(f"Refund: {first.description}", 1, -first.unit_price,
                                                      first.vat_rate),)))
            all_lines = [InvoiceLine(i.title, i.quantity, i.unit_price, region.vat_rate) for i in items]
            total = invoice_totals(all_lines)[2]
            orders.append(Order(order_id, placed, items, total, tuple(docs), missing))
    orders.sort(key=lambda o: (o.placed, o.order_id), reverse=True)
    return orders


def _seller_number(cc: str, seller: str, year: int, seq: int) -> tuple[str, str]:
    for name, vat_id, code in _SELLERS[cc]:
        if name == seller:
            return vat_id, f"{code}-{year}-{seq % 100000:05d}"
    amazon = dict((_AMAZON[cc], _AMAZON_DIGITAL[cc]))
    return amazon.get(seller, ""), f"INV-{cc}-{year}-{seq:08d}"
