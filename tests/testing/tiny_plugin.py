"""A tiny supplier plugin with its own sandbox portal, for the kit's own tests (never installed).

The portal speaks JSON (``POST /login`` with form fields ``user`` and
``password``; ``GET /documents``; ``GET /documents/{number}.pdf``) so the
plugin stays a few lines; a wrong password answers 200 with
``{"error": "wrong password"}``.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sys
from typing import Any, AsyncIterator

from aiohttp import web

from dextcore.hookspecs import hookimpl
from dextcore.outcomes import IncorrectCredentials
from dextcore.records import Connector, ConnectorKind, DocumentRef, Downloaded, Variant
from dextcore.sandbox import DemoAccount, InvoiceLine, SandboxPortal, invoice_pdf

USERNAME, PASSWORD = "ann@tiny.example", "tiny-pass-1"
NUMBERS = ("T-1001", "T-1002", "T-1003")


@hookimpl
def register_connectors() -> list[Connector]:
    return [Connector(name="tiny", label="Tiny", kind=ConnectorKind.SUPPLIER, implementation=sys.modules[__name__],
                      variants=(Variant("main", "Tiny (tiny.example)", "https://tiny.example", default=True),),
                      allowed_domains=("tiny.example",))]


@hookimpl
def register_sandbox_portals() -> list[type]:
    return [TinyPortal]


@hookimpl
async def authenticate(session: Any) -> None:
    answer = await session.post("/login", data={"user": session.username, "password": session.secret("password")})
    if answer.json().get("error"):
        raise IncorrectCredentials("Tiny refused the password.")


@hookimpl
async def list_documents(session: Any, since: dt.date | None) -> AsyncIterator[DocumentRef]:
    for row in (await session.get("/documents")).json():
        yield DocumentRef(stable_id=row["number"], number=row["number"], date=dt.date.fromisoformat(row["date"]),
                          currency="GBP", supplier="Tiny", url=row["pdf"])


@hookimpl
async def download(session: Any, document: DocumentRef) -> Downloaded:
    answer = await session.get(document.url)
    return Downloaded(body=answer.body, filename=f"{document.number}.pdf", content_type="application/pdf")


class TinyPortal(SandboxPortal):
    """Three invoices for one account; the session cookie is ``tiny``."""

    name = "tiny"
    connector = "tiny"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sessions: set[str] = set()

    def demo_accounts(self) -> list[DemoAccount]:
        return [DemoAccount(connector="tiny", variant="main", username=USERNAME, password=PASSWORD, scenario="ok",
                            description="Three invoices.")]

    def build_app(self) -> web.Application:
        app = super().build_app()
        app.router.add_post("/login", self.login)
        app.router.add_get("/documents", self.documents)
        app.router.add_get("/documents/{number}.pdf", self.pdf)
        return app

    async def login(self, request: web.Request) -> web.Response:
        form = await request.post()
        if (form.get("user"), form.get("password")) != (USERNAME, PASSWORD):
            self.record("login_failed", username=str(form.get("user")))
            return web.json_response({"error": "wrong password"})
        sid = secrets.token_urlsafe(8)
        self.sessions.add(sid)
        self.record("login", username=USERNAME)
        response = web.json_response({"ok": True})
        response.set_cookie("tiny", sid)
        return response

    def _signed_in(self, request: web.Request) -> None:
        if request.cookies.get("tiny") not in self.sessions:
            raise web.HTTPForbidden()

    async def documents(self, request: web.Request) -> web.Response:
        self._signed_in(request)
        return web.json_response([{"number": n, "date": f"2026-0{i + 1}-01", "pdf": f"/documents/{n}.pdf"}
                                  for i, n in enumerate(NUMBERS)])

    async def pdf(self, request: web.Request) -> web.Response:
        self._signed_in(request)
        number = request.match_info["number"]
        body = invoice_pdf(number=number, date=dt.date(2026, 1, 1), seller="Tiny", buyer=USERNAME,
                           lines=[InvoiceLine("Widget", 1, "10.00")])
        return web.Response(body=body, content_type="application/pdf")
