"""A tiny portal and HTTP helpers for the sandbox machinery tests (stdlib clients over real sockets)."""

from __future__ import annotations

import datetime as dt
import http.client
from typing import Iterator
from urllib.parse import urlsplit

import pytest
from aiohttp import web

from dextcore.sandbox import InvoiceLine, SandboxPortal, SandboxServer, invoice_pdf


class EchoPortal(SandboxPortal):
    """Answers a fixed page (whose markup follows ``faults.redesign``), a login and a PDF."""

    name = "echo"
    connector = "echo"
    BODY = "<html><body>" + "<p>hello sandbox</p>" * 50 + "</body></html>"

    def build_app(self) -> web.Application:
        app = super().build_app()
        app.router.add_get("/page", self._page)
        app.router.add_post("/login", self._login)
        app.router.add_get("/invoice.pdf", self._pdf)
        app.router.add_get("/health", self._page)
        return app

    def variant_base_url(self, root: str, variant: str | None) -> str:
        return f"{root}/www.echo.{variant or 'com'}"

    async def _page(self, request: web.Request) -> web.Response:
        body = self.BODY.replace("<p>", '<p class="v2">') if self.faults.redesign else self.BODY
        return web.Response(text=body, content_type="text/html")

    async def _login(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.record("login", username=form.get("user"))
        self.send_code(str(form.get("phone", "+440000")), template="code {code}")
        return web.Response(text="ok")

    async def _pdf(self, request: web.Request) -> web.Response:
        pdf = invoice_pdf(number="E-1", date=dt.date(2026, 1, 5), seller="Echo", buyer="Me",
                          lines=[InvoiceLine("Thing", 1, "10.00")])
        return web.Response(body=pdf, content_type="application/pdf")


@pytest.fixture
def portal() -> EchoPortal:
    return EchoPortal()


@pytest.fixture
def server(portal: EchoPortal) -> Iterator[SandboxServer]:
    with SandboxServer([portal]) as running:
        yield running


def request(url: str, method: str = "GET", body: bytes | None = None, timeout: float = 5,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection; returns status, headers, body (raises on transport faults)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body,
                     headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()
