"""A browser test plugin for the ACME single-page app, whose sign-in lives in
``localStorage``: what only a saved browser storage state carries to the next run."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any, AsyncIterator

from dextcore.hookspecs import hookimpl
from dextcore.outcomes import IncorrectCredentials
from dextcore.records import Connector, ConnectorKind, DocumentRef, Downloaded, Variant

CONNECTOR = Connector(
    name="acme_spa",
    label="ACME Supplies app (browser test)",
    kind=ConnectorKind.SUPPLIER,
    implementation=sys.modules[__name__],
    variants=(Variant("com", "ACME (acme.example)", "https://www.acme.example", default=True),),
    allowed_domains=("acme.example",),
    uses_browser=True,
)

SIGNED_IN_OR_FORM = "h1#welcome, form#login"


@hookimpl
def register_connectors() -> list[Connector]:
    return [CONNECTOR]


@hookimpl
async def authenticate(session: Any) -> None:
    page = await session.browser_page("/app")
    try:
        await page.wait_for_selector(SIGNED_IN_OR_FORM)
        if await page.query_selector("h1#welcome"):
            return
        await page.fill("form#login input[name=username]", session.username)
        await page.fill("form#login input[name=password]", session.secret("password"))
        await page.click("form#login button")
        await page.wait_for_selector("h1#welcome, .error")
        if await page.query_selector(".error"):
            raise IncorrectCredentials("The portal rejected the username or password.")
    finally:
        await page.close()


@hookimpl
async def list_documents(session: Any, since: dt.date | None) -> AsyncIterator[DocumentRef]:
    return
    yield  # an async generator with nothing to list: the test is about signing in


@hookimpl
async def download(session: Any, document: DocumentRef) -> Downloaded:
    raise AssertionError("nothing is listed")
