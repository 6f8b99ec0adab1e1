"""Seeded accounts and invoices of the Paperbox example portal.

Everything derives from the portal's seeded generator and the sandbox
clock's date, so the same portal seed gives the same invoices on every run.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Callable

import attrs

from dextcore.sandbox.pdf import InvoiceLine, invoice_pdf, invoice_totals

__all__ = ["CATALOGUE", "INVOICE_MONTHS", "PER_PAGE", "PaperboxAccount", "PaperboxInvoice", "SELLER",
           "invoice_pdf_for", "invoices_for", "seed_accounts"]

SELLER = "Paperbox Office Supplies Ltd, 12 Quill Street, Leeds LS1 4PX"
VAT_NUMBER = "GB 318 4420 17"
INVOICE_MONTHS = 27
"""A little over two years of monthly invoices, so a history date has something to cut."""
PER_PAGE = 12
"""Invoices per list page: 27 invoices make three pages (12, 12, 3)."""

CATALOGUE: tuple[tuple[str, Decimal], ...] = (
    ("A4 copier paper, box of 5 reams", Decimal("24.99")),
    ("Ballpoint pens, blue, box of 50", Decimal("8.49")),
    ("Lever arch files, pack of 10", Decimal("17.90")),
    ("Sticky notes 76x76 mm, 12 pads", Decimal("6.25")),
    ("Toner cartridge, black", Decimal("64.00")),
    ("Heavy-duty stapler", Decimal("21.50")),
    ("Staples 26/6, 5000", Decimal("2.80")),
    ("Whiteboard markers, 4 colours", Decimal("5.60")),
    ("Padded envelopes C4, 100", Decimal("31.00")),
    ("Desk organiser, mesh", Decimal("12.75")),
)


@attrs.frozen
class PaperboxAccount:
    """A customer login on the fake portal."""

    username: str
    password: str = attrs.field(repr=False)
    scenario: str
    description: str
    company: str
    email_code: bool = False
    """Sign-in asks for a 6-digit code e-mailed to :attr:`username`."""
    files_per_first_session: int | None = None
    """The first session of this account ends after serving this many files (``None``: never)."""
    invoices: bool = True
    """False: a new customer with no invoices yet."""


def seed_accounts() -> list[PaperboxAccount]:
    """The demo accounts, one per scenario."""
    return [
        PaperboxAccount("buyer@northwind.example", "Paper-Plane-42", "ok",
                        "Signs in with a password; 27 monthly invoices on three pages.", "Northwind Traders Ltd"),
        PaperboxAccount("finance@brightworks.example", "Staple-Remover-7", "email-code",
                        "Asks for a 6-digit code e-mailed to the account's address after the password.",
                        "Brightworks Studio", email_code=True),
        PaperboxAccount("ops@harbourcafe.example", "Ring-Binder-19", "short-session",
                        "Paperbox ends this account's first session after 5 downloads (the PDF link then "
                        "answers the sign-in page); the next sign-in lasts.", "Harbour Cafe",
                        files_per_first_session=5),
        PaperboxAccount("hello@freshstart.example", "Fresh-Start-1", "no-invoices",
                        "A new customer: the invoice list says there are no invoices yet.", "Fresh Start Ltd",
                        invoices=False),
    ]


@attrs.frozen
class PaperboxInvoice:
    """One monthly invoice of an account."""

    number: str
    date: dt.date
    lines: tuple[InvoiceLine, ...]

    @property
    def vat(self) -> Decimal:
        return invoice_totals(self.lines)[1]

    @property
    def total(self) -> Decimal:
        return invoice_totals(self.lines)[2]

    @property
    def filename(self) -> str:
        return f"Paperbox-{self.number}.pdf"


def invoices_for(account: PaperboxAccount, dates: list[dt.date],
                 rng: Callable[..., random.Random]) -> list[PaperboxInvoice]:
    """The invoices of ``account`` on ``dates`` (newest first), numbered ``PB<yymm>-<4 digits>``."""
    if not account.invoices:
        return []
    out = []
    for date in dates:
        r = rng(account.username, date.isoformat())
        items = r.sample(CATALOGUE, r.randint(1, 4))
        lines = tuple(InvoiceLine(name, r.randint(1, 10), price) for name, price in items)
        out.append(PaperboxInvoice(f"PB{date:%y%m}-{r.randint(1000, 9999)}", date, lines))
    return out


def invoice_pdf_for(invoice: PaperboxInvoice, account: PaperboxAccount) -> bytes:
    """The PDF of ``invoice`` (deterministic bytes)."""
    return invoice_pdf(number=invoice.number, date=invoice.date, seller=SELLER, buyer=account.company,
                       lines=invoice.lines, currency="GBP", title="Paperbox invoice",
                       extra=(f"Customer: {account.username}", f"VAT registration number: {VAT_NUMBER}"))
