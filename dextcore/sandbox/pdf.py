"""A tiny, dependency-free PDF writer for the invoices the fake portals serve.

The output is a valid PDF 1.4 (catalog, page tree, Helvetica with
WinAnsiEncoding, one content stream per page, exact xref offsets) and is
byte-for-byte deterministic for the same invoice, so content-hash
deduplication can be exercised. pypdf opens it and extracts its text.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Sequence

import attrs

__all__ = ["InvoiceLine", "invoice_pdf", "invoice_totals", "simple_pdf"]

_CENT = Decimal("0.01")
_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
_LINES_PER_PAGE = 48


def _decimal(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


@attrs.frozen
class InvoiceLine:
    """One line of an invoice: ``quantity`` × ``unit_price`` (net) plus VAT at ``vat_rate`` (0.20 = 20 %)."""

    description: str
    quantity: int
    unit_price: Decimal = attrs.field(converter=_decimal)
    vat_rate: Decimal = attrs.field(default=Decimal("0.20"), converter=_decimal)

    @property
    def net(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(_CENT, ROUND_HALF_UP)

    @property
    def vat(self) -> Decimal:
        return (self.net * self.vat_rate).quantize(_CENT, ROUND_HALF_UP)


def invoice_totals(lines: Sequence[InvoiceLine]) -> tuple[Decimal, Decimal, Decimal]:
    """``(net, vat, total)`` of ``lines``, rounded per line as the PDF prints them."""
    net = sum((line.net for line in lines), Decimal("0.00"))
    vat = sum((line.vat for line in lines), Decimal("0.00"))
    return net, vat, net + vat


def _money(amount: Decimal, currency: str) -> str:
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {currency}"


def invoice_pdf(*, number: str, date: dt.date, seller: str, buyer: str, lines: Sequence[InvoiceLine],
                currency: str = "GBP", title: str = "Invoice", extra: Sequence[str] = ()) -> bytes:
    """Render an invoice as a small valid PDF.

    Its text holds the title, ``Invoice number: <number>``, the date
    (ISO and ``21 November 2026``), seller, buyer, every line, net, VAT and
    total in ``currency``; ``extra`` adds free lines (e.g. an account number).
    """
    if not lines:
        raise ValueError("an invoice needs at least one line")
    net, vat, total = invoice_totals(lines)
    text = [
        (18, title),
        (11, seller),
        (11, ""),
        (11, f"Invoice number: {number}"),
        (11, f"Invoice date: {date.isoformat()} ({date.day} {date:%B %Y})"),
        (11, f"Bill to: {buyer}"),
        *((11, line) for line in extra),
        (11, ""),
        (11, "Description | Qty | Unit price | VAT rate | Net"),
    ]
    for line in lines:
        text.append((10, f"{line.description} | {line.quantity} | {_money(line.unit_price, currency)} | "
                         f"{line.vat_rate * 100:.0f}% | {_money(line.net, currency)}"))
    text += [
        (11, ""),
        (11, f"Net: {_money(net, currency)}"),
        (11, f"VAT: {_money(vat, currency)}"),
        (12, f"Total: {_money(total, currency)} ({currency})"),
    ]
    return simple_pdf(text, title=f"{title} {number}", created=date)


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def simple_pdf(lines: Sequence[tuple[int, str]], *, title: str = "", created: dt.date | None = None) -> bytes:
    """A PDF of text lines ``(font size, text)`` on A4 pages, top to bottom."""
    pages = [list(lines[i:i + _LINES_PER_PAGE]) for i in range(0, max(len(lines), 1), _LINES_PER_PAGE)]
    objects: list[bytes] = []  # objects[i] is object number i + 1

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled once the page tree number is known
    tree = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids = []
    for page_lines in pages:
        ops = [b"BT", b"1 0 0 1 56 790 Tm"]
        for size, text in page_lines:
            ops.append(b"/F1 %d Tf 0 -%d Td (%s) Tj" % (size, size + 6, _escape(text)))
        ops.append(b"ET")
        stream = b"\n".join(ops)
        content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 %d 0 R >> >> "
                        b"/Contents %d 0 R >>" % (tree, font, content)))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    stamp = f"D:{created:%Y%m%d}000000Z" if created else "D:20000101000000Z"
    info = add(b"<< /Title (%s) /Producer (dextcore sandbox) /CreationDate (%s) >>" % (_escape(title), stamp.encode()))

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, catalog, info, xref)
    return bytes(out)
