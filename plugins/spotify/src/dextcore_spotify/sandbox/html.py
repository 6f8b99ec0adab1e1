"""HTML of the Spotify sandbox.

The login, challenge and account pages are *shells*: the server sends an
empty mount point, a JSON blob and a script; the browser builds the form or
the receipts table. Only the receipt page (printable, no PDF needed) and the
small home page are rendered on the server.
"""

from __future__ import annotations

import html
import json
from typing import Any

from dextcore_spotify.sandbox.data import Receipt

__all__ = ["app_shell", "home_page", "next_page", "receipt_page", "simple_page"]


def _json_script(element_id: str, data: Any) -> str:
    # "</" must not end the script element early.
    body = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return f'<script id="{element_id}" type="application/json">{body}</script>'


def _document(title: str, body: str, *, lang: str = "en") -> str:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body>{body}</body></html>"
    )


def app_shell(*, title: str, bootstrap: dict[str, Any], script: str) -> str:
    """A page of the accounts/challenge apps: ``div#root`` filled by ``script``."""
    body = (
        '<div id="root"><noscript>You need to enable JavaScript to run this app.</noscript></div>'
        + _json_script("bootstrap-data", bootstrap)
        + f'<script src="{html.escape(script)}"></script>'
    )
    return _document(title, body)


def next_page(*, title: str, next_data: dict[str, Any], script: str, lang: str) -> str:
    """A Next.js-like page of www.spotify.com: ``div#__next`` plus ``script#__NEXT_DATA__``."""
    body = (
        '<div id="__next"></div>'
        + _json_script("__NEXT_DATA__", next_data)
        + f'<script src="{html.escape(script)}"></script>'
    )
    return _document(title, body, lang=lang)


def home_page(*, country: str, login_url: str) -> str:
    """www.spotify.com/<cc>/ for a visitor: the header's "Log in" link leads to accounts.spotify.com."""
    body = (
        f'<header><a href="/www.spotify.com/{country}/">Spotify</a>'
        f'<a data-testid="login-button" href="{html.escape(login_url)}">Log in</a></header>'
        "<main><h1>Listening is everything</h1></main>"
    )
    return _document("Spotify - Web Player: Music for everyone", body)


def receipt_page(receipt: Receipt, *, buyer: str, pdf_url: str | None, redesign: bool) -> str:
    """The printable receipt page every invoice row links to."""
    c = receipt.country
    vat = receipt.gross - receipt.net
    rows = [
        ("Receipt number", receipt.id),
        ("Date", receipt.formatted_sold_at),
        ("Billed to", buyer),
        ("Product", receipt.product),
        ("Payment method", receipt.payment_method),
        ("Subtotal", c.format_amount(receipt.net)),
        (f"VAT ({receipt.country.vat_rate * 100:.0f}%)", c.format_amount(vat)),
        ("Total", receipt.formatted_amount),
    ]
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    download = (
        f'<a data-testid="download-original-receipt" href="{html.escape(pdf_url)}">Download original receipt</a>'
        if pdf_url else '<p data-testid="no-original-receipt">No original receipt is available for this payment.</p>'
    )
    testid = "receipt-details" if redesign else "receipt"
    body = (
        f'<article data-testid="{testid}" data-receipt-id="{html.escape(receipt.id)}">'
        f"<h1>Spotify receipt</h1><p>Spotify AB, Regeringsgatan 19, 111 53 Stockholm, Sweden</p>"
        f"<table>{cells}</table>{download}</article>"
    )
    return _document(f"Receipt {receipt.id} - Spotify", body, lang=c.locale)


def simple_page(title: str, text: str) -> str:
    """A plain page (the fake Google sign-in, error pages)."""
    return _document(title, f"<main><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></main>")
