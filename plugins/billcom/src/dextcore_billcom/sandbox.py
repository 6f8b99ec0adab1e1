"""A faithful local stand-in for Bill.com's v3 "Connect" REST API.

Built from ../shared/reference/billcom-api.md. Served under the base path
``/connect`` (as ``https://gateway.prod.bill.com/connect``), so the API
lives at ``<root>/connect/v3/...``.

What it does, as documented:

* ``POST /v3/login`` with ``username``, ``password``, ``organizationId``,
  ``devKey`` (and ``rememberMeId`` + ``device`` of an MFA-trusted device)
  → ``{organizationId, sessionId, trusted, userId}``; every other call
  sends the ``devKey`` and ``sessionId`` headers. Sessions expire after 35
  minutes idle on the portal :class:`~dextcore.sandbox.Clock` (each call
  resets the timer) and then answer 401 ``BDC_1109``.
* ``GET /v3/login/session``, ``POST /v3/logout`` (200, empty body).
* MFA: ``POST /v3/mfa/challenge`` sends a code to the user's phone (the
  sandbox :class:`~dextcore.sandbox.Mailbox`), ``/v3/mfa/challenge/validate``
  returns a ``rememberMeId`` valid 30 days, ``/v3/mfa/step-up`` trusts a
  session. Only MFA-guarded endpoints (here ``GET /v3/bank-accounts``)
  answer 403 ``BDC_1361`` to an untrusted session; bills do not need trust.
* The six lists with ``max`` (1–100, default 20), ``page`` (the
  ``nextPage`` token), ``sort`` and ``filters``; archived records stay
  listed with ``archived: true``.
* ``POST /v3/vendors``, ``POST /v3/bills`` (validated, 201), ``GET
  /v3/bills`` with filters, ``POST /v3/documents/bills/{billId}?name=``
  (raw body, 6 MB cap), ``GET /v3/documents/upload-status?ids=``.
* The v3 error envelope ``[{timestamp, code, severity, category, message}]``
  and codes BDC_1101, 1102, 1103, 1109, 1110, 1144, 1322, 1361.
* Limits: 20,000 calls an hour per devKey, 200 logins an hour, 3 concurrent
  requests per organisation (the 4th is answered 429 ``BDC_1322``), 5 MFA
  codes a minute per user. :attr:`BillcomPortal.max_in_flight` records the
  most requests ever in flight per organisation, rejected ones included.

Where the docs are silent (sandbox choices):

* HTTP statuses: 401 for ``BDC_1101``/``1102``/``1103``/``1109``; 403 for
  ``BDC_1110``/``BDC_1361``; 429 for ``BDC_1144``/``1322``; 400 for validation; 404 for
  unknown objects. Validation errors use ``BDC_1000`` (invalid parameter)
  and ``BDC_1001`` (missing required field); unknown objects ``BDC_1004``;
  a wrong MFA code ``BDC_1359``; MFA not set up ``BDC_1356``; a document
  too large ``BDC_1290``, not a PDF ``BDC_1291``. Messages name the field.
* A login is locked (403 ``BDC_1110``) after 5 consecutive wrong passwords,
  until :meth:`BillcomPortal.set_password`.
* ``mfaStatus`` of ``/v3/login/session`` is ``ENABLED`` or ``DISABLED``.
* Validating a challenge also trusts the session that asked for it.
* Documents: PDF only (body starting ``%PDF-``). The upload answers with
  the ``0du...`` id; the first ``upload-status`` poll reports
  ``IN_PROGRESS``, later ones ``UPLOADED``; the answer is a JSON array of
  ``{id, status}``. ``GET /v3/documents/bills/{billId}`` lists a bill's
  documents as ``{"results": [...]}``. ``downloadLink`` is a tokenised URL
  that needs no session (as signed storage links do).
* Bills: duplicate invoice numbers for the same vendor are accepted (the
  web app only warns), so a careless client really makes two bills.
  ``dueDate`` may not precede ``invoice.invoiceDate``; line ``amount`` must
  be a non-zero number with at most two decimals; classification ids must
  exist and not be archived; the vendor must exist and not be archived.
* Filters: see :func:`~dextcore_billcom.sandbox_data.apply_query`.
* "Expire this connection" (:meth:`BillcomPortal.expire_connection`) does
  what a password change or revoked access does at Bill.com: every session
  and remembered device of the organisation's users dies and the stored
  password is refused (``BDC_1101``) until :meth:`set_password`.
* Fault injection beyond :class:`~dextcore.sandbox.Faults`:
  :attr:`fail_next_bill` (``"timeout"``: the bill is created, then the
  answer hangs ``faults.hang_seconds`` and the connection is dropped;
  ``"reset"``: dropped at once) — one-shot.

Admin routes (never faulted): ``GET /_admin/billcom`` (state, per
organisation ``max_in_flight``, bills, documents), ``POST
/_admin/billcom/expire``, ``/password``, ``/archive``, ``/fail-next-bill``,
``/limits``, ``/reset-counters``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import re
import secrets
import threading
from decimal import Decimal, InvalidOperation
from typing import Any, Awaitable, Callable

from aiohttp import web

from dextcore.sandbox import DemoAccount, SandboxPortal
from dextcore_billcom.sandbox_data import (
    DEV_KEY,
    INACTIVE_DEV_KEY,
    LIST_PATHS,
    LOCKOUT_AFTER,
    Org,
    QueryError,
    SandboxUser,
    apply_query,
    iso,
    make_id,
    seed_orgs,
)

__all__ = ["BASE_PATH", "BillcomPortal"]

BASE_PATH = "/connect"
SESSION_IDLE = dt.timedelta(minutes=35)
REMEMBER_ME_DAYS = 30
MAX_DOCUMENT_BYTES = 6 * 1024 * 1024
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Handler = Callable[[web.Request, "Call"], Awaitable[web.StreamResponse]]


class BdcError(Exception):
    """An error answered with the v3 envelope."""

    def __init__(self, status: int, code: str, message: str, category: str = "Validation") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.category = status, code, message, category


class _NoAnswer(web.StreamResponse):
    """Stands for an answer never sent: the connection was aborted already."""

    def __init__(self) -> None:
        super().__init__(status=499)

    async def prepare(self, request: web.BaseRequest) -> None:  # type: ignore[override]
        return None

    async def write_eof(self, data: bytes = b"") -> None:
        return None


class Call:
    """What a handler knows about the authenticated caller."""

    def __init__(self, org: Org, user: SandboxUser | None, session: dict[str, Any] | None) -> None:
        self.org, self.user, self.session = org, user, session


class BillcomPortal(SandboxPortal):
    """The fake Bill.com (see the module docstring for what is faithful and what was chosen)."""

    name = "billcom"
    connector = "billcom"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.RLock()
        self.orgs: dict[str, Org] = seed_orgs(self.seed)
        self.sessions: dict[str, dict[str, Any]] = {}
        self.challenges: dict[str, dict[str, Any]] = {}
        self.hourly_limit = 20_000
        self.login_hourly_limit = 200
        self.concurrent_limit = 3
        self.work_delay = 0.0
        """Seconds each API call takes while counted in flight (simulated processing)."""
        self.fail_next_bill: str | None = None
        self.observers: list[Callable[[str, str], None]] = []
        """Called as ``f(method, path)`` after each API answer (test instrumentation)."""
        self._calls: dict[tuple[str, str], int] = {}
        self._token_key = secrets.token_bytes(16)

    # -- demo accounts ------------------------------------------------------------------

    def _org_by_name(self, name: str) -> Org:
        return next(o for o in self.orgs.values() if o.name == name)

    def demo_accounts(self) -> list[DemoAccount]:
        out = []
        for org_name, scenario, description in (
            ("Northwind Trading Ltd", "ok", "Bill.com organisation without MFA; 230 vendors (3 pages of 100)"),
            ("Harbour Design Co", "mfa", "MFA on: the code goes to the phone in the sandbox mailbox"),
            ("Northwind Trading Ltd (new books)", "new-books",
             "the same business in new books: change connection and merge lists"),
        ):
            org = self._org_by_name(org_name)
            user = next(iter(org.users.values()))
            out.append(DemoAccount(connector="billcom", variant="sandbox", username=user.username,
                                   password=user.password or "", scenario=scenario, description=description,
                                   phone=user.mfa_phone,
                                   fields={"organization_id": org.id, "dev_key": DEV_KEY}))
        return out

    def variant_base_url(self, root: str, variant: str | None) -> str:
        return root + BASE_PATH

    # -- controls (Python side; the admin routes call these) -----------------------------------

    def org(self, org_id: str) -> Org:
        return self.orgs[org_id]

    def expire_connection(self, org_id: str) -> None:
        """Refuse the stored credentials of the organisation's users (see module docstring)."""
        with self._lock:
            org = self.orgs[org_id]
            for user in org.users.values():
                user.password = None
                user.remember_me_ids.clear()
            for sid in [s for s, v in self.sessions.items() if v["org"] == org_id]:
                del self.sessions[sid]
        self.record("connection_expired", organizationId=org_id)

    def set_password(self, org_id: str, username: str, password: str) -> None:
        with self._lock:
            user = self.orgs[org_id].users[username]
            user.password = password
            user.failed_logins = 0
        self.record("password_set", organizationId=org_id, username=username)

    def archive(self, org_id: str, kind: str, object_id: str, archived: bool = True) -> None:
        with self._lock:
            record = self.orgs[org_id].find(kind, object_id)
            if record is None:
                raise KeyError(object_id)
            record["archived"] = archived
            record["updatedTime"] = iso(self.clock.now())

    def max_in_flight(self, org_id: str) -> int:
        with self._lock:
            return self.orgs[org_id].max_in_flight

    def reset_counters(self) -> None:
        with self._lock:
            for org in self.orgs.values():
                org.max_in_flight = org.rejected_concurrent = 0
            self._calls.clear()

    def bills(self, org_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(b) for b in self.orgs[org_id].bills]

    def bill_documents(self, org_id: str, bill_id: str) -> list[dict[str, Any]]:
        """Documents attached to a bill, with their ``body`` and ``sha256``."""
        with self._lock:
            docs = [d for d in self.orgs[org_id].documents.values() if d["billId"] == bill_id]
        return [dict(d, sha256=hashlib.sha256(d["body"]).hexdigest()) for d in docs]

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {"organizations": [
                {"id": o.id, "name": o.name, "users": list(o.users), "max_in_flight": o.max_in_flight,
                 "in_flight": o.in_flight, "rejected_concurrent": o.rejected_concurrent,
                 "bills": len(o.bills), "documents": len(o.documents),
                 "lists": {k: len(v) for k, v in o.lists.items()},
                 "sessions": sum(1 for s in self.sessions.values() if s["org"] == o.id)}
                for o in self.orgs.values()],
                "limits": {"hourly": self.hourly_limit, "logins_hourly": self.login_hourly_limit,
                           "concurrent": self.concurrent_limit},
                "fail_next_bill": self.fail_next_bill}

    # -- application --------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = super().build_app()
        r = app.router
        v3 = BASE_PATH + "/v3"
        r.add_post(v3 + "/login", self._login)
        r.add_get(v3 + "/login/session", self._api(self._session_info))
        r.add_post(v3 + "/logout", self._api(self._logout))
        r.add_post(v3 + "/mfa/challenge", self._api(self._mfa_challenge))
        r.add_post(v3 + "/mfa/challenge/validate", self._api(self._mfa_validate))
        r.add_post(v3 + "/mfa/step-up", self._api(self._mfa_step_up))
        r.add_get(v3 + "/bank-accounts", self._api(self._bank_accounts))
        for kind, path in LIST_PATHS.items():
            r.add_get(BASE_PATH + path, self._api(self._lister(kind)))
        r.add_post(v3 + "/vendors", self._api(self._create_vendor))
        r.add_get(v3 + "/vendors/{id}", self._api(self._get_vendor))
        r.add_post(v3 + "/bills", self._api(self._create_bill))
        r.add_get(v3 + "/bills", self._api(self._list_bills))
        r.add_get(v3 + "/bills/{id}", self._api(self._get_bill))
        r.add_post(v3 + "/documents/bills/{billId}", self._api(self._upload_document))
        r.add_get(v3 + "/documents/bills/{billId}", self._api(self._bill_documents))
        r.add_get(v3 + "/documents/upload-status", self._api(self._upload_status))
        r.add_get("/download/{docId}", self._download)
        r.add_get("/_admin/billcom", self._admin_state)
        r.add_post("/_admin/billcom/{action}", self._admin_action)
        return app

    # -- plumbing ---------------------------------------------------------------------------

    def _error(self, exc: BdcError) -> web.Response:
        body = [{"timestamp": iso(self.clock.now()), "code": exc.code, "severity": "ERROR",
                 "category": exc.category, "message": exc.message}]
        return web.json_response(body, status=exc.status)

    def _count_call(self, dev_key: str, bucket: str, limit: int) -> None:
        hour = self.clock.now().strftime("%Y%m%d%H")
        key = (f"{bucket}:{dev_key}", hour)
        with self._lock:
            self._calls[key] = self._calls.get(key, 0) + 1
            over = self._calls[key] > limit
        if over:
            raise BdcError(429, "BDC_1144", "Maximum number of API calls per hour reached. Try again later.",
                           "Limit")

    @staticmethod
    def _check_dev_key(dev_key: str | None) -> str:
        if not dev_key:
            raise BdcError(401, "BDC_1102", "devKey is missing. Send your developer key.", "Authentication")
        if dev_key == INACTIVE_DEV_KEY:
            raise BdcError(401, "BDC_1103", "The developer key is inactive.", "Authentication")
        if dev_key != DEV_KEY:
            raise BdcError(401, "BDC_1102", "Invalid devKey.", "Authentication")
        return dev_key

    async def _in_flight(self, org: Org, handler: Callable[[], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        with self._lock:
            org.in_flight += 1
            org.max_in_flight = max(org.max_in_flight, org.in_flight)
            over = org.in_flight > self.concurrent_limit
            if over:
                org.rejected_concurrent += 1
        try:
            if over:
                self.record("concurrent_limit", organizationId=org.id)
                raise BdcError(429, "BDC_1322", "Too many concurrent requests for this organization. "
                               f"At most {self.concurrent_limit} are allowed.", "Limit")
            if self.work_delay:
                await asyncio.sleep(self.work_delay)
            return await handler()
        finally:
            with self._lock:
                org.in_flight -= 1

    def _notify(self, request: web.Request) -> None:
        for observer in list(self.observers):
            observer(request.method, request.path)

    def _api(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """Wrap an authenticated endpoint: devKey, limits, session, in-flight count, errors."""

        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                dev_key = self._check_dev_key(request.headers.get("devKey"))
                self._count_call(dev_key, "api", self.hourly_limit)
                sid = request.headers.get("sessionId", "")
                now = self.clock.now()
                with self._lock:
                    session = self.sessions.get(sid)
                    if session is not None and now - session["last_used"] > SESSION_IDLE:
                        del self.sessions[sid]
                        self.record("session_expired", organizationId=session["org"])
                        session = None
                    if session is not None:
                        session["last_used"] = now
                if session is None:
                    raise BdcError(401, "BDC_1109", "Session is invalid. Please log in.", "Authentication")
                org = self.orgs[session["org"]]
                call = Call(org, org.users.get(session["username"]), session)
                return await self._in_flight(org, lambda: handler(request, call))
            except BdcError as exc:
                return self._error(exc)
            finally:
                self._notify(request)

        return wrapped

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except Exception:
            raise BdcError(400, "BDC_1000", "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise BdcError(400, "BDC_1000", "The request body must be a JSON object.")
        return body

    # -- auth ---------------------------------------------------------------------------------

    async def _login(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await self._json(request)
            for field in ("username", "password", "organizationId", "devKey"):
                if not isinstance(body.get(field), str) or not body[field]:
                    raise BdcError(400, "BDC_1001", f"Missing required field: {field}")
            dev_key = self._check_dev_key(body["devKey"])
            self._count_call(dev_key, "login", self.login_hourly_limit)
            org = self.orgs.get(body["organizationId"])
            if org is None:
                self.record("login_failed", reason="organization")
                raise BdcError(401, "BDC_1101", "Incorrect username, password or organization.", "Authentication")

            async def check() -> web.StreamResponse:
                user = org.users.get(body["username"])
                if user is not None and user.failed_logins >= LOCKOUT_AFTER:
                    raise BdcError(403, "BDC_1110", "This login is locked after too many failed attempts. "
                                   "Reset the password to unlock it.", "Authentication")
                if user is None or user.password is None or not hmac.compare_digest(
                        user.password.encode(), body["password"].encode()):
                    if user is not None:
                        user.failed_logins += 1
                    self.record("login_failed", organizationId=org.id, username=body["username"])
                    raise BdcError(401, "BDC_1101", "Incorrect username, password or organization.",
                                   "Authentication")
                user.failed_logins = 0
                now = self.clock.now()
                trusted = False
                remember = body.get("rememberMeId")
                if remember and body.get("device") and user.remember_me_ids.get(remember, now) > now:
                    trusted = True
                sid = secrets.token_urlsafe(24)
                with self._lock:
                    self.sessions[sid] = {"org": org.id, "username": user.username, "last_used": now,
                                          "trusted": trusted, "dev_key": dev_key}
                self.record("login", organizationId=org.id, username=user.username, trusted=trusted)
                return web.json_response({"organizationId": org.id, "sessionId": sid, "trusted": trusted,
                                          "userId": user.id})

            return await self._in_flight(org, check)
        except BdcError as exc:
            return self._error(exc)
        finally:
            self._notify(request)

    async def _session_info(self, request: web.Request, call: Call) -> web.StreamResponse:
        assert call.user is not None and call.session is not None
        return web.json_response({"organizationId": call.org.id, "userId": call.user.id,
                                  "trusted": call.session["trusted"],
                                  "mfaStatus": "ENABLED" if call.user.mfa_enabled else "DISABLED"})

    async def _logout(self, request: web.Request, call: Call) -> web.StreamResponse:
        with self._lock:
            self.sessions.pop(request.headers.get("sessionId", ""), None)
        return web.Response(status=200)

    async def _mfa_challenge(self, request: web.Request, call: Call) -> web.StreamResponse:
        await self._json(request)
        user = call.user
        if user is None or not user.mfa_enabled:
            raise BdcError(400, "BDC_1356", "MFA is not set up for this user.", "MFA")
        now = self.clock.now()
        with self._lock:
            user.codes_sent = [t for t in user.codes_sent if now - t < dt.timedelta(minutes=1)]
            if len(user.codes_sent) >= 5:
                raise BdcError(429, "BDC_1144", "Too many verification codes requested. Wait a minute.", "Limit")
            user.codes_sent.append(now)
        code = self.send_code(user.mfa_phone or "", template="Your BILL verification code is {code}")
        challenge_id = secrets.token_urlsafe(16)
        with self._lock:
            self.challenges[challenge_id] = {"code": code, "session": request.headers.get("sessionId"),
                                             "username": user.username, "expires": now + dt.timedelta(minutes=10)}
        return web.json_response({"challengeId": challenge_id})

    async def _mfa_validate(self, request: web.Request, call: Call) -> web.StreamResponse:
        body = await self._json(request)
        for field in ("challengeId", "token", "device", "machineName"):
            if not isinstance(body.get(field), str) or not body[field]:
                raise BdcError(400, "BDC_1001", f"Missing required field: {field}")
        with self._lock:
            challenge = self.challenges.get(body["challengeId"])
        now = self.clock.now()
        if challenge is None or challenge["expires"] < now or challenge["username"] != getattr(call.user, "username", ""):
            raise BdcError(400, "BDC_1359", "The verification code has expired. Request a new one.", "MFA")
        if not hmac.compare_digest(challenge["code"], body["token"]):
            self.record("mfa_failed", username=challenge["username"])
            raise BdcError(400, "BDC_1359", "Invalid verification code.", "MFA")
        assert call.user is not None and call.session is not None
        with self._lock:
            del self.challenges[body["challengeId"]]
            call.session["trusted"] = True
            answer: dict[str, Any] = {}
            if body.get("rememberMe", False):
                remember = secrets.token_urlsafe(24)
                call.user.remember_me_ids[remember] = now + dt.timedelta(days=REMEMBER_ME_DAYS)
                answer["rememberMeId"] = remember
        self.record("mfa_validated", username=call.user.username, remembered=bool(answer))
        return web.json_response(answer)

    async def _mfa_step_up(self, request: web.Request, call: Call) -> web.StreamResponse:
        body = await self._json(request)
        assert call.user is not None and call.session is not None
        now = self.clock.now()
        with self._lock:
            expiry = call.user.remember_me_ids.get(str(body.get("rememberMeId")))
            if expiry is None or expiry < now or not body.get("device"):
                raise BdcError(403, "BDC_1361", "The remembered device is not trusted. Complete an MFA challenge.",
                               "MFA")
            call.session["trusted"] = True
        return web.json_response({"trusted": True})

    async def _bank_accounts(self, request: web.Request, call: Call) -> web.StreamResponse:
        assert call.session is not None
        if not call.session["trusted"]:
            raise BdcError(403, "BDC_1361", "This operation needs a trusted session. Complete MFA step-up.", "MFA")
        return web.json_response({"results": [{"id": make_id("bac", call.org.id, "bank"), "nameOnAccount":
                                               call.org.name, "accountNumber": "****4321"}]})

    # -- lists ----------------------------------------------------------------------------------

    def _lister(self, kind: str) -> Handler:
        async def handler(request: web.Request, call: Call) -> web.StreamResponse:
            org_in_path = request.match_info.get("organizationId")
            if org_in_path is not None and org_in_path != call.org.id:
                raise BdcError(404, "BDC_1004", f"Organization {org_in_path} not found.", "Not found")
            try:
                with self._lock:
                    page = apply_query(call.org.lists[kind], dict(request.query))
            except QueryError as exc:
                raise BdcError(400, "BDC_1000", str(exc)) from None
            return web.json_response(page)

        return handler

    async def _create_vendor(self, request: web.Request, call: Call) -> web.StreamResponse:
        body = await self._json(request)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise BdcError(400, "BDC_1001", "Missing required field: name")
        if len(name) > 100:
            raise BdcError(400, "BDC_1000", "name must be at most 100 characters")
        now = iso(self.clock.now())
        vendor = {
            "id": make_id("009", call.org.id, "vendor", name, secrets.token_hex(4)), "archived": False,
            "name": name.strip(), "shortName": str(body.get("shortName") or "")[:20],
            "email": body.get("email"), "phone": body.get("phone"), "address": body.get("address") or {},
            "accountNumber": body.get("accountNumber"), "additionalInfo": body.get("additionalInfo") or {},
            "billCurrency": body.get("billCurrency") or "USD", "createdTime": now, "updatedTime": now,
        }
        with self._lock:
            call.org.lists["vendors"].append(vendor)
        self.record("vendor_created", organizationId=call.org.id, id=vendor["id"])
        return web.json_response(vendor, status=201)

    async def _get_vendor(self, request: web.Request, call: Call) -> web.StreamResponse:
        vendor = call.org.find("vendors", request.match_info["id"])
        if vendor is None:
            raise BdcError(404, "BDC_1004", f"Vendor {request.match_info['id']} not found.", "Not found")
        return web.json_response(vendor)

    # -- bills --------------------------------------------------------------------------------------

    def _validate_bill(self, org: Org, body: dict[str, Any]) -> dict[str, Any]:
        def need(value: Any, field: str) -> Any:
            if value in (None, "", [], {}):
                raise BdcError(400, "BDC_1001", f"Missing required field: {field}")
            return value

        vendor_id = need(body.get("vendorId"), "vendorId")
        vendor = org.find("vendors", str(vendor_id))
        if vendor is None:
            raise BdcError(400, "BDC_1000", f"vendorId {vendor_id} does not exist.")
        if vendor["archived"]:
            raise BdcError(400, "BDC_1000", f"Vendor {vendor['name']} is archived. Unarchive it first.")
        invoice = need(body.get("invoice"), "invoice")
        if not isinstance(invoice, dict):
            raise BdcError(400, "BDC_1000", "invoice must be an object")
        number = need(invoice.get("invoiceNumber"), "invoice.invoiceNumber")
        invoice_date = need(invoice.get("invoiceDate"), "invoice.invoiceDate")
        due_date = need(body.get("dueDate"), "dueDate")
        for field, value in (("invoice.invoiceDate", invoice_date), ("dueDate", due_date)):
            try:
                if not (isinstance(value, str) and _DATE.match(value)):
                    raise ValueError
                dt.date.fromisoformat(value)
            except ValueError:
                raise BdcError(400, "BDC_1000", f"{field} must be a date as YYYY-MM-DD") from None
        if due_date < invoice_date:
            raise BdcError(400, "BDC_1000", "dueDate cannot be earlier than invoice.invoiceDate")
        lines = need(body.get("billLineItems"), "billLineItems")
        if not isinstance(lines, list):
            raise BdcError(400, "BDC_1000", "billLineItems must be a list")
        out_lines = []
        total = Decimal("0")
        kinds = {"chartOfAccountId": "chart_of_accounts", "accountingClassId": "accounting_classes",
                 "locationId": "locations"}
        for i, line in enumerate(lines):
            if not isinstance(line, dict):
                raise BdcError(400, "BDC_1000", f"billLineItems[{i}] must be an object")
            amount = line.get("amount")
            if isinstance(amount, bool) or not isinstance(amount, (int, float, str)):
                raise BdcError(400, "BDC_1001", f"Missing required field: billLineItems[{i}].amount")
            try:
                value = Decimal(str(amount))
            except InvalidOperation:
                raise BdcError(400, "BDC_1000", f"billLineItems[{i}].amount must be a number") from None
            if value == 0 or value != value.quantize(Decimal("0.01")):
                raise BdcError(400, "BDC_1000", f"billLineItems[{i}].amount must be non-zero with at most 2 decimals")
            classifications = line.get("classifications") or {}
            for field, kind in kinds.items():
                ref = classifications.get(field)
                if ref is None:
                    continue
                record = org.find(kind, str(ref))
                if record is None:
                    raise BdcError(400, "BDC_1000", f"billLineItems[{i}].classifications.{field} {ref} does not exist.")
                if record["archived"]:
                    raise BdcError(400, "BDC_1000", f"billLineItems[{i}].classifications.{field} {ref} is archived.")
            total += value
            out_lines.append({"amount": float(value), "description": str(line.get("description") or ""),
                              "classifications": {k: classifications.get(k) for k in kinds}})
        return {"vendor": vendor, "number": str(number), "invoice_date": invoice_date, "due_date": due_date,
                "lines": out_lines, "total": total}

    async def _create_bill(self, request: web.Request, call: Call) -> web.StreamResponse:
        body = await self._json(request)
        with self._lock:
            checked = self._validate_bill(call.org, body)
            now = iso(self.clock.now())
            bill_id = make_id("00n", call.org.id, "bill", len(call.org.bills), secrets.token_hex(4))
            bill = {
                "id": bill_id, "archived": False, "vendorId": checked["vendor"]["id"],
                "vendorName": checked["vendor"]["name"],
                "invoice": {"invoiceNumber": checked["number"], "invoiceDate": checked["invoice_date"]},
                "dueDate": checked["due_date"],
                "billLineItems": [dict(line, id=make_id("bli", bill_id, i)) for i, line in enumerate(checked["lines"])],
                "amount": float(checked["total"]), "dueAmount": float(checked["total"]),
                "paymentStatus": "UNPAID", "approvalStatus": "UNASSIGNED",
                "createdTime": now, "updatedTime": now,
            }
            call.org.bills.append(bill)
            fault, self.fail_next_bill = self.fail_next_bill, None
        self.record("bill_created", organizationId=call.org.id, id=bill_id, invoiceNumber=checked["number"])
        if fault is not None:
            self.record("fault", fault=f"bill_{fault}", path=request.path)
            if fault == "timeout":
                await asyncio.sleep(self.faults.hang_seconds)
            if request.transport is not None:
                request.transport.abort()
            return _NoAnswer()  # the client sees a dropped connection, never the bill
        return web.json_response(bill, status=201)

    async def _list_bills(self, request: web.Request, call: Call) -> web.StreamResponse:
        try:
            with self._lock:
                page = apply_query(call.org.bills, dict(request.query))
        except QueryError as exc:
            raise BdcError(400, "BDC_1000", str(exc)) from None
        return web.json_response(page)

    async def _get_bill(self, request: web.Request, call: Call) -> web.StreamResponse:
        for bill in call.org.bills:
            if bill["id"] == request.match_info["id"]:
                return web.json_response(bill)
        raise BdcError(404, "BDC_1004", f"Bill {request.match_info['id']} not found.", "Not found")

    # -- documents ----------------------------------------------------------------------------------

    def _link(self, request: web.Request, doc_id: str) -> str:
        token = hmac.new(self._token_key, doc_id.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{request.url.origin()}/download/{doc_id}?token={token}"

    def _doc_json(self, request: web.Request, doc: dict[str, Any]) -> dict[str, Any]:
        return {"id": doc["id"], "name": doc["name"], "createdTime": doc["createdTime"],
                "downloadLink": self._link(request, doc["id"])}

    async def _upload_document(self, request: web.Request, call: Call) -> web.StreamResponse:
        bill_id = request.match_info["billId"]
        if not any(b["id"] == bill_id for b in call.org.bills):
            raise BdcError(404, "BDC_1004", f"Bill {bill_id} not found.", "Not found")
        name = request.query.get("name", "")
        if not name:
            raise BdcError(400, "BDC_1001", "Missing required parameter: name")
        chunks, size = [], 0
        async for chunk in request.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > MAX_DOCUMENT_BYTES:
                raise BdcError(400, "BDC_1290", "The file is larger than 6 MB.")
            chunks.append(chunk)
        body = b"".join(chunks)
        if not body.startswith(b"%PDF-"):
            raise BdcError(400, "BDC_1291", "Only PDF documents can be attached to a bill.")
        doc_id = make_id("0du", call.org.id, bill_id, secrets.token_hex(6))
        doc = {"id": doc_id, "billId": bill_id, "name": name, "body": body, "createdTime": iso(self.clock.now()),
               "status_polls": 0}
        with self._lock:
            call.org.documents[doc_id] = doc
        self.record("document_uploaded", organizationId=call.org.id, billId=bill_id, id=doc_id, size=size)
        return web.json_response(self._doc_json(request, doc))

    async def _bill_documents(self, request: web.Request, call: Call) -> web.StreamResponse:
        bill_id = request.match_info["billId"]
        if not any(b["id"] == bill_id for b in call.org.bills):
            raise BdcError(404, "BDC_1004", f"Bill {bill_id} not found.", "Not found")
        with self._lock:
            docs = [d for d in call.org.documents.values() if d["billId"] == bill_id]
        return web.json_response({"results": [self._doc_json(request, d) for d in docs]})

    async def _upload_status(self, request: web.Request, call: Call) -> web.StreamResponse:
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        if not ids:
            raise BdcError(400, "BDC_1001", "Missing required parameter: ids")
        out = []
        with self._lock:
            for doc_id in ids:
                doc = call.org.documents.get(doc_id)
                if doc is None:
                    raise BdcError(404, "BDC_1004", f"Document {doc_id} not found.", "Not found")
                doc["status_polls"] += 1
                out.append({"id": doc_id, "status": "IN_PROGRESS" if doc["status_polls"] == 1 else "UPLOADED"})
        return web.json_response(out)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        doc_id = request.match_info["docId"]
        expected = self._link(request, doc_id).rsplit("token=", 1)[1]
        if not hmac.compare_digest(expected, request.query.get("token", "")):
            return web.Response(status=403, text="Forbidden")
        with self._lock:
            doc = next((d for o in self.orgs.values() for d in o.documents.values() if d["id"] == doc_id), None)
        if doc is None:
            return web.Response(status=404, text="Not found")
        return web.Response(body=doc["body"], content_type="application/pdf")

    # -- admin -------------------------------------------------------------------------------------

    async def _admin_state(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.state())

    async def _admin_action(self, request: web.Request) -> web.StreamResponse:
        action = request.match_info["action"]
        try:
            body = await request.json() if request.can_read_body else {}
            if action == "expire":
                self.expire_connection(body["organizationId"])
            elif action == "password":
                self.set_password(body["organizationId"], body["username"], body["password"])
            elif action == "archive":
                self.archive(body["organizationId"], body["list"], body["id"], bool(body.get("archived", True)))
            elif action == "fail-next-bill":
                mode = body.get("mode")
                if mode not in ("timeout", "reset", None):
                    raise ValueError("mode must be timeout, reset or null")
                self.fail_next_bill = mode
            elif action == "limits":
                self.hourly_limit = int(body.get("hourly", self.hourly_limit))
                self.concurrent_limit = int(body.get("concurrent", self.concurrent_limit))
                self.work_delay = float(body.get("work_delay", self.work_delay))
            elif action == "reset-counters":
                self.reset_counters()
            else:
                return web.json_response({"error": f"unknown action {action}"}, status=404)
        except (KeyError, ValueError, TypeError) as exc:
            return web.json_response({"error": f"bad request: {exc}"}, status=400)
        return web.json_response(self.state())
