"""An asyncio client of Bill.com's v3 "Connect" REST API.

Not a spider: the accounting side talks JSON to one API. The client

* keeps one session (``sessionId`` header) and logs in again once,
  transparently, when a call answers ``BDC_1109`` (idle expiry after 35
  minutes), then retries that call;
* keeps at most 3 requests in flight per organisation — one semaphore per
  (event loop, base URL, organisation) shared by every client of the
  process, since Bill.com counts per organisation, not per client;
* backs off on ``BDC_1144`` (hourly limit), ``BDC_1322`` (concurrency) and
  HTTP 429, honouring ``Retry-After``, and retries idempotent calls after
  5xx answers and network failures — never a ``POST`` that creates
  something, which could then exist twice;
* follows ``nextPage`` until it is absent (an empty page is not the end);
* maps every error to a :class:`BillComError` subclass whose message says
  what happened and what to do.

Secrets (password, devKey, sessionId, rememberMeId) are never logged nor
shown in reprs or messages.
"""

from __future__ import annotations

import asyncio
import logging
import random
import weakref
from typing import Any, AsyncIterator, Callable, Mapping

import aiohttp
import attrs

__all__ = [
    "ApiUnavailable",
    "BillComClient",
    "BillComError",
    "CredentialsRejected",
    "InvalidSession",
    "LimitReached",
    "LoginResult",
    "MfaCodeRejected",
    "NotTrusted",
    "RequestRejected",
]

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 3
"""Bill.com allows 3 concurrent requests per organisation."""


class BillComError(Exception):
    """An error from Bill.com (``code`` is the ``BDC_`` code when there is one)."""

    user_facing = True

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


class CredentialsRejected(BillComError):
    """The stored username, password, organisation or devKey are refused (or locked)."""


class InvalidSession(BillComError):
    """``BDC_1109`` even right after logging in again."""


class NotTrusted(BillComError):
    """``BDC_1361``: the call needs an MFA-trusted session."""


class MfaCodeRejected(BillComError):
    """The verification code was wrong or expired."""


class LimitReached(BillComError):
    """Still rate limited after backing off (hourly or concurrency limit)."""


class RequestRejected(BillComError):
    """Bill.com refused the request itself (validation, unknown object)."""


class ApiUnavailable(BillComError):
    """Bill.com could not be reached, timed out or answered 5xx."""


_EXPLAIN = {
    "BDC_1101": (CredentialsRejected, "Bill.com rejected the username, password or organisation id"),
    "BDC_1102": (CredentialsRejected, "Bill.com rejected the developer key (devKey)"),
    "BDC_1103": (CredentialsRejected, "the developer key (devKey) is inactive at Bill.com"),
    "BDC_1107": (CredentialsRejected, "the Bill.com organisation is locked out"),
    "BDC_1110": (CredentialsRejected, "this Bill.com login is locked; unlock it in Bill.com first"),
    "BDC_1109": (InvalidSession, "the Bill.com session is invalid or expired"),
    "BDC_1361": (NotTrusted, "this Bill.com operation needs an MFA-trusted session"),
    "BDC_1144": (LimitReached, "Bill.com's hourly API limit was reached; try again later"),
    "BDC_1322": (LimitReached, "too many concurrent requests to Bill.com"),
    "BDC_1359": (MfaCodeRejected, "Bill.com did not accept the verification code"),
}
_LIMIT_CODES = ("BDC_1144", "BDC_1322")


@attrs.frozen
class LoginResult:
    organization_id: str
    user_id: str
    trusted: bool


def _semaphores() -> "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], asyncio.Semaphore]]":
    return weakref.WeakKeyDictionary()


_ORG_SEMAPHORES = _semaphores()


