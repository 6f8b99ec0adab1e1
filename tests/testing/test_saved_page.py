"""saved_page / load_page: saved files become the Scrapy responses parsers get in a crawl."""

from __future__ import annotations

from pathlib import Path

from scrapy.http import HtmlResponse, Response, TextResponse

from dextcore.sandbox import InvoiceLine, invoice_pdf
from dextcore.testing import load_page


def test_an_html_page_relative_to_the_test_file(saved_page):
    page = saved_page("pages/invoices.html", url="https://portal.example/invoices")
    assert isinstance(page, HtmlResponse)
    assert (page.url, page.status) == ("https://portal.example/invoices", 200)
    assert page.css("tr.invoice td.number::text").get() == "INV-7"
    assert page.css("td.total::text").get() == "£12.50"  # UTF-8 when nothing else is declared
    assert page.urljoin("7.pdf") == "https://portal.example/7.pdf"


def test_the_page_declared_encoding_wins(saved_page):
    assert saved_page("pages/latin1.html").css("#who::text").get() == "Café Müller"


def test_status_and_headers_are_kept(saved_page):
    page = saved_page("pages/invoices.html", status=404, headers={"Content-Type": "text/html; charset=utf-8",
                                                                 "X-Portal": "v2"})
    assert page.status == 404 and page.headers["X-Portal"] == b"v2"
    assert page.encoding == "utf-8"


def test_json_is_a_text_response(saved_page):
    page = saved_page("pages/invoices.json")
    assert isinstance(page, TextResponse) and not isinstance(page, HtmlResponse)
    assert page.json() == {"invoices": [{"number": "INV-7"}]}


def test_a_pdf_is_a_plain_response(tmp_path: Path):
    import datetime as dt

    pdf = tmp_path / "bill.pdf"
    pdf.write_bytes(invoice_pdf(number="INV-7", date=dt.date(2026, 1, 5), seller="S", buyer="B",
                                lines=[InvoiceLine("Line", 1, "1.00")]))
    page = load_page(pdf)  # absolute paths work without the fixture too
    assert type(page) is Response
    assert page.body.startswith(b"%PDF-")
