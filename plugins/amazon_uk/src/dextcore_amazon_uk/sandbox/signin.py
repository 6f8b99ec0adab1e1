"""The Amazon sign-in flow of the sandbox: two-step form, captchas, bot wall,
two-step verification, push approval, SSO redirect and account switcher.

What each demo account meets after a correct e-mail and password is its
scenario (see :mod:`~dextcore_amazon_uk.sandbox.data`). Choices where the
reference is silent:

* ``GET /ap/signin`` always starts a new sign-in (as ``max_auth_age=0``
  asks); the form also accepts e-mail and password in one POST.
* An unknown e-mail gets the error box or, for about a third of addresses
  (a fixed function of seed and address, :meth:`SignInRoutes.unknown_email_page`),
  the "intent" page of the newer flow.
* The inline captcha appears on the first password POST (correct or not);
  the cvf puzzle (``/ap/cvf/request``) and the robot check follow a correct
  password. Captcha images are SVG with one ``<text>`` per character.
* The JavaScript wall answers the e-mail POST with status 202 and the AWS
  WAF page; its ``challenge.js`` is on AWS's host, which the sandbox does not
  serve, so no client gets past it (as with the real wall without JS).
* SMS/voice codes live ``code_validity`` (10 min) and are delivered to the
  account's phone in the mailbox; more than ``max_otps_per_day`` sends a day
  gives "You've requested too many OTPs today". TOTP codes are checked with
  pyotp (±1 step) against the account's secret at the portal clock.
* "Don't require OTP on this browser" sets ``ap-rd-<suffix>`` (a year); with
  it the next sign-in of that account skips the code.
* Push: ``/ap/cvf/approval`` also delivers a code to the phone
  (``form#verification-code-form`` accepts it); ``/ap/cvf/approval/poll``
  answers TransactionPending until ``push_polls_to_approve`` polls have been
  made, then TransactionCompleted with the login cookies set on that answer
  (when ``push_behaviour`` is ``"approve"``; ``"deny"`` gives
  TransactionResponded, ``"ignore"`` stays pending); after 10 minutes of
  portal time it is TransactionCompletionTimeout.
* SSO: the e-mail POST redirects (302) to ``http://localhost:<port>/okta/...``
  with ``loginfmt`` — another host than the portal's 127.0.0.1 — whose
  form records ``sso_credentials_received`` if anything is posted to it.
* Account switcher: ``/ap/switchaccount`` lists profiles; following one
  signs in as that profile.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Mapping
from urllib.parse import quote

import pyotp
from aiohttp import web

from dextcore_amazon_uk.sandbox import markup
from dextcore_amazon_uk.sandbox.data import AmazonAccount
from dextcore_amazon_uk.sandbox.regions import Region
from dextcore_amazon_uk.sandbox.state import HOST_PATTERN, AmazonState, Flow, ape_encode

__all__ = ["SignInRoutes"]

_HTML = "text/html"
_PUSH_TIMEOUT = dt.timedelta(minutes=10)
_DEVICE_ID = "aAbBcCdD12"
_REMEMBER_DEVICE_AGE = 365 * 24 * 3600


def _html(text: str, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(text=text, status=status, content_type=_HTML, charset="utf-8", headers=headers)


class SignInRoutes(AmazonState):
    """Routes of ``/ap/...``, ``/errors/validateCaptcha`` and the foreign identity provider."""

    push_polls_to_approve: int = 2
    push_behaviour: str = "approve"

    def add_signin_routes(self, app: web.Application) -> None:
        base = "/" + HOST_PATTERN
        app.router.add_get(base + "/ap/signin", self.signin_get)
        app.router.add_post(base + "/ap/signin", self.signin_post)
        app.router.add_post(base + "/ax/claim/signin", self.signin_post)  # the redesigned form posts here
        app.router.add_get(base + "/captcha/{captcha_id}.svg", self.captcha_image)
        app.router.add_get(base + "/ap/cvf/request", self.cvf_get)
        app.router.add_post(base + "/ap/cvf/verify", self.cvf_post)
        app.router.add_get(base + "/errors/validateCaptcha", self.robot_validate)
        app.router.add_get(base + "/ap/cvf/approval", self.approval_get)
        app.router.add_get(base + "/ap/cvf/approval/poll", self.approval_poll)
        app.router.add_post(base + "/ap/cvf/approval/verifyOtp", self.approval_verify)
        app.router.add_post(base + "/ap/cvf/approval/resend", self.approval_resend)
        app.router.add_get(base + "/ap/switchaccount", self.switch_get)
        app.router.add_get(base + "/ap/switchaccount/switch", self.switch_select)
        app.router.add_get(base + "/gp/flex/sign-out.html", self.sign_out)
        app.router.add_get("/okta/app/{tail:.*}", self.okta_get)
        app.router.add_post("/okta/login/do-login", self.okta_post)

    # -- helpers ---------------------------------------------------------------------

    def unknown_email_page(self, email: str) -> str:
        """``"intent"`` or ``"error"``: what an unknown ``email`` is shown (stable per seed and address)."""
        digest = hashlib.sha256(f"{self.seed}:{email.strip().lower()}".encode()).digest()
        return "intent" if digest[0] % 3 == 0 else "error"

    def _new_token(self, flow: Flow) -> str:
        flow.token = secrets.token_urlsafe(32)
        return flow.token

    def _hidden(self, flow: Flow, app_action: str = "SIGNIN_PWD_COLLECT", **extra: str) -> dict[str, str]:
        fields = {"appActionToken": self._new_token(flow), "appAction": app_action,
                  "subPageType": "SignInClaimCollect",
                  "openid.return_to": ape_encode(flow.return_to),
                  "prevRID": ape_encode(secrets.token_hex(10).upper()), "workflowState": flow.id, "create": "0"}
        fields.update(extra)
        return fields

    def _claim_page(self, flow: Flow, *, error: str = "", email: str = "") -> web.Response:
        flow.stage = "claim"
        return _html(markup.signin_claim(flow.region, self._hidden(flow), error=error, email=email,
                                         v2=self.faults.redesign))

    def _password_page(self, flow: Flow, *, error: str = "", warning: str = "", captcha_src: str = "") -> web.Response:
        flow.stage = "password"
        hidden = self._hidden(flow, email=flow.email, metadata1="", passkeyEligible="0", passkeyMetadata="")
        return _html(markup.signin_password(flow.region, hidden, email=flow.email, error=error, warning=warning,
                                            captcha_src=captcha_src, v2=self.faults.redesign))

    def new_flow(self, request: web.Request, region: Region, return_to: str) -> Flow:
        flow = Flow(id=secrets.token_urlsafe(24), session_id=self.session_id(request), region=region,
                    return_to=self.safe_return_path(region, return_to), token="", created=self.clock.now())
        self.flows[flow.id] = flow
        return flow

    def signin_page_response(self, request: web.Request, return_to: str = "") -> web.Response:
        """A fresh sign-in (e-mail) page, as served at ``/ap/signin`` and in place of expired documents."""
        region = self.region_of(request)
        return self._claim_page(self.new_flow(request, region, return_to))

    def _flow_of(self, request: web.Request, form: Mapping[str, str], *, key: str = "workflowState") -> Flow | None:
        flow = self.flows.get(form.get(key, ""))
        if flow is None or flow.region != self.region_of(request):
            return None
        if request.cookies.get("session-id") != flow.session_id:
            return None
        return flow

    def _login_redirect(self, flow: Flow, *, profile: str = "") -> web.Response:
        response = web.Response(status=302, headers={"Location": flow.return_to})
        self.start_session(response, flow, profile=profile)
        return response

    # -- sign-in form -------------------------------------------------------------------

    async def signin_get(self, request: web.Request) -> web.Response:
        region = self.region_of(request)
        query = request.query
        if query.get("selectedChallengeType") == "password":
            flow = self._flow_of(request, query)
            if flow is not None and flow.account is not None:
                return self._password_page(flow)
        handle = query.get("openid.assoc_handle")
        if handle and handle != region.assoc_handle:
            return _html(markup.internal_error(region))
        return self.signin_page_response(request, query.get("openid.return_to", ""))

    async def signin_post(self, request: web.Request) -> web.Response:
        region = self.region_of(request)
        form = await request.post()
        data = {k: str(v) for k, v in form.items()}
        if "session-id" not in request.cookies:
            return _html(markup.cookies_disabled(region))
        flow = self._flow_of(request, data)
        if flow is None or data.get("appActionToken") != flow.token:
            return _html(markup.internal_error(region))
        action = data.get("appAction", "")
        if action == "MFA_NEW_OTP" and flow.stage == "device":
            return self._device_chosen(flow, data.get("otpDeviceContext", ""))
        if action == "SIGNIN_MFA" and flow.stage == "mfa":
            return self._check_code(request, flow, data)
        if action != "SIGNIN_PWD_COLLECT" or flow.stage not in ("claim", "password"):
            return _html(markup.internal_error(region))
        if flow.stage == "claim":
            flow.remember_me = data.get("rememberMe") == "true"
            response = self._claim_posted(request, flow, data.get("email", ""))
            if response is not None or "password" not in data:
                return response or self._password_page(flow)
        return self._password_posted(request, flow, data)

    def _claim_posted(self, request: web.Request, flow: Flow, email: str) -> web.Response | None:
        """Step 1. Returns the answer, or ``None`` to go on to the password."""
        region = flow.region
        account = self.account(region, email)
        flow.email = email.strip()
        if account is None:
            self.record("login_failed", username=email, region=region.variant, reason="unknown_email")
            if self.unknown_email_page(email) == "intent":
                return _html(markup.intent_page(region, email=email, hidden=self._hidden(flow, email=email)))
            return self._claim_page(flow, error=region.text("unknown_email"), email=email)
        flow.account = account
        if account.scenario == "jswall":
            self.record("captcha_shown", username=account.username, challenge="jswall")
            script = "https://3a1f9c27e0b4.edge.sdk.awswaf.com/3a1f9c27e0b4/7d02be1e4a9c/challenge.js"
            return _html(markup.waf_challenge(region, script_src=script), status=202,
                         headers={"x-amzn-waf-action": "challenge"})
        if account.scenario == "sso":
            port = request.url.port
            self.record("sso_redirect", username=account.username)
            raise web.HTTPFound(f"http://localhost:{port}/okta/app/acme_amazonbusiness/exk1a2b3c4d5/sso/saml"
                                f"?loginfmt={quote(account.username)}&SAMLRequest={secrets.token_urlsafe(24)}")
        if account.passkey_first or account.scenario == "passkey-first":
            flow.stage = "password"
            href = (f"{region.base_path}/ap/signin?workflowState={quote(flow.id)}&selectedChallengeType=password"
                    f"&openid.assoc_handle={region.assoc_handle}")
            return _html(markup.passkey_page(region, email=flow.email, password_href=href))
        return None

    def _password_posted(self, request: web.Request, flow: Flow, data: Mapping[str, str]) -> web.Response:
        """Step 2: the password, and the inline captcha for the accounts that get one."""
        region, account = flow.region, flow.account
        if account is None:
            return self._claim_page(flow)
        if "rememberMe" in data:
            flow.remember_me = data.get("rememberMe") == "true"
        if account.scenario == "captcha-inline":
            if flow.captcha is None:
                flow.captcha, src = self.new_captcha(region)
                self.record("captcha_shown", username=account.username, challenge="inline")
                return self._password_page(flow, warning=region.text("captcha_warning"), captcha_src=src)
            if not self.solve(flow.captcha, data.get("guess", "")):
                flow.captcha, src = self.new_captcha(region)
                return self._password_page(flow, error=region.text("captcha_wrong"), captcha_src=src)
        if data.get("password", "") != account.password:
            self.record("login_failed", username=account.username, region=region.variant, reason="wrong_password")
            if account.scenario == "captcha-inline":
                flow.captcha, src = self.new_captcha(region)
                return self._password_page(flow, error=region.text("wrong_password"), captcha_src=src)
            return self._password_page(flow, error=region.text("wrong_password"))
        return self._after_password(request, flow)

    def _after_password(self, request: web.Request, flow: Flow) -> web.Response:
        region, account = flow.region, flow.account
        assert account is not None
        base = region.base_path
        if account.scenario == "captcha-cvf":
            flow.stage = "cvf"
            raise web.HTTPFound(f"{base}/ap/cvf/request?arb={quote(flow.id)}")
        if account.scenario == "captcha-robot":
            return self._robot_page(flow)
        if account.scenario == "push":
            flow.stage = "push"
            raise web.HTTPFound(f"{base}/ap/cvf/approval?arb={quote(flow.id)}")
        if account.scenario == "account-switcher":
            flow.stage = "switch"
            raise web.HTTPFound(f"{base}/ap/switchaccount?arb={quote(flow.id)}")
        if account.devices:
            remembered = request.cookies.get(region.remember_device_cookie, "")
            if self.remembered_devices.get(remembered) == account.username:
                self.record("otp_skipped", username=account.username)
                return self._login_redirect(flow)
            if len(account.devices) > 1:
                return self._device_page(flow)
            return self._device_chosen(flow, self._device_value(account, account.devices[0]))
        return self._login_redirect(flow)

    # -- two-step verification ------------------------------------------------------------

    @staticmethod
    def _device_value(account: AmazonAccount, kind: str) -> str:
        return f", {kind}" if kind == "TOTP" else f"{_DEVICE_ID}, {kind}"

    def _device_page(self, flow: Flow, *, error: str = "") -> web.Response:
        account = flow.account
        assert account is not None
        flow.stage = "device"
        last = (account.phone or "")[-2:]
        labels = {"SMS": f"Text me at my number ending in {last}", "VOICE": f"Call me at my number ending in {last}",
                  "TOTP": "Use my Authenticator App"}
        devices = [(self._device_value(account, kind), labels[kind]) for kind in account.devices]
        hidden = self._hidden(flow, "MFA_NEW_OTP", subAction="SELECT_DEVICE")
        return _html(markup.mfa_device_choice(flow.region, hidden=hidden, devices=devices, error=error))

    def _mfa_page(self, flow: Flow, *, error: str = "") -> web.Response:
        region, account = flow.region, flow.account
        assert account is not None
        flow.stage = "mfa"
        last = (account.phone or "")[-2:]
        prompt = {"SMS": region.text("mfa_sms", last=last), "VOICE": region.text("mfa_voice", last=last)}.get(
            flow.device or "", region.text("mfa_totp"))
        device_id = "" if flow.device == "TOTP" else _DEVICE_ID
        hidden = self._hidden(flow, "SIGNIN_MFA", deviceId=device_id, rememberMe="true" if flow.remember_me else "false")
        hidden.pop("create")
        return _html(markup.mfa_form(region, hidden=hidden, prompt=prompt, error=error))

    def _device_chosen(self, flow: Flow, value: str) -> web.Response:
        account = flow.account
        assert account is not None
        kind = value.rsplit(",", 1)[-1].strip().upper()
        if kind not in account.devices:
            return self._device_page(flow)
        flow.device = kind
        if kind in ("SMS", "VOICE"):
            key = (account.username, self.clock.today())
            if self.otps_sent.get(key, 0) >= self.max_otps_per_day:
                return self._device_page(flow, error=flow.region.text("too_many_otps"))
            self.otps_sent[key] = self.otps_sent.get(key, 0) + 1
            template = flow.region.text("sms_text" if kind == "SMS" else "voice_text", code="{code}")
            flow.code = self.send_code(account.phone or account.username, channel="sms", template=template)
            flow.code_at = self.clock.now()
        return self._mfa_page(flow)

    def _check_code(self, request: web.Request, flow: Flow, data: Mapping[str, str]) -> web.Response:
        account = flow.account
        assert account is not None
        code = data.get("otpCode", "").strip().replace(" ", "")
        if flow.device == "TOTP":
            secret = (account.totp_secret or "").replace(" ", "")
            good = bool(code) and pyotp.TOTP(secret).verify(code, for_time=self.clock.now(), valid_window=1)
        else:
            fresh = flow.code_at is not None and self.clock.now() - flow.code_at <= self.code_validity
            good = fresh and bool(code) and code == flow.code
        if not good:
            self.record("login_failed", username=account.username, region=flow.region.variant, reason="wrong_code")
            return self._mfa_page(flow, error=flow.region.text("wrong_code"))
        response = self._login_redirect(flow)
        if "rememberDevice" in data:  # a checked checkbox is sent, an unchecked one is not
            token = secrets.token_urlsafe(24)
            self.remembered_devices[token] = account.username
            response.set_cookie(flow.region.remember_device_cookie, token, path=flow.region.base_path,
                                max_age=_REMEMBER_DEVICE_AGE, httponly=True)
        return response

    # -- captchas after the password -------------------------------------------------------

    async def cvf_get(self, request: web.Request) -> web.Response:
        flow = self._flow_of(request, request.query, key="arb")
        if flow is None or flow.stage != "cvf":
            return _html(markup.internal_error(self.region_of(request)))
        return self._cvf_page(flow)

    def _cvf_page(self, flow: Flow, *, error: str = "") -> web.Response:
        flow.captcha, src = self.new_captcha(flow.region)
        self.record("captcha_shown", username=flow.account.username if flow.account else "", challenge="cvf")
        hidden = {"arb": flow.id, "cvf_captcha_captcha_token": flow.captcha, "cvf_captcha_captcha_type": "imageCaptcha",
                  "cvf_captcha_js_enabled_metric": "0", "clientContext": secrets.token_hex(12),
                  "openid.return_to": ape_encode(flow.return_to), "cvf_captcha_captcha_action": "verifyCaptcha"}
        return _html(markup.cvf_captcha(flow.region, hidden=hidden, image_src=src, error=error))

    async def cvf_post(self, request: web.Request) -> web.Response:
        data = {k: str(v) for k, v in (await request.post()).items()}
        flow = self._flow_of(request, data, key="arb")
        if flow is None or flow.stage != "cvf":
            return _html(markup.internal_error(self.region_of(request)))
        if not self.solve(data.get("cvf_captcha_captcha_token"), data.get("cvf_captcha_input", "")):
            return self._cvf_page(flow, error=flow.region.text("cvf_wrong"))
        return self._login_redirect(flow)

    def _robot_page(self, flow: Flow) -> web.Response:
        flow.stage = "robot"
        flow.captcha, src = self.new_captcha(flow.region)
        self.record("captcha_shown", username=flow.account.username if flow.account else "", challenge="robot")
        hidden = {"amzn": flow.id, "amzn-r": flow.return_to}
        return _html(markup.robot_check(flow.region, hidden=hidden, image_src=src))

    async def robot_validate(self, request: web.Request) -> web.Response:
        flow = self._flow_of(request, request.query, key="amzn")
        if flow is None or flow.stage != "robot":
            raise web.HTTPFound(self.region_of(request).base_path + "/")
        if not self.solve(flow.captcha, request.query.get("field-keywords", "")):
            return self._robot_page(flow)
        return self._login_redirect(flow)

    # -- push approval -----------------------------------------------------------------------

    def _push_flow(self, request: web.Request, source: Mapping[str, str]) -> Flow:
        flow = self._flow_of(request, source, key="arb")
        if flow is None or flow.stage != "push" or flow.account is None:
            raise web.HTTPFound(self.region_of(request).base_path + "/ap/signin")
        return flow

    def _send_push(self, flow: Flow) -> None:
        account = flow.account
        assert account is not None
        template = flow.region.text("approval_text", code="{code}")
        flow.code = self.send_code(account.phone or account.username, channel="sms", template=template)
        flow.code_at = flow.push_started = self.clock.now()
        flow.polls = 0
        self.record("push_sent", username=account.username)

    async def approval_get(self, request: web.Request) -> web.Response:
        flow = self._push_flow(request, request.query)
        if flow.push_started is None:
            self._send_push(flow)
        return _html(markup.approval_page(flow.region, arb=flow.id, device="Amazon Shopping app (iPhone)",
                                          return_to=ape_encode(flow.return_to)))

    async def approval_resend(self, request: web.Request) -> web.Response:
        flow = self._push_flow(request, {k: str(v) for k, v in (await request.post()).items()})
        self._send_push(flow)
        raise web.HTTPFound(f"{flow.region.base_path}/ap/cvf/approval?arb={quote(flow.id)}")

    async def approval_poll(self, request: web.Request) -> web.Response:
        flow = self._push_flow(request, request.query)
        if flow.push_started is None:
            self._send_push(flow)
        flow.polls += 1
        return_to = flow.return_to
        assert flow.push_started is not None
        if self.clock.now() - flow.push_started > _PUSH_TIMEOUT:
            return _html(markup.approval_poll("TransactionCompletionTimeout", return_to=return_to))
        if self.push_behaviour == "deny" and flow.polls > self.push_polls_to_approve:
            return _html(markup.approval_poll("TransactionResponded", return_to=return_to))
        if self.push_behaviour == "approve" and flow.polls > self.push_polls_to_approve:
            response = _html(markup.approval_poll("TransactionCompleted", return_to=return_to))
            self.start_session(response, flow)
            return response
        return _html(markup.approval_poll("TransactionPending", return_to=return_to))

    async def approval_verify(self, request: web.Request) -> web.Response:
        flow = self._push_flow(request, {k: str(v) for k, v in (await request.post()).items()})
        data = await request.post()
        fresh = flow.code_at is not None and self.clock.now() - flow.code_at <= self.code_validity
        if fresh and str(data.get("otpCode", "")).strip() == flow.code:
            return self._login_redirect(flow)
        assert flow.account is not None
        self.record("login_failed", username=flow.account.username, region=flow.region.variant, reason="wrong_code")
        raise web.HTTPFound(f"{flow.region.base_path}/ap/cvf/approval?arb={quote(flow.id)}")

    # -- business accounts ----------------------------------------------------------------------

    async def switch_get(self, request: web.Request) -> web.Response:
        flow = self._flow_of(request, request.query, key="arb")
        if flow is None or flow.stage != "switch" or flow.account is None:
            raise web.HTTPFound(self.region_of(request).base_path + "/ap/signin")
        base = flow.region.base_path
        profiles = [(f"{base}/ap/switchaccount/switch?arb={quote(flow.id)}&profile={i}", label)
                    for i, label in enumerate(flow.account.profiles)]
        return _html(markup.account_switcher(flow.region, profiles=profiles))

    async def switch_select(self, request: web.Request) -> web.Response:
        flow = self._flow_of(request, request.query, key="arb")
        if flow is None or flow.stage != "switch" or flow.account is None:
            raise web.HTTPFound(self.region_of(request).base_path + "/ap/signin")
        try:
            profile = flow.account.profiles[int(request.query.get("profile", ""))]
        except (ValueError, IndexError):
            raise web.HTTPFound(f"{flow.region.base_path}/ap/switchaccount?arb={quote(flow.id)}") from None
        return self._login_redirect(flow, profile=profile)

    async def sign_out(self, request: web.Request) -> web.Response:
        region = self.region_of(request)
        session = self.current_session(request)
        if session is not None:
            session.ended = True
        response = web.HTTPFound(region.base_path + "/")
        for name in (region.login_cookie, region.access_cookie, f"sess-at-{region.cookie_suffix}", "session-token"):
            response.del_cookie(name, path=region.base_path)
        raise response

    async def okta_get(self, request: web.Request) -> web.Response:
        return _html(markup.okta_page(username=request.query.get("loginfmt", "")))

    async def okta_post(self, request: web.Request) -> web.Response:
        data = await request.post()
        # The point of this route: show that credentials reached the foreign host (they must not).
        self.record("sso_credentials_received", username=str(data.get("username", "")),
                    with_password=bool(data.get("password")))
        return _html("<html><body><p>Sign-in failed.</p></body></html>", status=401)
