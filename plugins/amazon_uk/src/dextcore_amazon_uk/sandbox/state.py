"""Server-side state of the Amazon sandbox and the helpers every route shares.

:class:`AmazonState` is the common base of the route mixins: it holds the
sign-in flows in progress (keyed by the form's ``workflowState``), the
logged-in sessions (keyed by the ``x-<suffix>`` cookie), remembered
devices, captchas and document links, all guarded by the server loop
(handlers never block; tests only read).

Choices where the reference is silent:

* Each region lives under its host-like base path (``/www.amazon.co.uk``)
  and sets its cookies with that path, so regions stay apart on one port.
* A session lives ``session_lifetime`` (24 h of the portal clock) from
  sign-in; :meth:`AmazonState.expire_sessions` ends them at once.
* Every page sets a ``session-id`` cookie on first visit; a sign-in POST
  without it gets "Please Enable Cookies to Continue", and a POST whose
  ``appActionToken``/``workflowState`` is not the one last issued to that
  cookie gets "Internal Error. Please try again later." (status 200).
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from typing import Any
from urllib.parse import quote, urlsplit

import attrs
from aiohttp import web

from dextcore.sandbox import SandboxPortal

from dextcore_amazon_uk.sandbox.data import AmazonAccount, Order, build_accounts, build_orders
from dextcore_amazon_uk.sandbox.regions import Region, region_for_host

__all__ = ["NEW_SESSION_ID", "AmazonState", "Flow", "LoginSession", "ape_decode", "ape_encode"]

HOST_PATTERN = r"{host:www\.amazon\.(?:co\.uk|de|com)}"
_OPENID = "http://specs.openid.net/auth/2.0"
NEW_SESSION_ID = web.RequestKey("amazon_new_session_id", str)
"""A ``session-id`` minted during this request, set as a cookie by the portal's middleware."""


def ape_encode(text: str) -> str:
    """Amazon's encoding of URLs in hidden fields: ``ape:`` + base64."""
    return "ape:" + base64.b64encode(text.encode()).decode()


def ape_decode(value: str) -> str:
    if value.startswith("ape:"):
        try:
            return base64.b64decode(value[4:]).decode()
        except ValueError:
            return ""
    return value


@attrs.define
class Flow:
    """One sign-in attempt, from the e-mail page to the logged-in redirect."""

    id: str
    """The ``workflowState`` hidden field."""
    session_id: str
    region: Region
    return_to: str
    """Path (and query) to land on once signed in."""
    token: str = attrs.field(repr=False)
    """The ``appActionToken`` last issued."""
    created: dt.datetime
    stage: str = "claim"
    account: AmazonAccount | None = None
    email: str = ""
    captcha: str | None = None
    device: str | None = None
    code: str | None = attrs.field(default=None, repr=False)
    code_at: dt.datetime | None = None
    polls: int = 0
    push_started: dt.datetime | None = None
    remember_me: bool = False
    waf_cleared: bool = False


@attrs.define
class LoginSession:
    token: str = attrs.field(repr=False)
    account: AmazonAccount
    region: Region
    created: dt.datetime
    profile: str = ""
    ended: bool = False


