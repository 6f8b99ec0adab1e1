"""Paperbox: a fictional office-supplies supplier, the example portal of docs/tutorial.md.

Paperbox is invented (there is no reference to be faithful to), so every
shape is written here; the tutorial's plugin is built against this list,
and the tutorial test saves pages from this portal to prove it still
matches. One site, one variant: the base URL is the server root.

* ``GET /login`` — ``form#login-form`` (POST ``/login``): ``username``,
  ``password``, hidden ``csrf_token`` (and hidden ``next`` when the sign-in
  was asked for by a protected page, which also shows ``p.notice`` "Please
  sign in to continue."). Cookie ``pbx_session`` (path ``/``).
* ``POST /login`` — wrong password or unknown address: the form again, 200,
  with ``div.alert.alert-error`` "Incorrect email address or password."
  (Paperbox does not say which half was wrong). A missing or stale CSRF
  token: 400, the form with "Your sign-in form expired. Please try again."
  Success: a new session id (no session fixation) and 302 to ``next`` or
  ``/account/invoices``.
* E-mailed code (scenario ``email-code``): after the password, 302 to
  ``GET /login/code``: ``form#code-form`` (POST ``/login/code``) with
  ``code`` and ``csrf_token``; ``p.hint`` says where the code went
  ("We emailed a 6-digit code to f******@brightworks.example. ..."). The
  code is delivered to the mailbox under the account's address (channel
  ``email``), valid 10 minutes by the sandbox clock. A wrong or expired
  code: the form again with "That code is incorrect or has expired.";
  the fifth wrong code ends the sign-in ("Too many incorrect codes.
  Please sign in again." on the sign-in form). No "remember this device".
* ``GET /account/invoices?page=N`` — header ``a#sign-out``; ``table.invoices``
  with rows ``tr.invoice``: ``td.number``, ``td.date > time[datetime]``
  (ISO date; the text is "3 Nov 2026"), ``td.total`` and ``td.vat`` ("£1,234.56",
  total includes VAT), ``a.pdf``. 12 per page, newest first, 27 monthly
  invoices per account; ``nav.pager`` with ``a[rel=next]`` ("Older
  invoices") and ``a[rel=prev]``. No invoices: ``p.empty`` "You have no
  invoices yet." A page number out of range: 404.
* ``GET /account/invoices/<number>.pdf`` — ``application/pdf``, attachment
  ``Paperbox-<number>.pdf``; another customer's or unknown number: 404 HTML.
* Sessions end after 30 minutes idle (sandbox clock) or at ``GET /logout``.
  Without a live session, HTML pages under ``/account/`` answer 302 to
  ``/login?next=...``, while **PDF links answer 200 with the sign-in page**
  (what many real portals do, and what a plugin must detect).
* Scenario ``short-session``: the account's first session ends right after
  its fifth PDF (event ``session_ended``); later sessions last.
* Redesign (``faults.redesign``): the sign-in form becomes
  ``form[data-form=sign-in]`` with ``email``, ``passphrase`` and ``_token``,
  and the invoice list becomes ``article.invoice-card`` elements: a plugin
  knowing only the documented markup must fail loudly.

Events recorded: ``login``, ``login_failed`` (reason ``wrong-password``,
``unknown-user`` or ``csrf``), ``code_sent``, ``code_rejected``,
``session_ended``, ``file_refused`` (a PDF asked for without a session),
``logout``; ``file_served`` comes from the machinery.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from urllib.parse import quote, urlsplit

import attrs
from aiohttp import web

from dextcore.sandbox.events import DemoAccount
from dextcore.sandbox.examples.paperbox import html
from dextcore.sandbox.examples.paperbox.data import (
    INVOICE_MONTHS, PER_PAGE, PaperboxAccount, PaperboxInvoice, invoice_pdf_for, invoices_for, seed_accounts,
)
from dextcore.sandbox.portal import SandboxPortal

__all__ = ["PaperboxPortal"]

SESSION_COOKIE = "pbx_session"
SESSION_IDLE = dt.timedelta(minutes=30)
CODE_VALIDITY = dt.timedelta(minutes=10)
CODE_TRIES = 5
INVOICE_DAY = 3

WRONG_CREDENTIALS = "Incorrect email address or password."
STALE_FORM = "Your sign-in form expired. Please try again."
WRONG_CODE = "That code is incorrect or has expired."
TOO_MANY_CODES = "Too many incorrect codes. Please sign in again."
SIGN_IN_NOTICE = "Please sign in to continue."
HOME = "/account/invoices"


@attrs.define
class _Session:
    """Server-side state of one browser (never shown: it holds the one-time code)."""

    sid: str
    csrf: str
    last_seen: dt.datetime
    stage: str = "anon"  # anon | code | in
    username: str | None = None
    next_path: str = ""
    code: str | None = attrs.field(default=None, repr=False)
    code_expires: dt.datetime | None = None
    code_tries: int = 0
    files: int = 0


def _found(location: str) -> web.Response:
    """A 302 answer, returned (not raised) so a cookie can be set on it."""
    return web.Response(status=302, headers={"Location": location})


def _mask(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}{'*' * max(len(local) - 1, 3)}@{domain}"


def _safe_next(value: str) -> str:
    """Only local paths are followed after sign-in (no open redirect)."""
    return value if value.startswith("/") and not value.startswith("//") else ""


class PaperboxPortal(SandboxPortal):
    """The fake Paperbox portal (every shape is listed in the module docstring)."""

    name = "paperbox"
    connector = "paperbox"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.accounts: dict[str, PaperboxAccount] = {a.username: a for a in seed_accounts()}
        self._sessions: dict[str, _Session] = {}
        self._short_session_used: set[str] = set()

    # -- SandboxPortal API ------------------------------------------------------------------

    def demo_accounts(self) -> list[DemoAccount]:
        out = [DemoAccount(connector=self.connector, variant=None, username=a.username, password=a.password,
                           scenario=a.scenario, description=a.description,
                           phone=a.username if a.email_code else None)
               for a in seed_accounts()]
        ok = seed_accounts()[0]
        out.append(DemoAccount(connector=self.connector, variant=None, username=ok.username,
                               password=ok.password.replace("42", "24"), scenario="wrong-password",
                               description="The 'ok' account with a wrong password: Paperbox refuses the sign-in."))
        return out

    def invoices(self, username: str) -> list[PaperboxInvoice]:
        """Every invoice of ``username`` as the portal lists them today (newest first)."""
        account = self.accounts[username]
        dates = self.monthly_dates(INVOICE_DAY, months=INVOICE_MONTHS)
        return invoices_for(account, dates, self.rng)

    def build_app(self) -> web.Application:
        app = super().build_app()
        app.router.add_get("/", self._home)
        app.router.add_get("/login", self._login_form)
        app.router.add_post("/login", self._login_post)
        app.router.add_get("/login/code", self._code_form)
        app.router.add_post("/login/code", self._code_post)
        app.router.add_get("/logout", self._logout)
        app.router.add_get("/account/invoices", self._invoice_list)
        app.router.add_get("/account/invoices/{number}.pdf", self._invoice_pdf)
        return app

    # -- sessions ----------------------------------------------------------------------------

    @property
    def _v2(self) -> bool:
        return self.faults.redesign

    def _session(self, request: web.Request) -> _Session | None:
        """This browser's live session; an idle one ends (by the sandbox clock)."""
        session = self._sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if session is None:
            return None
        now = self.clock.now()
        if now - session.last_seen > SESSION_IDLE:
            del self._sessions[session.sid]
            return None
        session.last_seen = now
        return session

    def _new_session(self, **values: Any) -> _Session:
        session = _Session(sid=secrets.token_urlsafe(24), csrf=secrets.token_urlsafe(16),
                           last_seen=self.clock.now(), **values)
        self._sessions[session.sid] = session
        return session

    def _end(self, session: _Session) -> None:
        self._sessions.pop(session.sid, None)

    @staticmethod
    def _with_cookie(response: web.StreamResponse, session: _Session | None) -> web.StreamResponse:
        if session is not None:
            response.set_cookie(SESSION_COOKIE, session.sid, path="/", httponly=True, samesite="Lax")
        return response

    def _html(self, text: str, session: _Session | None, status: int = 200) -> web.StreamResponse:
        return self._with_cookie(web.Response(text=text, status=status, content_type="text/html"), session)

    def _login_html(self, session: _Session, *, error: str | None = None, notice: str | None = None,
                    username: str = "", status: int = 200) -> web.StreamResponse:
        session.stage, session.username, session.code = "anon", None, None
        page = html.login_page(session.csrf, error=error, notice=notice, username=username,
                               next_path=session.next_path, v2=self._v2)
        return self._html(page, session, status)

    def _signed_in(self, old: _Session, username: str) -> web.StreamResponse:
        """Finish a sign-in: a fresh session id, then on to where the person was going."""
        self._end(old)
        session = self._new_session(stage="in", username=username)
        self.record("login", username=username)
        return self._with_cookie(_found(old.next_path or HOME), session)

    def _account_of(self, session: _Session | None) -> PaperboxAccount | None:
        if session is None or session.stage != "in" or session.username is None:
            return None
        return self.accounts[session.username]

    # -- sign-in ------------------------------------------------------------------------------

    async def _home(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        return _found(HOME if self._account_of(session) else "/login")

    async def _login_form(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        if self._account_of(session) is not None:
            return _found(HOME)
        session = session or self._new_session()
        session.next_path = _safe_next(request.query.get("next", ""))
        return self._login_html(session, notice=SIGN_IN_NOTICE if session.next_path else None)

    async def _login_post(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        user_field, password_field, token_field = (("email", "passphrase", "_token") if self._v2
                                                   else ("username", "password", "csrf_token"))
        username = str(form.get(user_field, "")).strip()
        session = self._session(request)
        if session is None or not secrets.compare_digest(str(form.get(token_field, "")), session.csrf):
            self.record("login_failed", username=username, reason="csrf")
            session = session or self._new_session()
            return self._login_html(session, error=STALE_FORM, username=username, status=400)
        session.next_path = _safe_next(str(form.get("next", ""))) or session.next_path
        account = self.accounts.get(username)
        password = str(form.get(password_field, ""))
        if account is None or not secrets.compare_digest(password.encode(), account.password.encode()):
            self.record("login_failed", username=username,
                        reason="unknown-user" if account is None else "wrong-password")
            return self._login_html(session, error=WRONG_CREDENTIALS, username=username)
        if account.email_code:
            session.stage, session.username, session.code_tries = "code", account.username, 0
            session.code = self.send_code(account.username, channel="email",
                                          template="Your Paperbox sign-in code is {code}")
            session.code_expires = self.clock.now() + CODE_VALIDITY
            return self._with_cookie(_found("/login/code"), session)
        return self._signed_in(session, account.username)

    async def _code_form(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        if session is None or session.stage != "code" or session.username is None:
            return _found("/login")
        return self._html(html.code_page(session.csrf, _mask(session.username)), session)

    async def _code_post(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        form = await request.post()
        if session is None or session.stage != "code" or session.username is None:
            return _found("/login")
        if not secrets.compare_digest(str(form.get("csrf_token", "")), session.csrf):
            return self._html(html.code_page(session.csrf, _mask(session.username), error=STALE_FORM),
                              session, 400)
        typed = "".join(str(form.get("code", "")).split())
        expired = session.code_expires is None or self.clock.now() > session.code_expires
        if not expired and session.code and secrets.compare_digest(typed, session.code):
            return self._signed_in(session, session.username)
        session.code_tries += 1
        self.record("code_rejected", username=session.username, reason="expired" if expired else "wrong")
        if session.code_tries >= CODE_TRIES:
            return self._login_html(session, error=TOO_MANY_CODES)
        return self._html(html.code_page(session.csrf, _mask(session.username), error=WRONG_CODE), session)

    async def _logout(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        if session is not None:
            self.record("logout", username=session.username)
            self._end(session)
        return _found("/login")

    # -- the account -----------------------------------------------------------------------------

    async def _invoice_list(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        account = self._account_of(session)
        if account is None:
            return _found("/login?next=" + quote(request.path_qs, safe=""))
        invoices = self.invoices(account.username)
        pages = max(1, -(-len(invoices) // PER_PAGE))
        try:
            page = int(request.query.get("page", "1"))
        except ValueError:
            page = 0
        if not 1 <= page <= pages:
            return self._html(html.not_found_page(account.company), session, 404)
        shown = invoices[(page - 1) * PER_PAGE:page * PER_PAGE]
        return self._html(html.invoices_page(account.company, shown, page=page, pages=pages, v2=self._v2), session)

    async def _invoice_pdf(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        account = self._account_of(session)
        if account is None:
            # The real-world trap: a file link answering the sign-in page with 200.
            self.record("file_refused", path=urlsplit(request.path_qs).path)
            session = session or self._new_session()
            session.next_path = ""
            return self._login_html(session, notice=SIGN_IN_NOTICE)
        assert session is not None
        number = request.match_info["number"]
        invoice = next((i for i in self.invoices(account.username) if i.number == number), None)
        if invoice is None:
            return self._html(html.not_found_page(account.company), session, 404)
        body = invoice_pdf_for(invoice, account)
        session.files += 1
        limit = account.files_per_first_session
        if limit is not None and account.username not in self._short_session_used and session.files >= limit:
            self._short_session_used.add(account.username)
            self._end(session)
            self.record("session_ended", username=account.username, reason=f"{limit} files")
        return web.Response(body=body, content_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{invoice.filename}"'})
