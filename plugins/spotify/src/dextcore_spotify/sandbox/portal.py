"""The Spotify sandbox portal: accounts.spotify.com, challenge.spotify.com and
the receipts of www.spotify.com, on one loopback port.

Faithful to docs/reference (portals.md, "Spotify"); where those are silent
the choices below are ours and are written here.

Hosts become base paths on the sandbox port:
``/accounts.spotify.com``, ``/challenge.spotify.com``, ``/www.spotify.com``
(and ``/accounts.google.com`` for the Google button). A connection's base
URL is the www base with its country path, ``<root>/www.spotify.com/uk``.
**The login base is derived** the way a visitor finds it: every account
page visited without a session answers ``302`` to
``<root>/accounts.spotify.com/login?continue=<the page>``, and the home
page ``/www.spotify.com/<cc>/`` links to it (``a[data-testid=login-button]``).
Plugins may also use the sibling rule "replace ``www.spotify.com`` by
``accounts.spotify.com`` and drop the country path" (:func:`dextcore_spotify.pages.accounts_base`).

Login (``/accounts.spotify.com/login``)
    A JavaScript app: the HTML holds ``div#root``, ``script#bootstrap-data``
    (``flowCtx``, ``continue``, ``allowPassword``) and ``static/login.js``.
    With ``allow_password=1`` the script draws ``input#login-username``,
    ``input#login-password``, ``#login-button``; without it the page offers
    "email me a code" (the password form is a link away). The page sets the
    ``sp_sso_csrf_token`` cookie (readable by scripts, path
    ``/accounts.spotify.com``); the script posts JSON to ``login/password``
    with header ``X-Csrf-Token`` = that cookie and body ``username, password,
    remember, continue, flowCtx, recaptchaToken``. Answers (ours where
    inferred): ``{"result":"ok"}`` (200, sets ``sp_dc``);
    ``{"error":"errorInvalidCredentials"}`` (400);
    ``{"error":"errorThirdPartyLogin","provider":"google"}`` (400, a Google-only
    account); ``{"result":"redirect_required","redirect_url":...}`` (200) for
    a challenge or the 2FA code page; ``{"error":"errorInvalidCsrf"}`` (403)
    without a matching header; ``{"error":"errorInvalidFlowContext"}`` (400);
    ``{"error":"errorTooManyRequests"}`` (429) after 5 failures of one
    username in 15 minutes. The error banner is
    ``div[data-encore-id=banner][role=alert]``.

reCAPTCHA
    ``static/recaptcha.js`` (a stand-in for Google's v3 script) gets a
    one-use token from ``POST /accounts.spotify.com/recaptcha/token``. A
    login without a valid token is treated like a low score: it is sent to
    the challenge page. The ``challenge`` account is always sent there.
    ``/challenge.spotify.com/c/<id>/recaptcha`` draws an "I'm not a robot"
    box that automation cannot pass (a plugin reports Blocked).

Two-factor (``2fa`` account)
    After the password, a 6-digit code is e-mailed (sandbox mailbox,
    address = username) and the answer redirects to
    ``/challenge.spotify.com/c/<id>/code``: a script draws ``input[name=code]``
    (redesign: six ``[data-testid=twofa-digit-input]`` boxes filling a hidden
    ``code``), the "trust this device" checkbox ``input[name=trusted]`` and
    a submit button; it is a plain form POST (fields ``code``, ``trusted``,
    ``csrf``) to the same URL. Codes live 10 minutes; 5 wrong codes void the
    challenge. A good code sets ``sp_dc`` (and with ``trusted`` the
    ``sp_trusted_device`` cookie, 90 days) and redirects to ``continue``; the
    next password login of that user carrying the device cookie skips 2FA.

Account pages (``/www.spotify.com/<cc>/account/...``)
    Without a valid ``sp_dc``: 302 to the login (without ``allow_password``,
    as the real site does). Another country than the account's: 302 to the
    account's country path. ``order-history/`` is a Next.js-like page whose
    ``script#__NEXT_DATA__`` holds
    ``props.pageProps.paymentHistoryResult.invoices[]`` (``id``,
    ``formattedSoldAt``, ``formattedAmountSummary``, ``menu[].link{semanticId,
    url}``); ``static/account.js`` renders ``[data-testid=invoice-table]``,
    each row linking to the receipt page (``a[data-testid=table-receipt]``).
    The menu has ``semanticId "receipt"`` (the HTML receipt page) for every
    invoice and ``"original-receipt"`` (the PDF) only when a PDF exists:
    receipts paid with a gift card have none and must be printed.
    ``.../receipt/<id>/original/`` answers the PDF (``invoice_pdf``, number =
    the invoice id) only with ``sp_dc``; without it, like every account page,
    **302 to the login page** (an HTML 200 at the end: a trap for plugins that
    do not check the body).

Redesign (``faults.redesign``)
    Login fields lose their ids (``data-testid=login-username`` ...,
    ``name`` kept), the 2FA code becomes six digit boxes, the user widget is
    ``button[data-testid=account-menu-button]``, the receipts are a
    ``div[role=table][data-testid=payment-history]`` of ``div[role=row]`` with
    ``a[data-testid=receipt-link]``. ``__NEXT_DATA__`` keeps its shape.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import secrets
import urllib.parse
from typing import Any

import attrs
from aiohttp import web

from dextcore.sandbox import DemoAccount, InvoiceLine, SandboxPortal, invoice_pdf
from dextcore_spotify.sandbox import html as pages
from dextcore_spotify.sandbox.data import COUNTRIES, Receipt, SandboxAccount, default_accounts, receipts_for

__all__ = ["SpotifyPortal", "ACCOUNTS", "CHALLENGE", "WWW"]

ACCOUNTS = "/accounts.spotify.com"
CHALLENGE = "/challenge.spotify.com"
WWW = "/www.spotify.com"
GOOGLE = "/accounts.google.com"

CSRF_COOKIE = "sp_sso_csrf_token"
SESSION_COOKIE = "sp_dc"
DEVICE_COOKIE = "sp_trusted_device"

SESSION_LIFETIME = dt.timedelta(days=30)
CODE_LIFETIME = dt.timedelta(minutes=10)
FLOW_LIFETIME = dt.timedelta(hours=1)
RECAPTCHA_LIFETIME = dt.timedelta(minutes=2)
DEVICE_LIFETIME = dt.timedelta(days=90)
MAX_CODE_ATTEMPTS = 5
MAX_LOGIN_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)

_STATIC_TYPES = {".js": "application/javascript", ".css": "text/css"}


@attrs.define
class _Challenge:
    id: str
    kind: str  # "code" (2FA after the password), "otc" (email-code login), "recaptcha"
    username: str
    continue_url: str
    csrf: str = attrs.field(repr=False)
    code: str | None = attrs.field(default=None, repr=False)
    issued: dt.datetime | None = None
    attempts: int = 0
    remember: bool = True
    done: bool = False


class SpotifyPortal(SandboxPortal):
    """Fake spotify.com (login, 2FA, challenge, receipts); see the module docstring."""

    name = "spotify"
    connector = "spotify"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.accounts: dict[str, SandboxAccount] = {a.username: a for a in default_accounts()}
        self._csrf: set[str] = set()
        self._flows: dict[str, dt.datetime] = {}
        self._recaptcha: dict[str, dt.datetime] = {}
        self._sessions: dict[str, tuple[str, dt.datetime]] = {}
        self._devices: dict[str, tuple[str, dt.datetime]] = {}
        self._challenges: dict[str, _Challenge] = {}
        self._failures: dict[str, list[dt.datetime]] = {}

    # -- SandboxPortal API --------------------------------------------------------

    def demo_accounts(self) -> list[DemoAccount]:
        out = [
            DemoAccount(connector=self.connector, variant=a.country, username=a.username,
                        password=a.password or "no-spotify-password", scenario=a.scenario,
                        description=a.description, phone=a.mail_to if a.scenario == "2fa" else None)
            for a in self.accounts.values()
        ]
        ok = self.accounts["listener@example.com"]
        out.append(DemoAccount(connector=self.connector, variant=ok.country, username=ok.username,
                               password="wrong-password", scenario="wrong-password",
                               description="The ok account with a wrong password: 'Incorrect username or password.'"))
        return out

    def variant_base_url(self, root: str, variant: str | None) -> str:
        """``<root>/www.spotify.com/<cc>`` (``uk`` by default); the login base is
        ``<root>/accounts.spotify.com`` (see the module docstring)."""
        country = variant or "uk"
        if country not in COUNTRIES:
            raise ValueError(f"unknown Spotify country path {country!r}")
        return f"{root}{WWW}/{country}"

    def build_app(self) -> web.Application:
        app = super().build_app()
        r = app.router
        for host in (ACCOUNTS, CHALLENGE, WWW):
            r.add_get(host + "/static/{name}", self._static)
        r.add_get(ACCOUNTS + "/login", self._login_page)
        r.add_post(ACCOUNTS + "/login/password", self._login_password)
        r.add_post(ACCOUNTS + "/login/otc", self._login_otc)
        r.add_post(ACCOUNTS + "/recaptcha/token", self._recaptcha_token)
        r.add_get(ACCOUNTS + "/login/google", self._google_redirect)
        r.add_get(GOOGLE + "/signin", self._google_page)
        r.add_get(CHALLENGE + "/c/{cid}/recaptcha", self._recaptcha_page)
        r.add_get(CHALLENGE + "/c/{cid}/code", self._code_page)
        r.add_post(CHALLENGE + "/c/{cid}/code", self._code_submit)
        r.add_get(WWW + "/", self._www_root)
        r.add_get(WWW + "/account/{page}/", self._account_without_country)
        r.add_get(WWW + "/{cc}/", self._home)
        r.add_get(WWW + "/{cc}/logout/", self._logout)
        r.add_get(WWW + "/{cc}/account/overview/", self._overview)
        r.add_get(WWW + "/{cc}/account/order-history/", self._order_history)
        r.add_get(WWW + "/{cc}/account/receipt/{rid}/", self._receipt_page)
        r.add_get(WWW + "/{cc}/account/receipt/{rid}/original/", self._receipt_pdf)
        return app

    # -- helpers for tests and the admin view ---------------------------------------

    def receipts(self, username: str) -> list[Receipt]:
        """The receipts of ``username`` as the portal serves them today (newest first)."""
        return receipts_for(self.accounts[username], seed=self.seed, today=self.clock.today())

    def expire_sessions(self) -> None:
        """Forget every ``sp_dc`` session (the next account page asks to log in again)."""
        self._sessions.clear()

    def forget_failures(self) -> None:
        """Lift every lock-out caused by failed logins."""
        self._failures.clear()

    # -- state --------------------------------------------------------------------------

    def _now(self) -> dt.datetime:
        return self.clock.now()

    def _session_user(self, request: web.Request) -> SandboxAccount | None:
        token = request.cookies.get(SESSION_COOKIE)
        entry = self._sessions.get(token or "")
        if entry is None:
            return None
        username, expires = entry
        if self._now() >= expires:
            del self._sessions[token]  # type: ignore[arg-type]
            return None
        return self.accounts.get(username)

    def _start_session(self, response: web.StreamResponse, account: SandboxAccount, *, remember: bool,
                       method: str) -> None:
        token = secrets.token_urlsafe(32)
        self._sessions[token] = (account.username, self._now() + SESSION_LIFETIME)
        max_age = int(SESSION_LIFETIME.total_seconds()) if remember else None
        response.set_cookie(SESSION_COOKIE, token, path="/", httponly=True, samesite="Lax", max_age=max_age)
        self.record("login", username=account.username, method=method)

    def _trusted(self, request: web.Request, account: SandboxAccount) -> bool:
        entry = self._devices.get(request.cookies.get(DEVICE_COOKIE) or "")
        return entry is not None and entry[0] == account.username and self._now() < entry[1]

    def _origin(self, request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    def _safe_continue(self, request: web.Request, value: str | None) -> str:
        """``continue`` when it points back at this sandbox's www pages, else the overview."""
        default = f"{self._origin(request)}{WWW}/account/overview/"
        if not value:
            return default
        parsed = urllib.parse.urlsplit(value)
        if parsed.netloc and parsed.netloc != request.host:
            return default
        if not parsed.path.startswith(WWW + "/"):
            return default
        return f"{self._origin(request)}{parsed.path}" + (f"?{parsed.query}" if parsed.query else "")

    def _login_redirect(self, request: web.Request) -> web.HTTPFound:
        target = f"{self._origin(request)}{request.path_qs}"
        query = urllib.parse.urlencode({"continue": target})
        return web.HTTPFound(f"{ACCOUNTS}/login?{query}")

    def _redesign(self) -> bool:
        return bool(self.faults.redesign)

    def _failed(self, username: str, reason: str) -> None:
        now = self._now()
        recent = [t for t in self._failures.get(username, []) if now - t < FAILURE_WINDOW]
        recent.append(now)
        self._failures[username] = recent
        self.record("login_failed", username=username, reason=reason)

    def _locked(self, username: str) -> bool:
        now = self._now()
        return sum(1 for t in self._failures.get(username, []) if now - t < FAILURE_WINDOW) >= MAX_LOGIN_FAILURES

    def _new_challenge(self, kind: str, account: SandboxAccount, continue_url: str, *, remember: bool = True
                       ) -> _Challenge:
        challenge = _Challenge(id=secrets.token_hex(16), kind=kind, username=account.username,
                               continue_url=continue_url, csrf=secrets.token_urlsafe(24), remember=remember)
        if kind in ("code", "otc"):
            self._send(challenge, account)
        self._challenges[challenge.id] = challenge
        self.record("challenge_shown", username=account.username, challenge=kind)
        return challenge

    def _send(self, challenge: _Challenge, account: SandboxAccount) -> None:
        challenge.code = self.send_code(account.mail_to, channel="email",
                                        template="Your Spotify login code is {code}. It expires in 10 minutes.")
        challenge.issued = self._now()
        challenge.attempts = 0

    def _challenge_url(self, request: web.Request, challenge: _Challenge) -> str:
        page = "recaptcha" if challenge.kind == "recaptcha" else "code"
        return f"{self._origin(request)}{CHALLENGE}/c/{challenge.id}/{page}"

    # -- static files -------------------------------------------------------------------

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        suffix = name[name.rfind("."):] if "." in name else ""
        if "/" in name or suffix not in _STATIC_TYPES:
            raise web.HTTPNotFound()
        resource = importlib.resources.files("dextcore_spotify.sandbox").joinpath("static", name)
        if not resource.is_file():
            raise web.HTTPNotFound()
        return web.Response(body=resource.read_bytes(), content_type=_STATIC_TYPES[suffix], charset="utf-8")

    # -- accounts.spotify.com -------------------------------------------------------------

    async def _login_page(self, request: web.Request) -> web.Response:
        continue_url = self._safe_continue(request, request.query.get("continue"))
        if self._session_user(request) is not None:
            raise web.HTTPFound(continue_url)
        flow = f"{secrets.token_hex(16)}:{int(self._now().timestamp())}"
        self._flows[flow] = self._now() + FLOW_LIFETIME
        bootstrap = {
            "flowCtx": flow,
            "continue": continue_url,
            "allowPassword": request.query.get("allow_password") == "1",
            "redesign": self._redesign(),
            "errorCode": None,
        }
        response = web.Response(text=pages.app_shell(title="Login - Spotify", bootstrap=bootstrap,
                                                     script=f"{ACCOUNTS}/static/login.js"),
                                content_type="text/html")
        csrf = request.cookies.get(CSRF_COOKIE)
        if csrf not in self._csrf:
            csrf = secrets.token_hex(20)
            self._csrf.add(csrf)
            # Scripts read it (not HttpOnly) to echo it in X-Csrf-Token.
            response.set_cookie(CSRF_COOKIE, csrf, path=ACCOUNTS, samesite="Lax")
        return response

    async def _json_body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text='{"error":"errorInvalidRequest"}', content_type="application/json")
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text='{"error":"errorInvalidRequest"}', content_type="application/json")
        return body

    def _check_csrf(self, request: web.Request) -> None:
        header = request.headers.get("X-Csrf-Token", "")
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not header or header != cookie or header not in self._csrf:
            raise web.HTTPForbidden(text='{"error":"errorInvalidCsrf"}', content_type="application/json")

    def _check_flow(self, body: dict[str, Any]) -> web.Response | None:
        expires = self._flows.get(str(body.get("flowCtx") or ""))
        if expires is None or self._now() >= expires:
            return web.json_response({"error": "errorInvalidFlowContext"}, status=400)
        return None

    async def _recaptcha_token(self, request: web.Request) -> web.Response:
        token = "03A" + secrets.token_urlsafe(48)
        self._recaptcha[token] = self._now() + RECAPTCHA_LIFETIME
        return web.json_response({"token": token})

    def _spend_recaptcha(self, token: str) -> bool:
        expires = self._recaptcha.pop(token, None)
        return expires is not None and self._now() < expires

    async def _login_password(self, request: web.Request) -> web.Response:
        self._check_csrf(request)
        body = await self._json_body(request)
        if (bad := self._check_flow(body)) is not None:
            return bad
        username = str(body.get("username") or "").strip()
        password = str(body.get("password") or "")
        continue_url = self._safe_continue(request, body.get("continue"))
        account = self.accounts.get(username)
        if self._locked(username):
            self.record("login_failed", username=username, reason="too_many_attempts")
            return web.json_response({"error": "errorTooManyRequests"}, status=429)
        human = self._spend_recaptcha(str(body.get("recaptchaToken") or ""))
        if account is not None and account.scenario == "sso-google":
            self._failed(username, "sso_only")
            return web.json_response({"error": "errorThirdPartyLogin", "provider": "google"}, status=400)
        if account is None or account.password is None or not secrets.compare_digest(password, account.password):
            self._failed(username, "invalid_credentials")
            return web.json_response({"error": "errorInvalidCredentials"}, status=400)
        if not human or account.scenario == "challenge":
            challenge = self._new_challenge("recaptcha", account, continue_url)
            return web.json_response({"result": "redirect_required",
                                      "redirect_url": self._challenge_url(request, challenge)})
        remember = body.get("remember", True) not in (False, "false", "0", 0)
        if account.scenario == "2fa" and not self._trusted(request, account):
            challenge = self._new_challenge("code", account, continue_url, remember=remember)
            return web.json_response({"result": "redirect_required",
                                      "redirect_url": self._challenge_url(request, challenge)})
        response = web.json_response({"result": "ok"})
        self._start_session(response, account, remember=remember, method="password")
        return response

    async def _login_otc(self, request: web.Request) -> web.Response:
        """The default "email me a login code" flow (no password)."""
        self._check_csrf(request)
        body = await self._json_body(request)
        if (bad := self._check_flow(body)) is not None:
            return bad
        account = self.accounts.get(str(body.get("username") or "").strip())
        if account is None or account.scenario == "sso-google":
            return web.json_response({"error": "errorUnknownUser"}, status=400)
        challenge = self._new_challenge("otc", account, self._safe_continue(request, body.get("continue")))
        return web.json_response({"result": "redirect_required", "redirect_url": self._challenge_url(request, challenge)})

    async def _google_redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(f"{GOOGLE}/signin?" + urllib.parse.urlencode({"service": "spotify"}))

    async def _google_page(self, request: web.Request) -> web.Response:
        return web.Response(text=pages.simple_page("Sign in with Google", "Choose an account to continue to Spotify."),
                            content_type="text/html")

    # -- challenge.spotify.com -------------------------------------------------------------

    def _challenge(self, request: web.Request, kind: tuple[str, ...]) -> _Challenge:
        challenge = self._challenges.get(request.match_info["cid"])
        if challenge is None or challenge.kind not in kind or challenge.done:
            raise web.HTTPNotFound(text=pages.simple_page("Page not found", "This link has expired."),
                                   content_type="text/html")
        return challenge

    async def _recaptcha_page(self, request: web.Request) -> web.Response:
        challenge = self._challenge(request, ("recaptcha",))
        bootstrap = {"kind": "recaptcha", "redesign": self._redesign(), "challengeId": challenge.id}
        return web.Response(text=pages.app_shell(title="Challenge - Spotify", bootstrap=bootstrap,
                                                 script=f"{CHALLENGE}/static/challenge.js"),
                            content_type="text/html")

    def _code_response(self, challenge: _Challenge, error: str | None, status: int = 200) -> web.Response:
        account = self.accounts[challenge.username]
        name, _, domain = account.mail_to.partition("@")
        masked = f"{name[:1]}{'*' * max(len(name) - 2, 1)}{name[-1:]}@{domain}"
        bootstrap = {"kind": "email-code", "redesign": self._redesign(), "maskedEmail": masked,
                     "csrf": challenge.csrf, "error": error, "digits": 6,
                     "allowTrust": challenge.kind == "code"}
        return web.Response(text=pages.app_shell(title="Enter your code - Spotify", bootstrap=bootstrap,
                                                 script=f"{CHALLENGE}/static/challenge.js"),
                            content_type="text/html", status=status)

    async def _code_page(self, request: web.Request) -> web.Response:
        return self._code_response(self._challenge(request, ("code", "otc")), None)

    async def _code_submit(self, request: web.Request) -> web.Response:
        challenge = self._challenge(request, ("code", "otc"))
        form = await request.post()
        if str(form.get("csrf") or "") != challenge.csrf:
            return self._code_response(challenge, "errorInvalidCsrf", status=403)
        account = self.accounts[challenge.username]
        if form.get("resend"):
            self._send(challenge, account)
            return self._code_response(challenge, None)
        code = "".join(ch for ch in str(form.get("code") or "") if ch.isdigit())
        if challenge.issued is None or challenge.code is None:  # a reCAPTCHA challenge has no code
            raise web.HTTPNotFound()
        if self._now() - challenge.issued >= CODE_LIFETIME:
            self.record("code_rejected", username=account.username, reason="expired")
            return self._code_response(challenge, "errorCodeExpired", status=400)
        if not secrets.compare_digest(code, challenge.code):
            challenge.attempts += 1
            self.record("code_rejected", username=account.username, reason="incorrect")
            if challenge.attempts >= MAX_CODE_ATTEMPTS:
                challenge.done = True
                return web.Response(text=pages.simple_page("Too many attempts", "Log in again to get a new code."),
                                    content_type="text/html", status=429)
            return self._code_response(challenge, "errorInvalidCode", status=400)
        challenge.done = True
        response = web.HTTPFound(challenge.continue_url)
        if form.get("trusted") and challenge.kind == "code":
            device = secrets.token_urlsafe(24)
            self._devices[device] = (account.username, self._now() + DEVICE_LIFETIME)
            response.set_cookie(DEVICE_COOKIE, device, path="/", httponly=True, samesite="Lax",
                                max_age=int(DEVICE_LIFETIME.total_seconds()))
        self._start_session(response, account, remember=challenge.remember, method=challenge.kind)
        raise response

    # -- www.spotify.com -----------------------------------------------------------------------

    async def _www_root(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(f"{WWW}/uk/")

    def _country(self, request: web.Request) -> str:
        country = request.match_info["cc"]
        if country not in COUNTRIES:
            raise web.HTTPNotFound(text=pages.simple_page("Page not found", "Unknown country."),
                                   content_type="text/html")
        return country

    async def _home(self, request: web.Request) -> web.Response:
        country = self._country(request)
        overview = f"{self._origin(request)}{WWW}/{country}/account/overview/"
        login = f"{ACCOUNTS}/login?" + urllib.parse.urlencode({"continue": overview})
        return web.Response(text=pages.home_page(country=country, login_url=login), content_type="text/html")

    async def _logout(self, request: web.Request) -> web.Response:
        self._sessions.pop(request.cookies.get(SESSION_COOKIE) or "", None)
        response = web.HTTPFound(f"{WWW}/{self._country(request)}/")
        response.del_cookie(SESSION_COOKIE, path="/")
        raise response

    def _account_user(self, request: web.Request) -> SandboxAccount:
        """The logged-in account of an account page, redirecting when needed."""
        account = self._session_user(request)
        if account is None:
            raise self._login_redirect(request)
        country = self._country(request)
        if country != account.country:
            path = request.path.replace(f"{WWW}/{country}/", f"{WWW}/{account.country}/", 1)
            raise web.HTTPFound(path)
        return account

    async def _account_without_country(self, request: web.Request) -> web.Response:
        account = self._session_user(request)
        if account is None:
            raise self._login_redirect(request)
        page = request.match_info["page"]
        raise web.HTTPFound(f"{WWW}/{account.country}/account/{page}/")

    def _next_data(self, request: web.Request, account: SandboxAccount, page: str,
                   page_props: dict[str, Any]) -> dict[str, Any]:
        country = COUNTRIES[account.country]
        props = {"user": {"displayName": account.display_name, "country": account.country},
                 "market": account.country, "locale": country.locale, "redesign": self._redesign(), **page_props}
        return {"props": {"pageProps": props}, "page": f"/[market]/account/{page}",
                "query": {"market": account.country}, "buildId": "sandbox-1", "isFallback": False,
                "locale": country.locale}

    async def _overview(self, request: web.Request) -> web.Response:
        account = self._account_user(request)
        data = self._next_data(request, account, "overview", {"plan": {"name": "Premium Individual"}})
        return web.Response(text=pages.next_page(title="Account overview - Spotify", next_data=data,
                                                 script=f"{WWW}/static/account.js",
                                                 lang=COUNTRIES[account.country].locale),
                            content_type="text/html")

    def _receipt_urls(self, request: web.Request, receipt: Receipt) -> tuple[str, str | None]:
        base = f"{self._origin(request)}{WWW}/{receipt.country.code}/account/receipt/{receipt.id}/"
        return base, (base + "original/" if receipt.has_pdf else None)

    async def _order_history(self, request: web.Request) -> web.Response:
        account = self._account_user(request)
        invoices = []
        for receipt in self.receipts(account.username):
            page_url, pdf_url = self._receipt_urls(request, receipt)
            menu = [{"label": "View receipt", "link": {"semanticId": "receipt", "url": page_url}}]
            if pdf_url:
                menu.append({"label": "Download original receipt",
                             "link": {"semanticId": "original-receipt", "url": pdf_url}})
            invoices.append({
                "id": receipt.id,
                "formattedSoldAt": receipt.formatted_sold_at,
                "formattedAmountSummary": receipt.formatted_amount,
                "productName": receipt.product,
                "paymentMethod": receipt.payment_method,
                "menu": menu,
            })
        data = self._next_data(request, account, "order-history",
                               {"paymentHistoryResult": {"invoices": invoices, "hasMore": False}})
        return web.Response(text=pages.next_page(title="Order history - Spotify", next_data=data,
                                                 script=f"{WWW}/static/account.js",
                                                 lang=COUNTRIES[account.country].locale),
                            content_type="text/html")

    def _find_receipt(self, account: SandboxAccount, receipt_id: str) -> Receipt:
        for receipt in self.receipts(account.username):
            if receipt.id == receipt_id:
                return receipt
        raise web.HTTPNotFound(text=pages.simple_page("Page not found", "No such receipt."), content_type="text/html")

    async def _receipt_page(self, request: web.Request) -> web.Response:
        account = self._account_user(request)
        receipt = self._find_receipt(account, request.match_info["rid"])
        _, pdf_url = self._receipt_urls(request, receipt)
        return web.Response(text=pages.receipt_page(receipt, buyer=account.display_name, pdf_url=pdf_url,
                                                    redesign=self._redesign()),
                            content_type="text/html")

    async def _receipt_pdf(self, request: web.Request) -> web.Response:
        account = self._account_user(request)
        receipt = self._find_receipt(account, request.match_info["rid"])
        if not receipt.has_pdf:
            raise web.HTTPNotFound(text=pages.simple_page("Page not found", "No original receipt for this payment."),
                                   content_type="text/html")
        body = invoice_pdf(
            number=receipt.id, date=receipt.sold_on, seller="Spotify AB", buyer=account.display_name,
            lines=[InvoiceLine(receipt.product, 1, receipt.net, receipt.country.vat_rate)],
            currency=receipt.country.currency, title="Receipt",
            extra=[f"Payment method: {receipt.payment_method}"],
        )
        return web.Response(body=body, content_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="Spotify-receipt-{receipt.id}.pdf"'})
