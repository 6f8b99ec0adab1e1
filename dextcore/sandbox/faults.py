"""Fault injection for fake portals: what flaky real sites do to a fetcher.

:class:`Faults` holds the knobs (mutable at run time, from tests or the
admin view); :func:`fault_middleware` applies them to every request of a
portal's aiohttp application. One random draw per request picks at most
one fault, in this order of bands: reset, timeout (hang), 5xx, 429,
truncation — so each rate is the share of requests that suffer that fault
(rates are clamped so that the bands never exceed 1). Latency is added to
every request on top.

Routes under ``/_admin`` and requests for which ``Faults.exempt`` returns
true are spared. ``redesign`` is not applied here: portals read it and
render their changed ("v2") markup.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
from typing import Any, Awaitable, Callable, Protocol

import attrs
from aiohttp import web

__all__ = ["FAULT_KINDS", "Faults", "FaultSource", "fault_middleware", "SANDBOX_PORTAL_KEY"]

FAULT_KINDS = ("reset", "timeout", "error", "rate_limit", "truncate")


@attrs.define
class Faults:
    """Fault injection settings for one portal; every field may be changed while serving."""

    latency: float = 0.0
    """Seconds added to every response."""
    error_rate: float = 0.0
    """Share of requests answered 500, 502 or 503."""
    timeout_rate: float = 0.0
    """Share of requests that hang ``hang_seconds`` and are then closed without an answer."""
    reset_rate: float = 0.0
    """Share of requests whose TCP connection is reset (RST) instead of answered."""
    truncate_rate: float = 0.0
    """Share of responses whose body is cut short (the full Content-Length is announced)."""
    rate_limit_rate: float = 0.0
    """Share of requests answered 429 with ``Retry-After: retry_after``."""
    redesign: bool = False
    """Portals render their redesigned markup (selectors of plugins should stop matching)."""
    seed: int = 0
    """Seed of the random draws, so a run with the same faults fails the same requests."""
    exempt: Callable[[web.Request], bool] | None = attrs.field(default=None, eq=False)
    """Requests for which this returns true are never faulted."""
    hang_seconds: float = 30.0
    """How long a "timeout" request hangs before its connection is closed."""
    retry_after: int = 1
    """Seconds announced in the Retry-After header of a 429."""
    _rng: random.Random = attrs.field(init=False, repr=False, eq=False, default=None)
    _rng_seed: int | None = attrs.field(init=False, repr=False, eq=False, default=None)

    def draw(self) -> str | None:
        """Pick the fault for one request (``None`` for a normal answer)."""
        if self._rng is None or self._rng_seed != self.seed:
            self._rng, self._rng_seed = random.Random(self.seed), self.seed
        roll = self._rng.random()
        edge = 0.0
        for kind, rate in zip(FAULT_KINDS, (self.reset_rate, self.timeout_rate, self.error_rate,
                                            self.rate_limit_rate, self.truncate_rate)):
            edge += max(0.0, rate)
            if roll < edge:
                return kind
        return None

    def clear(self) -> None:
        """Back to a healthy portal (keeps ``seed`` and ``exempt``)."""
        self.latency = self.error_rate = self.timeout_rate = 0.0
        self.reset_rate = self.truncate_rate = self.rate_limit_rate = 0.0
        self.redesign = False

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in attrs.fields(Faults)
                if not f.name.startswith("_") and f.name != "exempt"}

    def update(self, values: dict[str, Any]) -> None:
        """Set fields from a JSON-like mapping (unknown names raise ``KeyError``)."""
        allowed = self.to_json()
        for key, value in values.items():
            if key not in allowed:
                raise KeyError(key)
            kind = type(allowed[key])
            if kind is bool and isinstance(value, str):
                value = value.strip().lower() in ("1", "true", "yes", "on")
            setattr(self, key, kind(value))


class FaultSource(Protocol):
    """What the middleware needs from a portal."""

    faults: Faults

    def record(self, kind: str, **detail: Any) -> None: ...


SANDBOX_PORTAL_KEY: web.AppKey[Any] = web.AppKey("dextcore_sandbox_portal", object)

_FILE_TYPES = ("application/pdf", "application/zip")


def _reset(request: web.Request) -> None:
    """Abort the connection with a TCP RST (SO_LINGER 0), like a crashed load balancer."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:  # the peer may be gone already
            pass
    transport.abort()


class _Dropped(web.StreamResponse):
    """Placeholder answer for a connection already aborted: aiohttp finds nothing to write."""

    def __init__(self) -> None:
        super().__init__(status=499)

    async def prepare(self, request: web.BaseRequest) -> None:  # type: ignore[override]
        return None

    async def write_eof(self, data: bytes = b"") -> None:
        return None


async def _truncated(request: web.Request, response: web.Response) -> web.StreamResponse:
    body = response.body
    assert isinstance(body, (bytes, bytearray))
    short = web.StreamResponse(status=response.status, reason=response.reason)
    for name, value in response.headers.items():
        if name.lower() not in ("content-length", "transfer-encoding", "content-encoding"):
            short.headers.add(name, value)
    for cookie in response.cookies.values():
        short.cookies[cookie.key] = cookie
    short.content_length = len(body)
    short.force_close()  # the connection ends after the short body: the client sees it cut
    await short.prepare(request)
    await short.write(bytes(body[: len(body) // 2]))
    return short


@web.middleware
async def fault_middleware(request: web.Request,
                           handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Apply the portal's :class:`Faults` to one request, and note files served."""
    portal: FaultSource = request.app[SANDBOX_PORTAL_KEY]
    faults = portal.faults
    spared = request.path.startswith("/_admin") or (faults.exempt is not None and faults.exempt(request))
    fault = None if spared else faults.draw()
    if not spared and faults.latency > 0:
        await asyncio.sleep(faults.latency)
    if fault is not None and fault != "truncate":
        portal.record("fault", fault=fault, method=request.method, path=request.path)
    if fault == "reset":
        _reset(request)
        return _Dropped()
    if fault == "timeout":
        await asyncio.sleep(faults.hang_seconds)
        _reset(request)
        return _Dropped()
    if fault == "error":
        status = random.Random(f"{faults.seed}:{request.path_qs}").choice((500, 502, 503))
        return web.Response(status=status, text=f"<html><body><h1>{status}</h1><p>Service temporarily unavailable."
                            "</p></body></html>", content_type="text/html")
    if fault == "rate_limit":
        return web.Response(status=429, headers={"Retry-After": str(faults.retry_after)},
                            text="<html><body><h1>429 Too Many Requests</h1></body></html>", content_type="text/html")
    response = await handler(request)
    if response.content_type in _FILE_TYPES and response.status == 200:
        size = response.content_length if response.content_length is not None else -1
        portal.record("file_served", path=request.path, content_type=response.content_type, size=size)
    if (fault == "truncate" and isinstance(response, web.Response) and not response.prepared
            and isinstance(response.body, (bytes, bytearray)) and len(response.body) > 1):
        portal.record("fault", fault=fault, method=request.method, path=request.path)
        return await _truncated(request, response)
    return response