class AmazonState(SandboxPortal):
    """Shared state and helpers of the Amazon sandbox routes (see the module docstring)."""

    session_lifetime: dt.timedelta = dt.timedelta(hours=24)
    max_otps_per_day: int = 5
    code_validity: dt.timedelta = dt.timedelta(minutes=10)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.accounts: list[AmazonAccount] = build_accounts(self.rng)
        self.flows: dict[str, Flow] = {}
        self.sessions: dict[str, LoginSession] = {}
        self.remembered_devices: dict[str, str] = {}
        self.captchas: dict[str, str] = {}
        self.otps_sent: dict[tuple[str, dt.date], int] = {}
        self._orders: dict[tuple[str, dt.date], list[Order]] = {}
        self._captcha_count = 0

    # -- lookups -----------------------------------------------------------------

    def account(self, region: Region, email: str) -> AmazonAccount | None:
        """The account of ``email`` on ``region``'s marketplace (accounts belong to one marketplace)."""
        email = email.strip().lower()
        for account in self.accounts:
            if account.username == email and account.region == region:
                return account
        return None

    def orders(self, account: AmazonAccount) -> list[Order]:
        """The account's order history, newest first (stable for a given day)."""
        today = self.clock.today()
        key = (account.username, today)
        if key not in self._orders:
            self._orders[key] = build_orders(account, self.rng("orders", account.username), today)
        return self._orders[key]

    @staticmethod
    def region_of(request: web.Request) -> Region:
        return region_for_host(request.match_info["host"])

    # -- cookies and sessions ----------------------------------------------------------

    def session_id(self, request: web.Request) -> str:
        """The browser's ``session-id`` cookie, or a new one that the middleware will set."""
        existing = request.cookies.get("session-id")
        if existing:
            return existing
        if NEW_SESSION_ID not in request:
            request[NEW_SESSION_ID] = (f"{secrets.randbelow(900) + 100}-{secrets.randbelow(10**7):07d}-"
                                       f"{secrets.randbelow(10**7):07d}")
        return request[NEW_SESSION_ID]

    def current_session(self, request: web.Request) -> LoginSession | None:
        """The live login session the request's ``x-<suffix>`` cookie names, if any."""
        region = self.region_of(request)
        token = request.cookies.get(region.login_cookie)
        session = self.sessions.get(token or "")
        if session is None or session.ended or session.region != region:
            return None
        if self.clock.now() - session.created > self.session_lifetime:
            session.ended = True
            return None
        return session

    def expire_sessions(self, username: str | None = None) -> int:
        """End every live session (of ``username`` only, if given); returns how many ended."""
        ended = 0
        for session in self.sessions.values():
            if not session.ended and (username is None or session.account.username == username):
                session.ended = True
                ended += 1
        return ended

    def start_session(self, response: web.StreamResponse, flow: Flow, *, profile: str = "") -> LoginSession:
        """Sign ``flow``'s account in: remember the session and set the logged-in cookies on ``response``."""
        assert flow.account is not None
        region = flow.region
        session = LoginSession(secrets.token_urlsafe(24), flow.account, region, self.clock.now(),
                               profile or flow.account.name)
        self.sessions[session.token] = session
        flow.stage = "done"
        self.flows.pop(flow.id, None)
        max_age = int(self.session_lifetime.total_seconds()) if flow.remember_me else None
        for name, value in ((region.login_cookie, session.token), (region.access_cookie, secrets.token_urlsafe(32)),
                            (f"sess-at-{region.cookie_suffix}", secrets.token_urlsafe(16)),
                            ("session-token", secrets.token_urlsafe(48))):
            response.set_cookie(name, value, path=region.base_path, max_age=max_age, httponly=True)
        self.record("login", username=flow.account.username, region=region.variant, profile=session.profile)
        return session

    # -- URLs ------------------------------------------------------------------------

    def safe_return_path(self, region: Region, value: str) -> str:
        """Keep a return URL only if it stays on the region (no open redirect); else the home page."""
        parts = urlsplit(ape_decode(value or ""))
        path = parts.path
        if path == region.base_path or path.startswith(region.base_path + "/"):
            return path + (f"?{parts.query}" if parts.query else "")
        return f"{region.base_path}/?ref_=nav_signin"

    def signin_url(self, region: Region, return_to: str) -> str:
        """The ``/ap/signin`` URL with Amazon's OpenID parameters."""
        params = [("openid.pape.max_auth_age", "0"), ("openid.return_to", return_to),
                  ("openid.identity", f"{_OPENID}/identifier_select"),
                  ("openid.assoc_handle", region.assoc_handle), ("openid.mode", "checkid_setup"),
                  ("openid.claimed_id", f"{_OPENID}/identifier_select"), ("openid.ns", _OPENID)]
        return f"{region.base_path}/ap/signin?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in params)

    def redirect_to_signin(self, request: web.Request) -> web.Response:
        region = self.region_of(request)
        raise web.HTTPFound(self.signin_url(region, str(request.url)))

    # -- captchas ------------------------------------------------------------------------

    def new_captcha(self, region: Region) -> tuple[str, str]:
        """A fresh captcha: ``(id, image URL)``; the answer stays server-side."""
        self._captcha_count += 1
        rng = self.rng("captcha", self._captcha_count)
        text = "".join(rng.choice("ABCEFGHJKLMNPRTUXY") for _ in range(6))
        captcha_id = secrets.token_hex(8)
        self.captchas[captcha_id] = text
        return captcha_id, f"{region.base_path}/captcha/{captcha_id}.svg"

    async def captcha_image(self, request: web.Request) -> web.Response:
        """The captcha as an SVG image (the sandbox's stand-in for Amazon's JPEG): one glyph per character."""
        text = self.captchas.get(request.match_info["captcha_id"])
        if text is None:
            raise web.HTTPNotFound()
        rng = self.rng("captcha-image", text)
        glyphs = "".join(f'<text x="{14 + i * 30}" y="{45 + rng.randint(-6, 6)}" font-size="34" '
                         f'transform="rotate({rng.randint(-18, 18)} {24 + i * 30} 40)">{ch}</text>'
                         for i, ch in enumerate(text))
        noise = "".join(f'<line x1="{rng.randint(0, 200)}" y1="{rng.randint(0, 70)}" x2="{rng.randint(0, 200)}" '
                        f'y2="{rng.randint(0, 70)}" stroke="#555"/>' for _ in range(6))
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="70" viewBox="0 0 200 70">'
               f'<rect width="200" height="70" fill="#eee"/>{noise}{glyphs}</svg>')
        return web.Response(text=svg, content_type="image/svg+xml")

    def solve(self, captcha_id: str | None, guess: str) -> bool:
        """Check a guess; a captcha is good for one try."""
        answer = self.captchas.pop(captcha_id or "", None)
        return answer is not None and guess.strip().upper() == answer
