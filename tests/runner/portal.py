"""A small generic supplier portal for the runner's tests ("ACME Supplies").

Not modelled on a real site (the runner must be portal-agnostic), so its
flows are chosen here:

* ``GET /login`` — an HTML form ``form#login`` (``username``, ``password``,
  hidden ``csrf``). ``POST /login`` answers "Incorrect username or
  password." on the form page, or redirects (303) to ``/2fa`` when the
  account has a second factor and the browser does not carry a
  remember-device cookie, else to ``/account``.
* ``GET /2fa`` — ``form#otp`` (``code``, checkbox ``remember``), with
  ``data-medium`` ``app`` (TOTP) or ``sms`` (a fresh code is texted to the
  account's phone through the sandbox mailbox at each login). A wrong code
  re-renders the form with "Wrong code."; a right one signs in and, with
  ``remember``, sets a long-lived ``device`` cookie.
* ``GET /account`` — the signed-in home (``h1#welcome``), or a 302 to
  ``/login``. The session cookie ``sid`` lives until the portal restarts.
* ``GET /invoices?page=N`` — ``table#invoices`` with ``tr.invoice`` rows
  (``data-number``, ``data-date``, ``data-total``, ``data-currency``) and a
  link to ``/invoices/<number>.pdf``; ``a.next`` points to the next page
  (10 rows a page), newest first; ``/invoices/<number>.html`` is the
  printable HTML view of an invoice.
* Account scenarios: ``ok``, ``totp``, ``sms``, ``redesign`` (the invoice
  table lost its ``data-date`` attributes: a parser bug waiting to happen),
  ``redirect-post`` (the login form posts to a host outside the portal
  with a 307, which keeps method and body — the password),
  ``redirect-get`` (after login, a 302 to a foreign host).
* ``GET /app`` — a single-page app that keeps its sign-in in
  ``localStorage`` (``acme_token``), not in a cookie: its script asks
  ``GET /api/me`` (``Authorization: Bearer``) and draws ``h1#welcome``, or
  ``form#login``, whose submit posts JSON to ``POST /api/token`` and stores
  the token it gets back (each token issued is a ``login`` event).
"""

from __future__ import annotations

import asyncio

import datetime as dt
import secrets as pysecrets
import threading
from decimal import Decimal
from typing import Any

import attrs
import pyotp
from aiohttp import web

from dextcore.sandbox import InvoiceLine, SandboxPortal, invoice_pdf

PAGE_SIZE = 10


@attrs.define
class Account:
    username: str
    password: str
    scenario: str = "ok"
    documents: int = 3
    totp_secret: str | None = None
    phone: str | None = None
    foreign_url: str | None = None


def _html(body: str, status: int = 200) -> web.Response:
    return web.Response(text=f"<!doctype html><html><body>{body}</body></html>", content_type="text/html",
                        status=status)


