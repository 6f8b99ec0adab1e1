"""A browser-based test plugin for the ACME portal: logs in with Chromium
(scrapy-playwright) and prints HTML invoices to PDF."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any, AsyncIterator

from parsel import Selector
from scrapy.http import HtmlResponse

from dextcore.hookspecs import hookimpl
from dextcore.outcomes import IncorrectCredentials, LayoutChanged
from dextcore.records import Connector, ConnectorKind, DocumentRef, Downloaded, Variant

CONNECTOR = Connector(
    name="acme_browser",
    label="ACME Supplies (browser test)",
    kind=ConnectorKind.SUPPLIER,
    implementation=sys.modules[__name__],
    variants=(Variant("com", "ACME (acme.example)", "https://www.acme.example", default=True),),
    allowed_domains=("acme.example",),
    uses_browser=True,
    max_concurrency=2,
)


@hookimpl
def register_connectors() -> list[Connector]:
    return [CONNECTOR]


@hookimpl
async def authenticate(session: Any) -> None:
    page = await session.browser_page("/account")
    try:
        if await page.query_selector("h1#welcome"):
            return
        await page.goto(session.url("/login"))
        await page.fill("form#login input[name=username]", session.username)
        await page.fill("form#login input[name=password]", session.secret("password"))
        async with page.expect_navigation():
            await page.click("form#login button")
        if await page.query_selector(".error"):
            raise IncorrectCredentials("The portal rejected the username or password.")
        if not await page.query_selector("h1#welcome"):
            raise LayoutChanged("the page after signing in")
    finally:
        await page.close()


@hookimpl
async def list_documents(session: Any, since: dt.date | None) -> AsyncIterator[DocumentRef]:
    page = await session.browser_page("/invoices")
    try:
        html = await page.content()
    finally:
        await page.close()
    for row in Selector(text=html).css("tr.invoice"):
        number = row.attrib["data-number"]
        yield DocumentRef(stable_id=f"invoice:{number}", number=number,
                          date=dt.date.fromisoformat(row.attrib["data-date"]),
                          url=f"/invoices/{number}.html")


@hookimpl
async def download(session: Any, document: DocumentRef) -> Downloaded:
    page = await session.browser_page(document.url)
    try:
        html, url = await page.content(), page.url
    finally:
        await page.close()
    pdf = await session.print_pdf(HtmlResponse(url=url, body=html, encoding="utf-8"))
    return Downloaded(body=pdf, filename=f"{document.number}.pdf", content_type="application/pdf")
