"""Seeded accounts and bills of the fake BT portal (see :mod:`dextcore_bt_business.sandbox`)."""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from decimal import Decimal
from typing import Callable

import attrs

from dextcore.sandbox import InvoiceLine, invoice_pdf, invoice_totals

__all__ = ["BTAccount", "Bill", "bills_for", "bill_pdf", "bills_zip", "seed_accounts", "SELLER"]

SELLER = "BT Business, British Telecommunications plc, 1 Braham Street, London E1 8EE"
VAT_NUMBER = "GB 245 7193 48"
BILL_MONTHS = 27  # a little over two years, so history-date filters have something to cut
BUSINESS, CONSUMER = "business", "consumer"


@attrs.define
class BTAccount:
    """A login on the fake portal. Mutable: a completed password change updates ``password``."""

    username: str
    password: str = attrs.field(repr=False)
    variant: str  # "business" (secure.business.bt.com) or "consumer" (home.bt.com)
    scenario: str
    description: str
    company: str
    billing_accounts: tuple[str, ...]
    phone: str | None = None
    backup_email: str | None = None
    mfa: bool = False
    interruption: str | None = None  # "change-password" | "update-contact"
    captcha: bool = False


def seed_accounts() -> list[BTAccount]:
    """The demo accounts, one per scenario (fresh objects: each portal may mutate its own)."""
    return [
        BTAccount("accounts@acme-trading.example", "Acme-Sandbox-2024", BUSINESS, "ok",
                  "Logs in straight to My Account; one billing account.", "Acme Trading Ltd",
                  ("GP10293847",)),
        BTAccount("finance@brightsparks.example", "Bright-Sparks-77", BUSINESS, "sms",
                  "Asks for a one-time code sent by text (or to the backup e-mail); "
                  "'remember this device' skips it next time.", "Bright Sparks Electrical Ltd",
                  ("GP55667788",), phone="+447700900123", backup_email="backup@brightsparks.example", mfa=True),
        BTAccount("office@oldmill.example", "Old-Mill-Pass-1", BUSINESS, "change-password",
                  "Password expired: /ChangePassword.do must be completed by a person.", "Old Mill Bakery",
                  ("GP20406080",), interruption="change-password"),
        BTAccount("admin@harbourlights.example", "Harbour-Lights-9", BUSINESS, "update-contact",
                  "Asked to confirm contact details at /Intercept/UpdateContact before My Account.",
                  "Harbour Lights Cafe", ("GP31415926",), interruption="update-contact"),
        BTAccount("it@quickfix.example", "Quick-Fix-Robot-3", BUSINESS, "captcha",
                  "The password page carries a reCAPTCHA that cannot be passed automatically.",
                  "QuickFix Repairs", ("GP27182818",), captcha=True),
        BTAccount("ap@northwind-group.example", "Northwind-Multi-5", BUSINESS, "multi-account",
                  "Three billing accounts behind the #multiAccountsDiv selector.", "Northwind Group plc",
                  ("GP70000001", "GP70000002", "GP70000003")),
        BTAccount("jane.smith@homemail.example", "Jane-Home-Pass-8", CONSUMER, "wrong-variant",
                  "A BT consumer (home.bt.com) login: it fails on the business portal, works on the consumer one.",
                  "Jane Smith", ("BT44556677",)),
    ]


@attrs.frozen
class Bill:
    """One monthly bill of a billing account."""

    account_number: str
    invoice_number: str
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
        return f"BT_Bill_{self.account_number}_{self.invoice_number}.pdf"


def bills_for(account_number: str, today: dt.date, rng: Callable[..., random.Random]) -> list[Bill]:
    """The bills of ``account_number``, newest first, monthly over :data:`BILL_MONTHS` months up to ``today``.

    Everything (bill day, numbers, amounts) derives from ``rng(account, ...)``
    so the same seed always yields the same bills.
    """
    day = rng(account_number, "bill-day").randint(1, 28)
    year, month = today.year, today.month
    if today.day < day:
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    bills = []
    for _ in range(BILL_MONTHS):
        date = dt.date(year, month, day)
        r = rng(account_number, date.isoformat())
        lines = [
            InvoiceLine("Business Broadband and Phone (monthly)", 1, Decimal(r.choice((3200, 3850, 4500))) / 100),
            InvoiceLine("Call charges", 1, Decimal(r.randint(120, 2400)) / 100),
        ]
        if r.random() < 0.3:
            lines.append(InvoiceLine("Mobile add-on", r.randint(1, 3), Decimal("12.50")))
        bills.append(Bill(account_number, f"MB{r.randrange(10**8, 10**9)}", date, tuple(lines)))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return bills


def bill_pdf(bill: Bill, company: str) -> bytes:
    """The PDF of a bill (deterministic bytes)."""
    return invoice_pdf(number=bill.invoice_number, date=bill.date, seller=SELLER, buyer=company,
                       lines=bill.lines, currency="GBP", title="Your BT bill",
                       extra=(f"Account number: {bill.account_number}", f"VAT registration number: {VAT_NUMBER}"))


def bills_zip(bills: list[Bill], company: str) -> bytes:
    """A ZIP of the PDFs of ``bills`` (entries dated by bill date, so the bytes are deterministic)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for bill in bills:
            info = zipfile.ZipInfo(bill.filename, date_time=(bill.date.year, bill.date.month, bill.date.day, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, bill_pdf(bill, company))
    return buffer.getvalue()