class AcmePortal(SandboxPortal):
    """The portal; add accounts with :meth:`add_account` before or while serving."""

    name = "acme"
    connector = "acme_test"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.accounts: dict[str, Account] = {}
        self.sessions: dict[str, str] = {}
        self.devices: dict[str, str] = {}
        self.pending: dict[str, tuple[str, str | None]] = {}  # pre-2FA token -> (username, sms code)
        self._lock = threading.Lock()
        self.served: dict[str, int] = {}
        self.on_pdf: Any = None
        """Optional callable(count_served) run on the server thread after each PDF (tests' trigger)."""
        self.pdf_seconds = 0.0
        """How long each PDF takes to produce (on top of the portal's latency)."""
        self.pdfs_in_flight: dict[str, int] = {}
        self.pdfs_peak: dict[str, int] = {}
        """Per account: the most PDF requests it had open at once."""

    def add_account(self, account: Account) -> Account:
        with self._lock:
            self.accounts[account.username] = account
        return account

    # -- data --------------------------------------------------------------------

    def invoices(self, account: Account) -> list[dict[str, Any]]:
        today = self.clock.today()
        out = []
        for i in range(account.documents):
            date = today - dt.timedelta(days=7 * i)
            number = f"{account.username.split('@')[0].upper()}-{i + 1:05d}"
            out.append({"number": number, "date": date, "total": Decimal(10 + i) + Decimal("0.50"),
                        "currency": "GBP"})
        return out

    def pdf(self, account: Account, invoice: dict[str, Any]) -> bytes:
        return invoice_pdf(number=invoice["number"], date=invoice["date"], seller="ACME Supplies Ltd",
                           buyer=account.username, lines=[InvoiceLine("Widgets", 1, invoice["total"], 0)])

    # -- app -----------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = super().build_app()
        app.router.add_get("/login", self.login_form)
        app.router.add_post("/login", self.login)
        app.router.add_get("/2fa", self.otp_form)
        app.router.add_post("/2fa", self.otp)
        app.router.add_get("/account", self.account)
        app.router.add_get("/invoices", self.invoice_list)
        app.router.add_get("/invoices/{number}.pdf", self.invoice_pdf)
        app.router.add_get("/invoices/{number}.html", self.invoice_html)
        app.router.add_get("/app", self.spa)
        app.router.add_post("/api/token", self.api_token)
        app.router.add_get("/api/me", self.api_me)
        return app

    def _user(self, request: web.Request) -> Account | None:
        sid = request.cookies.get("sid")
        with self._lock:
            name = self.sessions.get(sid or "")
            return self.accounts.get(name) if name else None

    # -- the single-page app (sign-in kept in localStorage) -------------------------

    async def spa(self, request: web.Request) -> web.Response:
        return web.Response(content_type="text/html", text=_SPA)

    async def api_token(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._lock:
            account = self.accounts.get(str(body.get("username", "")))
        if account is None or account.password != body.get("password"):
            self.record("login_failed", username=str(body.get("username", "")))
            return web.json_response({"error": "Incorrect username or password."}, status=401)
        token = pysecrets.token_hex(16)
        with self._lock:
            self.sessions["api:" + token] = account.username
        self.record("login", username=account.username)
        return web.json_response({"token": token})

    async def api_me(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        with self._lock:
            name = self.sessions.get("api:" + token)
        if not name:
            return web.json_response({"error": "unauthorized"}, status=401)
        return web.json_response({"username": name})

    async def login_form(self, request: web.Request) -> web.Response:
        return _html('<h1>Sign in to ACME</h1><form id="login" method="post" action="/login">'
                     f'<input type="hidden" name="csrf" value="{pysecrets.token_hex(8)}">'
                     '<input name="username"><input type="password" name="password">'
                     '<button type="submit">Sign in</button></form>')

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        with self._lock:
            account = self.accounts.get(username)
        if account is None or account.password != password or not form.get("csrf"):
            self.record("login_failed", username=username)
            return _html('<p class="error">Incorrect username or password.</p>'
                         '<form id="login" method="post" action="/login"><input name="username">'
                         '<input type="password" name="password"></form>')
        if account.scenario == "redirect-post" and account.foreign_url:
            self.record("redirected", to=account.foreign_url)
            raise web.HTTPTemporaryRedirect(account.foreign_url)  # 307: the client re-posts the body
        device = request.cookies.get("device")
        with self._lock:
            remembered = device is not None and self.devices.get(device) == username
        if account.scenario in ("totp", "sms") and not remembered:
            token = pysecrets.token_hex(16)
            code = None
            if account.scenario == "sms":
                code = self.send_code(account.phone or username, template="ACME code: {code}")
            with self._lock:
                self.pending[token] = (username, code)
            response = web.HTTPSeeOther("/2fa")
            response.set_cookie("pre", token)
            raise response
        raise self._signed_in(account, "/account")

    def _signed_in(self, account: Account, location: str) -> web.HTTPSeeOther:
        sid = pysecrets.token_hex(16)
        with self._lock:
            self.sessions[sid] = account.username
        self.record("login", username=account.username)
        if account.scenario == "redirect-get" and account.foreign_url:
            location = account.foreign_url
        response = web.HTTPSeeOther(location)
        response.set_cookie("sid", sid)
        return response

    async def otp_form(self, request: web.Request) -> web.Response:
        with self._lock:
            pending = self.pending.get(request.cookies.get("pre", ""))
            account = self.accounts.get(pending[0]) if pending else None
        if account is None:
            raise web.HTTPFound("/login")
        medium = "sms" if account.scenario == "sms" else "app"
        prompt = "Enter the code we texted you" if medium == "sms" else "Enter the code from your authenticator app"
        return _html(f'<form id="otp" method="post" action="/2fa" data-medium="{medium}"><label>{prompt}</label>'
                     '<input name="code"><input type="checkbox" name="remember" value="1">'
                     '<button type="submit">Verify</button></form>')

    async def otp(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        token = request.cookies.get("pre", "")
        with self._lock:
            pending = self.pending.get(token)
            account = self.accounts.get(pending[0]) if pending else None
        if account is None or pending is None:
            raise web.HTTPFound("/login")
        code = str(form.get("code", ""))
        if account.scenario == "sms":
            good = code == pending[1]
        else:
            good = pyotp.TOTP(account.totp_secret or "").verify(code, valid_window=1)
        if not good:
            self.record("code_refused", username=account.username)
            return _html('<p class="error">Wrong code.</p><form id="otp" method="post" action="/2fa" '
                         f'data-medium="{account.scenario}"><input name="code">'
                         '<input type="checkbox" name="remember" value="1"></form>')
        with self._lock:
            self.pending.pop(token, None)
        response = self._signed_in(account, "/account")
        if form.get("remember"):
            device = pysecrets.token_hex(16)
            with self._lock:
                self.devices[device] = account.username
            response.set_cookie("device", device, max_age=90 * 86400)
        raise response

    async def account(self, request: web.Request) -> web.Response:
        account = self._user(request)
        if account is None:
            raise web.HTTPFound("/login")
        return _html(f'<h1 id="welcome">Welcome {account.username}</h1><a href="/invoices">Invoices</a>')

    async def invoice_list(self, request: web.Request) -> web.Response:
        account = self._user(request)
        if account is None:
            raise web.HTTPFound("/login")
        page = int(request.query.get("page", "1"))
        invoices = self.invoices(account)
        chunk = invoices[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        rows = []
        for inv in chunk:
            date_attr = "" if account.scenario == "redesign" else f' data-date="{inv["date"].isoformat()}"'
            rows.append(f'<tr class="invoice" data-number="{inv["number"]}"{date_attr} data-total="{inv["total"]}"'
                        f' data-currency="{inv["currency"]}"><td>{inv["number"]}</td>'
                        f'<td><a class="pdf" href="/invoices/{inv["number"]}.pdf">PDF</a></td></tr>')
        more = f'<a class="next" href="/invoices?page={page + 1}">Next</a>' if page * PAGE_SIZE < len(invoices) else ""
        return _html(f'<table id="invoices">{"".join(rows)}</table>{more}')

    async def invoice_pdf(self, request: web.Request) -> web.Response:
        account = self._user(request)
        if account is None:
            raise web.HTTPFound("/login")
        number = request.match_info["number"]
        with self._lock:
            open_now = self.pdfs_in_flight[account.username] = self.pdfs_in_flight.get(account.username, 0) + 1
            self.pdfs_peak[account.username] = max(self.pdfs_peak.get(account.username, 0), open_now)
        try:
            if self.pdf_seconds:
                await asyncio.sleep(self.pdf_seconds)
        finally:
            with self._lock:
                self.pdfs_in_flight[account.username] -= 1
        for inv in self.invoices(account):
            if inv["number"] == number:
                body = self.pdf(account, inv)
                with self._lock:
                    self.served[number] = self.served.get(number, 0) + 1
                    total = sum(self.served.values())
                if self.on_pdf is not None:
                    self.on_pdf(total)
                return web.Response(body=body, content_type="application/pdf",
                                    headers={"Content-Disposition": f'attachment; filename="{number}.pdf"'})
        raise web.HTTPNotFound()


    async def invoice_html(self, request: web.Request) -> web.Response:
        """The printable (HTML-only) view of an invoice, for browser-based connectors."""
        account = self._user(request)
        if account is None:
            raise web.HTTPFound("/login")
        number = request.match_info["number"]
        for inv in self.invoices(account):
            if inv["number"] == number:
                return _html(f'<h1 class="invoice">Invoice {number}</h1><p>Date {inv["date"].isoformat()}</p>'
                             f'<p>Total {inv["total"]} {inv["currency"]}</p><p>Billed to {account.username}</p>')
        raise web.HTTPNotFound()


class ForeignSite(SandboxPortal):
    """A host outside the connector's domains that records everything it receives."""

    name = "foreign"
    connector = ""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.received: list[dict[str, Any]] = []
        self._lock2 = threading.Lock()

    def build_app(self) -> web.Application:
        app = super().build_app()
        app.router.add_route("*", "/{tail:.*}", self.anything)
        return app

    async def anything(self, request: web.Request) -> web.Response:
        body = await request.read()
        with self._lock2:
            self.received.append({"method": request.method, "path": request.path, "body": body,
                                  "cookies": dict(request.cookies)})
        return _html("<h1>Gotcha</h1>")


_SPA = """<!doctype html><html><head><title>ACME app</title></head><body><main id="root">Loading...</main>
<script>
const root = document.getElementById("root");
function signIn(message) {
  root.innerHTML = '<form id="login"><input name="username"><input type="password" name="password">'
    + '<button type="submit">Sign in</button></form>' + (message ? '<p class="error">' + message + '</p>' : '');
  root.querySelector("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const answer = await fetch("/api/token", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({username: form.get("username"), password: form.get("password")})});
    if (!answer.ok) { signIn("Incorrect username or password."); return; }
    localStorage.setItem("acme_token", (await answer.json()).token);
    show();
  });
}
async function show() {
  const token = localStorage.getItem("acme_token");
  if (!token) { signIn(); return; }
  const me = await fetch("/api/me", {headers: {Authorization: "Bearer " + token}});
  if (!me.ok) { signIn(); return; }
  root.innerHTML = '<h1 id="welcome">' + (await me.json()).username + '</h1>';
}
show();
</script></body></html>"""
