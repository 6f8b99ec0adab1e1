"""The fake BT portal: BT Business (secure.business.bt.com) and BT consumer (home.bt.com).

Follows the shapes public scrapers document (shared/reference/portals.md,
"BT Business"); where they are silent the choices are written here.

Both sites live on one loopback port under host-like base paths:
``/secure.business.bt.com`` (variant ``business``) and ``/home.bt.com``
(variant ``consumer``). Session cookies are scoped to those paths, so the
two sites never see each other's cookies, as with real distinct hosts.

Business site (``B`` = ``/secure.business.bt.com``):

* ``GET B/Account/LoginRedirect.aspx?tabId=1`` — login start; 302 to the
  sign-in page (or to My Account when already logged in).
* ``GET/POST B/B2C/SignIn`` — Azure AD B2C style step one: ``input#signInName``
  and ``button#next`` in ``form#localAccountForm`` (hidden ``csrf_token``).
  The POST answers step two: ``input[name=Password]`` (``#password``) and
  ``button#next``, posting to ``B/B2C/SignIn/Password``.
  Errors: ``div.error.pageLevel`` (present but hidden until an error, as on
  B2C). Wrong password: "Your password is incorrect." Unknown login
  (e.g. a consumer BT ID): "We can't find an account with that email
  address and password. Please check and try again." Usernames and
  passwords are compared exactly (case and spaces matter).
* reCAPTCHA (scenario ``captcha``): step two carries a ``div.g-recaptcha``
  with an ``iframe[title=reCAPTCHA]``; the sandbox can never verify a token,
  so the password POST always answers "Please confirm you're not a robot."
* ``GET/POST B/Account/Login.aspx`` — the documented legacy form
  (``form[name=Login]``, ``input#USER``, ``input#PASSWORD``, a visible
  ``div.error`` on failure), kept working for old bookmarks.
* 2FA (scenario ``sms``): ``B/B2C/MFA`` offers the phone and the backup
  e-mail (radio ``mfaMethod`` = ``phone``/``email``);
  ``button#MFAVerifyPrimaryPhoneOrBackupEmailDisplayControl_but_send_code``
  (class ``sendCode``) posts to ``B/B2C/MFA/SendCode``, which delivers a
  6-digit code to the mailbox (the phone number, or the backup address by
  e-mail) and shows ``input#verificationCode``, ``input#rememberDevice`` and
  ``button.verifyCode`` (posting to ``B/B2C/MFA/Verify``). Codes are valid
  10 minutes; 3 wrong tries void the code. Wrong: "The verification code
  you have entered does not match our records. Please try again, or request
  a new code." Ticking remember-device sets cookie ``BTTrustedDevice``
  (30 days by the sandbox clock) which skips 2FA for that account.
* Interruptions (scenarios ``change-password``, ``update-contact``): after
  the password (and 2FA), 302 to ``B/ChangePassword.do`` or
  ``B/Intercept/UpdateContact``; until their form is completed every
  logged-in page redirects there. Completing them clears them for good
  (a changed password replaces the old one in this portal instance).
* Logged in: header ``#bt-header`` with ``a#myAccountLink`` ("My Account")
  and ``a#logoutLink`` ("Log out", ``B/Account/Logout.aspx``). Dashboard
  ``B/eserve/cust/loggedin/home.html``.
* Bills: ``B/eserve/cust/loggedin/previousBills.html?accountNumber=&page=``,
  12 per page, newest first, 27 monthly bills per billing account.
  Several billing accounts: ``div#multiAccountsDiv`` holds a GET form with
  ``select#billingAccountSelect[name=accountNumber]``; one account:
  ``span#accountNumber``. Table ``#previousBillsTable``, rows ``tr.bill-row``
  with ``td.bill-date`` ("21 Oct 2026"), ``td.account-number``,
  ``td.invoice-number``, ``td.bill-amount`` (GBP incl. VAT, "£45.60"),
  ``td.bill-vat`` and ``a.download-pdf``. Pagination ``a.next[rel=next]``.
  No bills: ``p.no-bills``.
* Per-bill PDF (not public; designed here):
  ``GET B/eserve/cust/loggedin/downloadBill.html?accountNumber=GP..&invoiceNumber=MB..&format=pdf``
  → ``application/pdf``, attachment ``BT_Bill_<account>_<invoice>.pdf``.
  Someone else's bill → 404 HTML.
* Download all: ``form#downloadAllForm`` POSTs ``accountNumber`` to
  ``B/eserve/cust/loggedin/downloadAllBills.html`` → ``application/zip`` of
  every bill PDF of that account.
* No or expired session (idle 20 minutes by the sandbox clock): logged-in
  HTML pages 302 to the login start; the PDF and ZIP URLs answer **200 with
  the sign-in HTML**, as the real portal does.

Consumer site (``C`` = ``/home.bt.com``): ``GET/POST C/login/loginform`` with
``input#USER``, ``input#PASSWORD``; failure shows ``div.loginerror`` "Sorry,
your BT ID or password wasn't recognised. Please try again." — business
logins fail there, consumer logins fail on the business site (the "wrong
portal" mistake). Logged in: ``C/myaccount`` (bills table ``#billsTable``,
PDFs at ``C/myaccount/bills/pdf?invoiceNumber=``), log out ``C/login/logout``.

Redesign (``faults.redesign``): every page renders the v2 markup of
:mod:`dextcore_bt_business.sandbox_pages` (new ids/classes, new form field
names: ``username``, ``currentPassword``, ``otp``, ``ban``...), so plugins
relying on the documented selectors must fail loudly.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any, Awaitable, Callable

import attrs
from aiohttp import web

from dextcore.sandbox import DemoAccount, SandboxPortal
from dextcore_bt_business import sandbox_pages as pages
from dextcore_bt_business.sandbox_data import (BUSINESS, CONSUMER, Bill, BTAccount, bill_pdf, bills_for, bills_zip,
                                               seed_accounts)

__all__ = ["BTPortal", "BUSINESS_BASE", "CONSUMER_BASE"]

BUSINESS_BASE = "/secure.business.bt.com"
CONSUMER_BASE = "/home.bt.com"
SESSION_COOKIE = {BUSINESS: "BTB_SESSION", CONSUMER: "BTC_SESSION"}
TRUST_COOKIE = "BTTrustedDevice"
SESSION_IDLE = dt.timedelta(minutes=20)
CODE_VALIDITY = dt.timedelta(minutes=10)
TRUST_VALIDITY = dt.timedelta(days=30)
CODE_TRIES = 3
BILLS_PER_PAGE = 12

WRONG_PASSWORD = "Your password is incorrect."
UNKNOWN_LOGIN = "We can't find an account with that email address and password. Please check and try again."
NO_EMAIL = "Please enter your email address or username."
NOT_ROBOT = "Please confirm you're not a robot."
WRONG_CODE = ("The verification code you have entered does not match our records. Please try again, "
              "or request a new code.")
EXPIRED_CODE = "That code has expired. Please request a new code."
CONSUMER_ERROR = "Sorry, your BT ID or password wasn't recognised. Please try again."
LEGACY_ERROR = "The username or password you entered is incorrect. Please check your password and try again."

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@attrs.define
class _Session:
    """Server-side state of one browser on one site (never shown: it holds the one-time code)."""

    sid: str
    site: str
    csrf: str
    last_seen: dt.datetime
    stage: str = "anon"  # anon | password | mfa | interrupt | in
    entered: str | None = None  # the signInName typed in step one
    username: str | None = None  # the account once the password matched
    code: str | None = attrs.field(default=None, repr=False)
    code_to: str | None = None
    code_expires: dt.datetime | None = None
    code_tries: int = 0


def _found(location: str) -> web.Response:
    """A 302 answer (returned, not raised, so cookies can still be set on it)."""
    return web.Response(status=302, headers={"Location": location})


def _mask_phone(phone: str) -> str:
    return "*" * (len(phone) - 4) + phone[-4:]


def _mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'*' * max(len(local) - 1, 3)}@{domain}"


class BTPortal(SandboxPortal):
    """Fake BT Business and BT consumer portals (see the module docstring for every shape)."""

    name = "bt"
    connector = "bt_business"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.accounts: dict[str, BTAccount] = {a.username: a for a in seed_accounts()}
        self._sessions: dict[str, _Session] = {}
        self._trusted: dict[str, tuple[str, dt.datetime]] = {}  # device token -> (username, expiry)

    # -- SandboxPortal API --------------------------------------------------------------

    def demo_accounts(self) -> list[DemoAccount]:
        out = []
        for account in seed_accounts():
            out.append(DemoAccount(connector=self.connector, variant=account.variant, username=account.username,
                                   password=account.password, scenario=account.scenario,
                                   description=account.description, phone=account.phone))
            if account.scenario == "wrong-variant":
                # The mistake itself: a consumer BT ID set up against the business portal.
                out[-1] = attrs.evolve(out[-1], variant=BUSINESS)
                out.append(DemoAccount(connector=self.connector, variant=CONSUMER, username=account.username,
                                       password=account.password, scenario="consumer",
                                       description="The same BT ID on the consumer portal: logs in."))
        return out

    def variant_base_url(self, root: str, variant: str | None) -> str:
        if variant in (None, BUSINESS):
            return root + BUSINESS_BASE
        if variant == CONSUMER:
            return root + CONSUMER_BASE
        raise ValueError(f"unknown BT variant {variant!r} (business or consumer)")

    def bills(self, account_number: str) -> list[Bill]:
        """Every bill of a billing account as the portal lists them today, newest first."""
        return bills_for(account_number, self.clock.today(), self.rng)

    def build_app(self) -> web.Application:
        app = super().build_app()
        B, C = BUSINESS_BASE, CONSUMER_BASE
        add = app.router.add_route
        add("GET", B, self._business_home)
        add("GET", B + "/", self._business_home)
        add("GET", B + "/Account/LoginRedirect.aspx", self._login_redirect)
        add("GET", B + "/B2C/SignIn", self._signin_form)
        add("POST", B + "/B2C/SignIn", self._signin_name)
        add("POST", B + "/B2C/SignIn/Password", self._signin_password)
        add("GET", B + "/Account/Login.aspx", self._legacy_form)
        add("POST", B + "/Account/Login.aspx", self._legacy_post)
        add("GET", B + "/B2C/MFA", self._mfa_page)
        add("POST", B + "/B2C/MFA/SendCode", self._mfa_send)
        add("POST", B + "/B2C/MFA/Verify", self._mfa_verify)
        add("GET", B + "/ChangePassword.do", self._change_password_form)
        add("POST", B + "/ChangePassword.do", self._change_password_post)
        add("GET", B + "/Intercept/UpdateContact", self._update_contact_form)
        add("POST", B + "/Intercept/UpdateContact", self._update_contact_post)
        add("GET", B + "/Account/Logout.aspx", self._logout)
        add("GET", B + "/eserve/cust/loggedin/home.html", self._my_account)
        add("GET", B + "/eserve/cust/loggedin/previousBills.html", self._previous_bills)
        add("GET", B + "/eserve/cust/loggedin/downloadBill.html", self._download_bill)
        add("POST", B + "/eserve/cust/loggedin/downloadAllBills.html", self._download_all)
        add("GET", C, self._consumer_home)
        add("GET", C + "/", self._consumer_home)
        add("GET", C + "/login/loginform", self._consumer_form)
        add("POST", C + "/login/loginform", self._consumer_post)
        add("GET", C + "/login/logout", self._consumer_logout)
        add("GET", C + "/myaccount", self._consumer_account)
        add("GET", C + "/myaccount/bills/pdf", self._consumer_pdf)
        return app

    # -- sessions ------------------------------------------------------------------------

    @property
    def _v2(self) -> bool:
        return self.faults.redesign

    def _session(self, request: web.Request, site: str) -> _Session | None:
        """The live session of this browser on ``site``; an idle one expires (by the sandbox clock)."""
        sid = request.cookies.get(SESSION_COOKIE[site])
        session = self._sessions.get(sid or "")
        if session is None or session.site != site:
            return None
        now = self.clock.now()
        if now - session.last_seen > SESSION_IDLE:
            del self._sessions[session.sid]
            return None
        session.last_seen = now
        return session

    def _new_session(self, site: str) -> _Session:
        session = _Session(sid=secrets.token_urlsafe(24), site=site, csrf=secrets.token_urlsafe(16),
                           last_seen=self.clock.now())
        self._sessions[session.sid] = session
        return session

    def _respond(self, response: web.StreamResponse, session: _Session | None) -> web.StreamResponse:
        if session is not None:
            response.set_cookie(SESSION_COOKIE[session.site], session.sid, path=self._base(session.site),
                                httponly=True, samesite="Lax")
        return response

    @staticmethod
    def _base(site: str) -> str:
        return BUSINESS_BASE if site == BUSINESS else CONSUMER_BASE

    def _html(self, text: str, session: _Session | None, status: int = 200) -> web.StreamResponse:
        return self._respond(web.Response(text=text, status=status, content_type="text/html"), session)

    def _redirect(self, location: str, session: _Session | None) -> web.StreamResponse:
        return self._respond(_found(location), session)

    def _csrf_ok(self, session: _Session, form: Any) -> bool:
        return secrets.compare_digest(str(form.get("csrf_token", "")), session.csrf)

    # -- business: sign-in -------------------------------------------------------------------

    async def _business_home(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request, BUSINESS)
        if session is not None and session.stage == "in":
            return self._redirect(f"{BUSINESS_BASE}/eserve/cust/loggedin/home.html", session)
        return self._html(pages.public_home(BUSINESS_BASE, logged_out="loggedout" in request.query), session)

    async def _login_redirect(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request, BUSINESS)
        if session is not None and session.stage == "in":
            return self._redirect(f"{BUSINESS_BASE}/eserve/cust/loggedin/home.html", session)
        return self._redirect(f"{BUSINESS_BASE}/B2C/SignIn", session)

    def _signin_page(self, session: _Session, error: str | None = None, status: int = 200) -> web.StreamResponse:
        session.stage, session.entered, session.username = "anon", None, None
        return self._html(pages.signin_step1(BUSINESS_BASE, session.csrf, error=error, v2=self._v2), session, status)

    async def _signin_form(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request, BUSINESS) or self._new_session(BUSINESS)
        if session.stage == "in":
            return self._redirect(f"{BUSINESS_BASE}/eserve/cust/loggedin/home.html", session)
        return self._signin_page(session)

    async def _signin_name(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request, BUSINESS)
        form = await request.post()
        if session is None or not self._csrf_ok(session, form):
            return self._signin_page(session or self._new_session(BUSINESS),
                                     "Your session has expired. Please sign in again.")
        entered = str(form.get("username" if self._v2 else "signInName", ""))
        if not entered.strip():
            return self._signin_page(session, NO_EMAIL)
        session.stage, session.entered = "password", entered
        account = self.accounts.get(entered)
        captcha = account is not None and account.variant == BUSINESS and account.captcha
        return self._html(pages.signin_step2(BUSINESS_BASE, session.csrf, entered, captcha=captcha, v2=self._v2),
                          session)

    async def _signin_password(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request, BUSINESS)
        form = await request.post()
        if session is None or session.stage != "password" or not self._csrf_ok(session, form):
            return self._redirect(f"{BUSINESS_BASE}/B2C/SignIn", session)
        entered = session.entered or ""
        password = str(form.get("currentPassword" if self._v2 else "Password", ""))
        account = self.accounts.get(entered)
        error: str | None = None
        if account is None or account.variant != BUSINESS:
            error, reason = UNKNOWN_LOGIN, "unknown-login" if account is None else "wrong-variant"
        elif account.captcha:
            error, reason = NOT_ROBOT, "captcha"
        elif not secrets.compare_digest(password.encode(), account.password.encode()):
            error, reason = WRONG_PASSWORD, "wrong-password"
        if error is not None:
            self.record("login_failed", site=BUSINESS, username=entered, reason=reason)
            return self._html(pages.signin_step2(BUSINESS_BASE, session.csrf, entered, error=error,
                                                 captcha=bool(account and account.captcha), v2=self._v2), session)
        assert account is not None
        return self._after_password(request, session, account)

    async def _legacy_form(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request, BUSINESS) or self._new_session(BUSINESS)
        return self._html(pages.legacy_login(BUSINESS_BASE), session)

    async def _legacy_post(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request, BUSINESS) or self._new_session(BUSINESS)
        form = await request.post()
        username, password = str(form.get("USER", "")), str(form.get("PASSWORD", ""))
        account = self.accounts.get(username)
        if (account is None or account.variant != BUSINESS or account.captcha
                or not secrets.compare_digest(password.encode(), account.password.encode())):
            self.record("login_failed", site=BUSINESS, username=username, reason="legacy-form")
            return self._html(pages.legacy_login(BUSINESS_BASE, error=LEGACY_ERROR), session)
        return self._after_password(request, session, account)

    def _trusted_device(self, request: web.Request, account: BTAccount) -> bool:
        entry = self._trusted.get(request.cookies.get(TRUST_COOKIE, ""))
        return entry is not None and entry[0] == account.username and entry[1] > self.clock.now()

    def _after_password(self, request: web.Request, session: _Session, account: BTAccount) -> web.StreamResponse:
        session.username, session.entered = account.username, None
        if account.mfa and not self._trusted_device(request, account):
            session.stage, session.code, session.code_to = "mfa", None, None
            return self._redirect(f"{BUSINESS_BASE}/B2C/MFA", session)
        return self._after_mfa(session, account)

    def _after_mfa(self, session: _Session, account: BTAccount) -> web.StreamResponse:
        if account.interruption is not None:
            session.stage = "interrupt"
            self.record("interruption", site=BUSINESS, username=account.username, what=account.interruption)
            return self._redirect(self._interruption_path(account), session)
        session.stage = "in"
        self.record("login", site=BUSINESS, username=account.username)
        return self._redirect(f"{BUSINESS_BASE}/eserve/cust/loggedin/home.html", session)

    @staticmethod
    def _interruption_path(account: BTAccount) -> str:
        path = {"change-password": "/ChangePassword.do", "update-contact": "/Intercept/UpdateContact"}
        return BUSINESS_BASE + path[account.interruption or ""]

    # -- business: 2FA --------------------------------------------------------------------

    def _mfa_account(self, request: web.Request) -> tuple[_Session, BTAccount] | None:
        session = self._session(request, BUSINESS)
        if session is None or session.stage != "mfa" or session.username is None:
            return None
        return session, self.accounts[session.username]

    def _mfa_html(self, session: _Session, account: BTAccount, error: str | None = None) -> web.StreamResponse:
        sent_to = None
        if session.code_to is not None:
            sent_to = _mask_phone(session.code_to) if session.code_to == account.phone else _mask_email(
                session.code_to)
        text = pages.mfa_page(BUSINESS_BASE, session.csrf,
                              phone_mask=_mask_phone(account.phone) if account.phone else None,
                              email_mask=_mask_email(account.backup_email) if account.backup_email else None,
                              sent_to=sent_to, error=error, v2=self._v2)
        return self._html(text, session)

    async def _mfa_page(self, request: web.Request) -> web.StreamResponse:
        found = self._mfa_account(request)
        if found is None:
            return self._redirect(f"{BUSINESS_BASE}/Account/LoginRedirect.aspx?tabId=1", None)
        return self._mfa_html(*found)

    async def _mfa_send(self, request: web.Request) -> web.StreamResponse:
        found = self._mfa_account(request)
        form = await request.post()
        if found is None or not self._csrf_ok(found[0], form):
            return self._redirect(f"{BUSINESS_BASE}/Account/LoginRedirect.aspx?tabId=1", None)
        session, account = found
        by_email = form.get("mfaMethod") == "email" and account.backup_email
        to = account.backup_email if by_email else account.phone
        if to is None:
            return self._mfa_html(session, account, "No phone number is registered for this account.")
        session.code = self.send_code(to, channel="email" if by_email else "sms",
                                      template="Your BT Business verification code is {code}. "
                                               "It expires in 10 minutes.")
        session.code_to, session.code_tries = to, 0
        session.code_expires = self.clock.now() + CODE_VALIDITY
        return self._redirect(f"{BUSINESS_BASE}/B2C/MFA", session)

    async def _mfa_verify(self, request: web.Request) -> web.StreamResponse:
        found = self._mfa_account(request)
        form = await request.post()
        if found is None or not self._csrf_ok(found[0], form):
            return self._redirect(f"{BUSINESS_BASE}/Account/LoginRedirect.aspx?tabId=1", None)
        session, account = found
        typed = str(form.get("otp" if self._v2 else "verificationCode", "")).strip()
        if session.code is None or session.code_expires is None:
            return self._mfa_html(session, account, "Please request a verification code first.")
        if self.clock.now() > session.code_expires:
            session.code = None
            self.record("code_rejected", username=account.username, reason="expired")
            return self._mfa_html(session, account, EXPIRED_CODE)
        if not secrets.compare_digest(typed.encode(), session.code.encode()):
            session.code_tries += 1
            if session.code_tries >= CODE_TRIES:
                session.code = None
            self.record("code_rejected", username=account.username, reason="wrong")
            return self._mfa_html(session, account, WRONG_CODE)
        session.code = session.code_expires = None
        response = self._after_mfa(session, account)
        if form.get("trustDevice" if self._v2 else "rememberDevice") == "true":
            token = secrets.token_urlsafe(24)
            self._trusted[token] = (account.username, self.clock.now() + TRUST_VALIDITY)
            response.set_cookie(TRUST_COOKIE, token, path=BUSINESS_BASE, httponly=True, samesite="Lax",
                                max_age=int(TRUST_VALIDITY.total_seconds()))
            self.record("device_remembered", username=account.username)
        return response

    # -- business: interruptions -------------------------------------------------------------

    def _interrupted(self, request: web.Request, what: str) -> tuple[_Session, BTAccount] | None:
        session = self._session(request, BUSINESS)
        if session is None or session.stage != "interrupt" or session.username is None:
            return None
        account = self.accounts[session.username]
        return (session, account) if account.interruption == what else None

    async def _change_password_form(self, request: web.Request) -> web.StreamResponse:
        found = self._interrupted(request, "change-password")
        if found is None:
            return self._redirect(f"{BUSINESS_BASE}/Account/LoginRedirect.aspx?tabId=1", None)
        return self._html(pages.change_password(BUSINESS_BASE, found[0].csrf), found[0])

    async def _change_password_post(self, request: web.Request) -> web.StreamResponse:
        found = self._interrupted(request, "change-password")
        form = await request.post()
        if found is None or not self._csrf_ok(found[0], form):
            return self._redirect(f"{BUSINESS_BASE}/Account/LoginRedirect.aspx?tabId=1", None)
        session, account = found
        current, new, confirm = (str(form.get(k, "")) for k in ("currentPassword", "newPassword", "confirmPassword"))
        error = None
        if current != account.password:
            error = "Your current password is incorrect."
        elif len(new) < 8 or new == current:
            error = "Your new password must have at least 8 characters and differ from the current one."
        elif new != confirm:
            error = "The new passwords do not match."
        if error:
            return self._html(pages.change_password(BUSINESS_BASE, session.csrf, error=error), session)
        account.password, account.interruption = new, None
        self.record("password_changed", username=account.username)
        return self._after_mfa(session, account)

    async def _update_contact_form(self, request: web.Request) -> web.StreamResponse:
        found = self._interrupted(request, "update-contact")
        if found is None:
            return self._redirect(f"{BUSINESS_BASE}/Account/LoginRedirect.aspx?tabId=1", None)
        session, account = found
        return self._html(pages.update_contact(BUSINESS_BASE, session.csrf, phone=account.phone or "",
                                               email=account.username), session)

    async def _update_contact_post(self, request: web.Request) -> web.StreamResponse:
        found = self._interrupted(request, "update-contact")
        form = await request.post()
        if found is None or not self._csrf_ok(found[0], form):
            return self._redirect(f"{BUSINESS_BASE}/Account/LoginRedirect.aspx?tabId=1", None)
        session, account = found
        account.interruption = None
        self.record("contact_updated", username=account.username)
        return self._after_mfa(session, account)

    # -- business: logged in ------------------------------------------------------------------

    def _logged_in(self, request: web.Request) -> tuple[_Session, BTAccount] | web.StreamResponse:
        """The session and account, or the redirect a browser without a valid session gets."""
        session = self._session(request, BUSINESS)
        if session is not None and session.stage == "interrupt" and session.username:
            return self._redirect(self._interruption_path(self.accounts[session.username]), session)
        if session is None or session.stage != "in" or session.username is None:
            return self._redirect(f"{BUSINESS_BASE}/Account/LoginRedirect.aspx?tabId=1", session)
        return session, self.accounts[session.username]

    def _signin_instead(self, request: web.Request) -> web.StreamResponse:
        """What a file URL answers without a valid session: the sign-in page, status 200."""
        session = self._session(request, BUSINESS) or self._new_session(BUSINESS)
        self.record("file_refused", site=BUSINESS, path=request.path)
        return self._signin_page(session)

    async def _logout(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request, BUSINESS)
        if session is not None:
            self._sessions.pop(session.sid, None)
            self.record("logout", site=BUSINESS, username=session.username)
        response = _found(f"{BUSINESS_BASE}/?loggedout=1")
        response.del_cookie(SESSION_COOKIE[BUSINESS], path=BUSINESS_BASE)
        return response

    async def _my_account(self, request: web.Request) -> web.StreamResponse:
        found = self._logged_in(request)
        if not isinstance(found, tuple):
            return found
        session, account = found
        return self._html(pages.my_account(BUSINESS_BASE, account.company, account.billing_accounts, v2=self._v2),
                          session)

    async def _previous_bills(self, request: web.Request) -> web.StreamResponse:
        found = self._logged_in(request)
        if not isinstance(found, tuple):
            return found
        session, account = found
        selected = request.query.get("ban" if self._v2 else "accountNumber") or account.billing_accounts[0]
        if selected not in account.billing_accounts:
            return self._html(pages.not_found(BUSINESS_BASE), session, status=404)
        bills = self.bills(selected)
        pages_count = max(1, -(-len(bills) // BILLS_PER_PAGE))
        try:
            page = min(max(1, int(request.query.get("page", "1"))), pages_count)
        except ValueError:
            page = 1
        shown = bills[(page - 1) * BILLS_PER_PAGE: page * BILLS_PER_PAGE]
        text = pages.previous_bills(BUSINESS_BASE, account.company, account.billing_accounts, selected, shown,
                                    page=page, pages=pages_count, v2=self._v2)
        return self._html(text, session)

    async def _download_bill(self, request: web.Request) -> web.StreamResponse:
        found = self._logged_in(request)
        if not isinstance(found, tuple):
            return self._signin_instead(request)
        session, account = found
        number, invoice = request.query.get("accountNumber", ""), request.query.get("invoiceNumber", "")
        bill = next((b for b in self.bills(number) if b.invoice_number == invoice), None) \
            if number in account.billing_accounts else None
        if bill is None:
            return self._html(pages.not_found(BUSINESS_BASE), session, status=404)
        response = web.Response(body=bill_pdf(bill, account.company), content_type="application/pdf",
                                headers={"Content-Disposition": f'attachment; filename="{bill.filename}"'})
        return self._respond(response, session)

    async def _download_all(self, request: web.Request) -> web.StreamResponse:
        found = self._logged_in(request)
        form = await request.post()
        if not isinstance(found, tuple):
            return self._signin_instead(request)
        session, account = found
        number = str(form.get("accountNumber", ""))
        if number not in account.billing_accounts:
            return self._html(pages.not_found(BUSINESS_BASE), session, status=404)
        response = web.Response(body=bills_zip(self.bills(number), account.company), content_type="application/zip",
                                headers={"Content-Disposition": f'attachment; filename="BT_Bills_{number}.zip"'})
        return self._respond(response, session)

    # -- consumer ----------------------------------------------------------------------------

    async def _consumer_home(self, request: web.Request) -> web.StreamResponse:
        return _found(f"{CONSUMER_BASE}/login/loginform")

    async def _consumer_form(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request, CONSUMER)
        if session is not None and session.stage == "in":
            return self._redirect(f"{CONSUMER_BASE}/myaccount", session)
        return self._html(pages.consumer_login(CONSUMER_BASE, v2=self._v2), session)

    async def _consumer_post(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        username = str(form.get("btid" if self._v2 else "USER", ""))
        password = str(form.get("pass" if self._v2 else "PASSWORD", ""))
        account = self.accounts.get(username)
        if (account is None or account.variant != CONSUMER
                or not secrets.compare_digest(password.encode(), account.password.encode())):
            reason = "wrong-variant" if account is not None and account.variant != CONSUMER else "wrong-credentials"
            self.record("login_failed", site=CONSUMER, username=username, reason=reason)
            return self._html(pages.consumer_login(CONSUMER_BASE, error=CONSUMER_ERROR, v2=self._v2), None)
        session = self._new_session(CONSUMER)
        session.stage, session.username = "in", account.username
        self.record("login", site=CONSUMER, username=account.username)
        return self._redirect(f"{CONSUMER_BASE}/myaccount", session)

    async def _consumer_logout(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request, CONSUMER)
        if session is not None:
            self._sessions.pop(session.sid, None)
        response = _found(f"{CONSUMER_BASE}/login/loginform")
        response.del_cookie(SESSION_COOKIE[CONSUMER], path=CONSUMER_BASE)
        return response

    def _consumer_user(self, request: web.Request) -> tuple[_Session, BTAccount] | None:
        session = self._session(request, CONSUMER)
        if session is None or session.stage != "in" or session.username is None:
            return None
        return session, self.accounts[session.username]

    async def _consumer_account(self, request: web.Request) -> web.StreamResponse:
        found = self._consumer_user(request)
        if found is None:
            return _found(f"{CONSUMER_BASE}/login/loginform")
        session, account = found
        bills = [b for number in account.billing_accounts for b in self.bills(number)]
        return self._html(pages.consumer_account(CONSUMER_BASE, account.company, bills), session)

    async def _consumer_pdf(self, request: web.Request) -> web.StreamResponse:
        found = self._consumer_user(request)
        if found is None:
            return self._html(pages.consumer_login(CONSUMER_BASE, v2=self._v2), None)
        session, account = found
        invoice = request.query.get("invoiceNumber", "")
        bill = next((b for number in account.billing_accounts for b in self.bills(number)
                     if b.invoice_number == invoice), None)
        if bill is None:
            return self._html(pages.not_found(CONSUMER_BASE), session, status=404)
        response = web.Response(body=bill_pdf(bill, account.company), content_type="application/pdf",
                                headers={"Content-Disposition": f'attachment; filename="{bill.filename}"'})
        return self._respond(response, session)
