"""A test plugin for the ACME test portal: the four portal hooks, page knowledge only."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any, AsyncIterator

from dextcore.hookspecs import hookimpl
from dextcore.portal import PortalSession
from dextcore.outcomes import IncorrectCode, IncorrectCredentials, LayoutChanged, TwoFactorRequired
from dextcore.records import (
    Challenge,
    Connector,
    ConnectorKind,
    CredentialField,
    DocumentRef,
    Downloaded,
    FieldType,
    TwoFactorMedium,
    Variant,
)

CONNECTOR = Connector(
    name="acme_test",
    label="ACME Supplies (test)",
    kind=ConnectorKind.SUPPLIER,
    implementation=sys.modules[__name__],
    variants=(Variant("com", "ACME (acme.example)", "https://www.acme.example", default=True),),
    fields=(CredentialField("totp_secret", "Authenticator secret", FieldType.TOTP_SECRET, secret=True),),
    allowed_domains=("acme.example",),
    two_factor=(TwoFactorMedium.APP, TwoFactorMedium.SMS),
    max_concurrency=64,
)


@hookimpl
def register_connectors() -> list[Connector]:
    return [CONNECTOR]


def _logged_in(response: Any) -> bool:
    return bool(response.css("h1#welcome"))


@hookimpl
async def authenticate(session: Any) -> None:
    assert isinstance(session, PortalSession)  # the core's session honours the documented protocol
    home = await session.get("/account")
    if _logged_in(home):
        return
    page = await session.get("/login")
    result = await session.submit_form(page, css="form#login",
                                       data={"username": session.username, "password": session.secret("password")})
    if result.css(".error") and "Incorrect" in result.text:
        raise IncorrectCredentials("The portal rejected the username or password.")
    form = result.css("form#otp")
    if form:
        session.state["otp_page"] = result
        medium = TwoFactorMedium(form.attrib.get("data-medium", "sms"))
        raise TwoFactorRequired(Challenge(medium=medium, prompt=form.css("label::text").get("") or "Enter the code"))
    if not _logged_in(result):
        raise LayoutChanged("the page after signing in", page=result)


@hookimpl
async def handle_2fa(session: Any, challenge: Challenge, code: str | None) -> None:
    page = session.state["otp_page"]
    result = await session.submit_form(page, css="form#otp", data={"code": code or "", "remember": "1"})
    if result.css("form#otp"):
        session.state["otp_page"] = result
        raise IncorrectCode("The portal refused the code.", challenge=challenge)
    if not _logged_in(result):
        raise LayoutChanged("the page after the code", page=result)


@hookimpl
async def list_documents(session: Any, since: dt.date | None) -> AsyncIterator[DocumentRef]:
    url: str | None = "/invoices"
    while url:
        page = await session.get(url)
        table = page.css("table#invoices")
        if not table:
            raise LayoutChanged("the invoice list", page=page)
        for row in table.css("tr.invoice"):
            date = dt.date.fromisoformat(row.attrib["data-date"])  # a redesign that drops it is a bug here
            if since is not None and date < since:
                continue
            number = row.attrib["data-number"]
            yield DocumentRef(stable_id=f"invoice:{number}", number=number, date=date,
                              total=row.attrib["data-total"], currency=row.attrib["data-currency"],
                              supplier="ACME Supplies Ltd", url=page.urljoin(row.css("a.pdf::attr(href)").get()))
        url = page.css("a.next::attr(href)").get()


@hookimpl
async def download(session: Any, document: DocumentRef) -> Downloaded:
    response = await session.get(document.url)
    return Downloaded(body=response.body, filename=f"{document.number}.pdf",
                      content_type=response.headers.get("Content-Type", b"").decode())