def org_semaphore(base_url: str, organization_id: str, limit: int = MAX_IN_FLIGHT) -> asyncio.Semaphore:
    """The semaphore bounding this process's requests to one organisation (per event loop)."""
    loop = asyncio.get_running_loop()
    per_loop = _ORG_SEMAPHORES.setdefault(loop, {})
    key = (base_url.rstrip("/"), organization_id)
    if key not in per_loop:
        per_loop[key] = asyncio.Semaphore(limit)
    return per_loop[key]


class BillComClient:
    """A logged-in conversation with one Bill.com organisation.

    ``base_url`` is the gateway (``https://gateway.prod.bill.com/connect``);
    paths start with ``/v3``. ``session_id``/``on_session`` let the caller
    keep the session across processes (Bill.com allows 200 logins an hour):
    ``on_session`` receives each new session id (``None`` after logout).
    ``remember_me_id``/``device`` come from a validated MFA challenge.
    """

    def __init__(
        self,
        base_url: str,
        *,
        dev_key: str,
        organization_id: str,
        username: str,
        password: str,
        remember_me_id: str | None = None,
        device: str | None = None,
        session_id: str | None = None,
        on_session: Callable[[str | None], None] | None = None,
        timeout: float = 30.0,
        max_attempts: int = 5,
        backoff: float = 0.5,
        backoff_cap: float = 8.0,
        http: aiohttp.ClientSession | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.organization_id = organization_id
        self.username = username
        self._dev_key = dev_key
        self._password = password
        self._remember_me_id = remember_me_id
        self.device = device
        self._session_id = session_id
        self._on_session = on_session
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self._http = http
        self._own_http = http is None
        self._login_lock: asyncio.Lock | None = None
        self._refused: CredentialsRejected | None = None
        self.trusted = False
        self.logins = 0
        """How many times this client logged in (first login included)."""

    def __repr__(self) -> str:
        return f"<BillComClient {self.base_url} org={self.organization_id} user={self.username}>"

    # -- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> BillComClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_http and self._http is not None:
            await self._http.close()
        self._http = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
            self._own_http = True
        return self._http

    def _set_session(self, session_id: str | None) -> None:
        self._session_id = session_id
        if self._on_session is not None:
            self._on_session(session_id)

    @property
    def has_session(self) -> bool:
        return self._session_id is not None

    # -- auth ------------------------------------------------------------------------------

    async def login(self) -> LoginResult:
        """``POST /v3/login``; uses the remembered device when there is one."""
        body: dict[str, Any] = {"username": self.username, "password": self._password,
                                "organizationId": self.organization_id, "devKey": self._dev_key}
        if self._remember_me_id and self.device:
            body["rememberMeId"] = self._remember_me_id
            body["device"] = self.device
        if self._refused is not None:
            # A refused password is never tried again by this client: repeated
            # failures lock Bill.com logins (BDC_1110).
            raise self._refused
        try:
            data = await self._send("POST", "/v3/login", json=body, authenticated=False, retry_safe=True)
        except CredentialsRejected as exc:
            self._refused = exc
            raise
        self.logins += 1
        self._set_session(data["sessionId"])
        self.trusted = bool(data.get("trusted"))
        log.info("logged in to Bill.com organisation %s (trusted=%s)", self.organization_id, self.trusted)
        return LoginResult(data["organizationId"], data.get("userId", ""), self.trusted)

    async def ensure_session(self) -> None:
        if self._session_id is None:
            await self.login()

    async def logout(self) -> None:
        if self._session_id is not None:
            try:
                await self._send("POST", "/v3/logout", json={}, relogin=False)
            finally:
                self._set_session(None)

    async def session_info(self) -> dict[str, Any]:
        return await self.request("GET", "/v3/login/session")

    async def mfa_challenge(self, *, use_backup: bool = False) -> str:
        """Ask Bill.com to send a code to the user's phone; returns the challenge id."""
        data = await self.request("POST", "/v3/mfa/challenge", json={"useBackup": use_backup}, retry_safe=False)
        return data["challengeId"]

    async def mfa_validate(self, challenge_id: str, token: str, *, device: str, machine_name: str,
                           remember: bool = True) -> str | None:
        """Validate the code; returns the ``rememberMeId`` (valid 30 days) when ``remember``."""
        data = await self.request("POST", "/v3/mfa/challenge/validate", retry_safe=False, json={
            "challengeId": challenge_id, "token": token, "device": device, "machineName": machine_name,
            "rememberMe": remember})
        self.device = device
        self._remember_me_id = data.get("rememberMeId") or self._remember_me_id
        self.trusted = True
        return data.get("rememberMeId")

    async def step_up(self) -> bool:
        """Trust the current session with the remembered device."""
        if not (self._remember_me_id and self.device):
            raise NotTrusted("no remembered device: complete an MFA challenge first")
        data = await self.request("POST", "/v3/mfa/step-up",
                                  json={"rememberMeId": self._remember_me_id, "device": self.device})
        self.trusted = bool(data.get("trusted"))
        return self.trusted

    # -- requests --------------------------------------------------------------------------

    async def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                      json: Any = None, data: bytes | None = None, content_type: str | None = None,
                      retry_safe: bool | None = None) -> Any:
        """Call the API with the session; returns the decoded JSON (``None`` for an empty body).

        ``retry_safe`` (default: true for GET) allows retrying after a 5xx
        answer or a network failure.
        """
        await self.ensure_session()
        return await self._send(method, path, params=params, json=json, data=data, content_type=content_type,
                                retry_safe=method == "GET" if retry_safe is None else retry_safe)

    async def _send(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None,
                    data: bytes | None = None, content_type: str | None = None, authenticated: bool = True,
                    retry_safe: bool = False, relogin: bool = True) -> Any:
        url = self.base_url + path
        attempt = 0
        relogged = False
        while True:
            attempt += 1
            headers = {"devKey": self._dev_key, "Accept": "application/json"}
            used_session = self._session_id
            if authenticated and used_session:
                headers["sessionId"] = used_session
            if content_type:
                headers["Content-Type"] = content_type
            try:
                async with org_semaphore(self.base_url, self.organization_id):
                    async with self._session().request(method, url, params=params, json=json, data=data,
                                                       headers=headers) as response:
                        status = response.status
                        retry_after = response.headers.get("Retry-After")
                        body = await response.read()
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                if retry_safe and attempt < self.max_attempts:
                    await self._pause(attempt, None)
                    continue
                what = "timed out" if isinstance(exc, asyncio.TimeoutError) else f"failed ({type(exc).__name__})"
                raise ApiUnavailable(f"Bill.com request {method} {path} {what}") from None
            if status < 400:
                return _decode(body)
            error = _error_from(status, body, method, path)
            if error.code == "BDC_1109" and authenticated and relogin and not relogged:
                relogged = True
                await self._relogin(used_session)
                attempt -= 1  # a re-login is not a failed attempt
                continue
            limited = error.code in _LIMIT_CODES or status == 429
            if limited and attempt < self.max_attempts:
                await self._pause(attempt, retry_after)
                continue
            if status >= 500 and retry_safe and attempt < self.max_attempts:
                await self._pause(attempt, retry_after)
                continue
            raise error

    async def _relogin(self, stale: str | None) -> None:
        if self._login_lock is None:
            self._login_lock = asyncio.Lock()
        async with self._login_lock:
            if self._session_id == stale or self._session_id is None:  # nobody else renewed it meanwhile
                log.info("Bill.com session expired; logging in again")
                self._session_id = None
                await self.login()

    async def _pause(self, attempt: int, retry_after: str | None) -> None:
        delay = min(self.backoff_cap, self.backoff * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
        if retry_after:
            try:
                delay = max(delay, min(float(retry_after), self.backoff_cap))
            except ValueError:
                pass
        await asyncio.sleep(delay)

    # -- lists -------------------------------------------------------------------------------

    async def pages(self, path: str, *, max: int = 100, sort: str | None = None,
                    filters: str | None = None) -> AsyncIterator[list[dict[str, Any]]]:
        """Each page's ``results`` until ``nextPage`` is absent (empty pages included)."""
        params: dict[str, Any] = {"max": max}
        if sort:
            params["sort"] = sort
        if filters:
            params["filters"] = filters
        while True:
            data = await self.request("GET", path, params=params)
            if not isinstance(data, dict) or not isinstance(data.get("results"), list):
                raise RequestRejected(f"Bill.com answered {path} without a results list")
            yield data["results"]
            token = data.get("nextPage")
            if not token:
                return
            params = dict(params, page=token)

    async def list_all(self, path: str, *, max: int = 100, sort: str | None = "createdTime:asc",
                       filters: str | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        async for page in self.pages(path, max=max, sort=sort, filters=filters):
            out.extend(page)
        return out

    # -- objects --------------------------------------------------------------------------------

    async def create_vendor(self, name: str, **fields: Any) -> dict[str, Any]:
        return await self.request("POST", "/v3/vendors", json={"name": name, **fields}, retry_safe=False)

    async def find_vendors(self, name: str) -> list[dict[str, Any]]:
        return await self.list_all("/v3/vendors", filters=f"name:eq:{_quote(name)}")

    async def create_bill(self, bill: Mapping[str, Any]) -> dict[str, Any]:
        return await self.request("POST", "/v3/bills", json=dict(bill), retry_safe=False)

    async def find_bills(self, vendor_id: str, invoice_number: str) -> list[dict[str, Any]]:
        """Bills of ``vendor_id`` with that invoice number (archived ones excluded)."""
        filters = f"vendorId:eq:{_quote(vendor_id)},invoice.invoiceNumber:eq:{_quote(invoice_number)}"
        bills = await self.list_all("/v3/bills", filters=filters)
        return [b for b in bills if not b.get("archived")]

    async def upload_bill_document(self, bill_id: str, name: str, body: bytes) -> dict[str, Any]:
        return await self.request("POST", f"/v3/documents/bills/{bill_id}", params={"name": name}, data=body,
                                  content_type="application/octet-stream", retry_safe=False)

    async def bill_documents(self, bill_id: str) -> list[dict[str, Any]]:
        data = await self.request("GET", f"/v3/documents/bills/{bill_id}")
        return list(data.get("results", [])) if isinstance(data, dict) else []

    async def upload_status(self, ids: list[str]) -> list[dict[str, Any]]:
        return await self.request("GET", "/v3/documents/upload-status", params={"ids": ",".join(ids)})


def _quote(value: str) -> str:
    return '"' + value.replace('"', "") + '"'


def _decode(body: bytes) -> Any:
    if not body.strip():
        return None
    import json

    try:
        return json.loads(body)
    except ValueError:
        raise RequestRejected("Bill.com answered with something that is not JSON") from None


def _error_from(status: int, body: bytes, method: str, path: str) -> BillComError:
    """Turn an error answer (v3 envelope or not) into the right exception."""
    code = message = None
    try:
        import json

        data = json.loads(body)
        first = data[0] if isinstance(data, list) and data else data
        if isinstance(first, dict):
            code, message = first.get("code"), first.get("message")
    except ValueError:
        pass
    if code in _EXPLAIN:
        cls, text = _EXPLAIN[code]
        detail = f": {message}" if message else ""
        return cls(f"{text} ({code}){detail}", code=code, status=status)
    if status == 429:
        return LimitReached(f"Bill.com is rate limiting requests (HTTP 429) on {method} {path}", status=status)
    if status >= 500:
        return ApiUnavailable(f"Bill.com answered HTTP {status} on {method} {path}; try again later", status=status)
    if status == 401:
        return CredentialsRejected(f"Bill.com refused the credentials ({code or status}): {message or ''}".rstrip(": "),
                                   code=code, status=status)
    label = f"{code}: {message}" if code else (message or f"HTTP {status}")
    return RequestRejected(f"Bill.com refused {method} {path} ({label})", code=code, status=status)
