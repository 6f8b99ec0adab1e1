"""The base class of every fake portal."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import secrets
import threading
from typing import Any, ClassVar

from aiohttp import web

from dextcore.sandbox.clock import Clock
from dextcore.sandbox.events import DemoAccount, Event
from dextcore.sandbox.faults import SANDBOX_PORTAL_KEY, Faults, fault_middleware
from dextcore.sandbox.mailbox import Mailbox

__all__ = ["SandboxPortal"]


class SandboxPortal:
    """A fake portal: an aiohttp application plus its seeded accounts and data.

    Subclasses set :attr:`name` and :attr:`connector`, extend
    :meth:`build_app` (call ``super().build_app()`` and add routes) and
    return their :meth:`demo_accounts`. The base application already
    carries the fault middleware (which also records ``file_served`` events
    for every PDF or ZIP answered 200) and a JSON ``/_admin`` route with
    this portal's events. The machinery runs the app on its own thread, so
    handlers must not block.

    Shared state: ``mailbox`` and ``clock`` given here win; otherwise the
    :class:`~dextcore.sandbox.SandboxServer` hands the portal its own.
    """

    name: ClassVar[str] = ""
    connector: ClassVar[str] = ""

    def __init__(self, *, mailbox: Mailbox | None = None, faults: Faults | None = None,
                 clock: Clock | None = None, seed: int = 0) -> None:
        self._own_mailbox = mailbox is not None
        self._own_clock = clock is not None
        self.mailbox: Mailbox = mailbox if mailbox is not None else Mailbox()
        self.clock: Clock = clock if clock is not None else Clock()
        self.faults: Faults = faults if faults is not None else Faults(seed=seed)
        self.seed = seed
        self.events: list[Event] = []
        self._events_lock = threading.Lock()

    # -- to override -------------------------------------------------------

    def build_app(self) -> web.Application:
        """The aiohttp application of the portal; subclasses add their routes to it."""
        app = web.Application(middlewares=[fault_middleware])
        app[SANDBOX_PORTAL_KEY] = self
        app.router.add_get("/_admin", self._admin_view)
        return app

    def demo_accounts(self) -> list[DemoAccount]:
        """The accounts this portal seeds, one per scenario."""
        return []

    def variant_base_url(self, root: str, variant: str | None) -> str:
        """Base URL a connection of ``variant`` uses, given the server ``root`` (``http://127.0.0.1:PORT``)."""
        return root

    # -- helpers for subclasses -------------------------------------------------

    def record(self, kind: str, **detail: Any) -> None:
        """Append an :class:`Event` (shown in the admin view). Never pass secrets."""
        event = Event(at=self.clock.now(), portal=self.name, kind=kind, detail=detail)
        with self._events_lock:
            self.events.append(event)

    def events_of(self, kind: str) -> list[Event]:
        """The events of one kind, oldest first."""
        with self._events_lock:
            return [e for e in self.events if e.kind == kind]

    def rng(self, *parts: object) -> random.Random:
        """A random generator seeded from the portal seed and ``parts`` (e.g. an account):
        stable across runs and processes (no ``hash()`` randomisation)."""
        key = "|".join(str(p) for p in (self.name, self.seed, *parts)).encode()
        return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))

    def send_code(self, to: str, *, channel: str = "sms", template: str = "Your code is {code}",
                  digits: int = 6) -> str:
        """Make a fresh one-time code, deliver it to the mailbox and record ``code_sent``."""
        code = "".join(secrets.choice("0123456789") for _ in range(digits))
        self.mailbox.deliver(to, template.format(code=code), channel=channel, code=code)
        self.record("code_sent", to=to, channel=channel)
        return code

    def monthly_dates(self, day: int, *, months: int = 27, until: dt.date | None = None) -> list[dt.date]:
        """Dates on ``day`` of each of the last ``months`` months up to ``until`` (default today),
        newest first — enough for documents spanning more than two calendar years."""
        end = until or self.clock.today()
        year, month = end.year, end.month
        if end.day < day:
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        out = []
        for _ in range(months):
            out.append(dt.date(year, month, min(day, 28)))
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        return out

    async def _admin_view(self, request: web.Request) -> web.Response:
        with self._events_lock:
            events = [e.to_json() for e in self.events]
        return web.json_response({"portal": self.name, "connector": self.connector,
                                  "faults": self.faults.to_json(), "events": events})

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} for {self.connector!r}>"
