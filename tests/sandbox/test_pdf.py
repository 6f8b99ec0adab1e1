"""invoice_pdf produces real PDFs that pypdf reads."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pypdf
import pytest

from dextcore.sandbox import InvoiceLine, invoice_pdf, invoice_totals

LINES = [InvoiceLine("Broadband (monthly)", 1, Decimal("32.00")), InvoiceLine("Calls", 3, Decimal("1.333"))]


def make(**overrides) -> bytes:
    args = dict(number="INV-2026-0042", date=dt.date(2026, 3, 9), seller="BT Business", buyer="Acme (UK) Ltd \\ HQ",
                lines=LINES)
    args.update(overrides)
    return invoice_pdf(**args)


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf), strict=True)
    return "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_opens_strictly_and_holds_the_invoice():
    pdf = make()
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    text = text_of(pdf)
    assert "Invoice number: INV-2026-0042" in text
    assert "2026-03-09" in text and "9 March 2026" in text
    assert "Acme (UK) Ltd \\ HQ" in text  # parentheses and backslash escaped
    assert "Net: £36.00" in text  # 32.00 + 3 x 1.333 = 4.00 (line rounded)
    assert "VAT: £7.20" in text and "Total: £43.20 (GBP)" in text
    assert pypdf.PdfReader(io.BytesIO(pdf)).metadata.title == "Invoice INV-2026-0042"


def test_totals_match_the_printed_ones():
    assert invoice_totals(LINES) == (Decimal("36.00"), Decimal("7.20"), Decimal("43.20"))


def test_pdf_is_deterministic_and_differs_per_invoice():
    assert make() == make()
    assert make() != make(number="INV-2026-0043")


def test_other_currency_and_extra_lines():
    text = text_of(make(currency="EUR", title="Rechnung", extra=("Kundennummer: 77",)))
    assert "Rechnung" in text and "€36.00" in text and "Kundennummer: 77" in text


def test_long_invoices_span_several_pages():
    lines = [InvoiceLine(f"Item {n}", 1, "1.00") for n in range(120)]
    reader = pypdf.PdfReader(io.BytesIO(make(lines=lines)), strict=True)
    assert len(reader.pages) == 3
    assert "Item 119" in reader.pages[2].extract_text()


def test_an_invoice_needs_lines():
    with pytest.raises(ValueError):
        make(lines=[])
