"""Serve fake portals on 127.0.0.1 from a background thread with its own asyncio loop.

Each portal gets its own free port (so cookies of one never reach another,
as with real distinct hosts); the admin view gets one more. The main
thread — tests, the Scrapy/Twisted reactor — stays free.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Iterable

from aiohttp import web

from dextcore.sandbox.admin import build_admin_app
from dextcore.sandbox.clock import Clock
from dextcore.sandbox.discovery import LoadFailure, discover_portals
from dextcore.sandbox.faults import SANDBOX_PORTAL_KEY, fault_middleware
from dextcore.sandbox.mailbox import Mailbox
from dextcore.sandbox.portal import SandboxPortal

__all__ = ["SandboxServer"]

_START_TIMEOUT = 30.0


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class SandboxServer:
    """Runs fake portals on loopback ports.

    ``portals`` are :class:`SandboxPortal` instances (or classes, which are
    instantiated); ``None`` loads every installed plugin's portals (entry
    points group ``dextcore``, hook ``register_sandbox_portals``), recording
    broken plugins in :attr:`failures`. Portals built without their own
    mailbox or clock share the server's.

    Use as a context manager::

        with SandboxServer([BTPortal()]) as sandbox:
            url = sandbox.base_url("bt", "business")
    """

    def __init__(self, portals: Iterable[SandboxPortal | type[SandboxPortal]] | None = None, *,
                 mailbox: Mailbox | None = None, clock: Clock | None = None) -> None:
        self.mailbox = mailbox if mailbox is not None else Mailbox()
        self.clock = clock if clock is not None else Clock()
        self.failures: tuple[LoadFailure, ...] = ()
        if portals is None:
            found = discover_portals()
            self.failures = found.failures
            portals = found.portals
        self.portals: list[SandboxPortal] = []
        for item in portals:
            portal = item(mailbox=self.mailbox, clock=self.clock) if isinstance(item, type) else item
            if not portal._own_mailbox:
                portal.mailbox = self.mailbox
            if not portal._own_clock:
                portal.clock = self.clock
            if any(p.name == portal.name for p in self.portals):
                raise ValueError(f"two sandbox portals are named {portal.name!r}")
            self.portals.append(portal)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: list[web.AppRunner] = []
        self._ports: dict[str, int] = {}
        self._admin_port: int | None = None

    # -- lifecycle -------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._loop is not None

    def start(self) -> SandboxServer:
        """Bind every portal and the admin view; returns once they accept connections."""
        if self._loop is not None:
            return self
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="dextcore-sandbox", daemon=True)
        self._thread.start()
        ready.wait(_START_TIMEOUT)
        self._loop = loop
        try:
            asyncio.run_coroutine_threadsafe(self._serve(), loop).result(_START_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        return self

    async def _site(self, app: web.Application) -> int:
        # Hanging ("timeout") handlers must not delay shutdown: cancel them quickly.
        # handler_cancellation: a hang ends when the client gives up, as on a real server.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2, handler_cancellation=True)
        await runner.setup()
        self._runners.append(runner)
        sock = _listening_socket()
        site = web.SockSite(runner, sock)
        await site.start()
        return sock.getsockname()[1]

    async def _serve(self) -> None:
        for portal in self.portals:
            app = portal.build_app()
            # A portal that built its own app without the base one still gets faults.
            if SANDBOX_PORTAL_KEY not in app:
                app[SANDBOX_PORTAL_KEY] = portal
            if fault_middleware not in app.middlewares:
                app.middlewares.insert(0, fault_middleware)
            self._ports[portal.name] = await self._site(app)
        self._admin_port = await self._site(build_admin_app(self))

    def stop(self) -> None:
        """Close every site and the loop; idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None:
            return

        async def cleanup() -> None:
            for runner in reversed(self._runners):
                await runner.cleanup()
            # Handlers still sleeping (injected hangs, latency) must not outlive the loop.
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        try:
            if loop.is_running():
                asyncio.run_coroutine_threadsafe(cleanup(), loop).result(_START_TIMEOUT)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            if thread is not None:
                thread.join(_START_TIMEOUT)
            loop.close()
            self._loop = self._thread = None
            self._runners.clear()
            self._ports.clear()
            self._admin_port = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------

    def portal(self, name: str) -> SandboxPortal:
        """The portal called ``name`` (``KeyError`` if absent)."""
        for portal in self.portals:
            if portal.name == name:
                return portal
        raise KeyError(name)

    def root(self, portal_name: str) -> str:
        """``http://127.0.0.1:PORT`` of a started portal."""
        self.portal(portal_name)
        if portal_name not in self._ports:
            raise RuntimeError("the sandbox server is not started")
        return f"http://127.0.0.1:{self._ports[portal_name]}"

    def base_url(self, portal_name: str, variant: str | None = None) -> str:
        """Base URL a connection of ``variant`` uses on that portal."""
        return self.portal(portal_name).variant_base_url(self.root(portal_name), variant)

    @property
    def admin_url(self) -> str:
        """URL of the JSON admin view (the HTML one is at ``admin_url + ".html"``)."""
        if self._admin_port is None:
            raise RuntimeError("the sandbox server is not started")
        return f"http://127.0.0.1:{self._admin_port}/_admin"

    def __repr__(self) -> str:
        return f"<SandboxServer {[p.name for p in self.portals]} {'running' if self.started else 'stopped'}>"
