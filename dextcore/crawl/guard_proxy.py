"""A loopback HTTP proxy that keeps a headless browser on the allowed hosts.

Playwright's request routing does not see redirect hops: a portal that
redirects the browser to another host would have that host receive the
request (and whatever a 307 re-posts). Every browser context of a crawl is
therefore pointed at this proxy, which sees each request — redirect hops,
sub-resources, ``CONNECT`` tunnels for HTTPS — and refuses any whose
``host:port`` is not allowed, before a byte reaches it.

Each proxied request gets its own upstream connection (``Connection:
close``), so a kept-alive client connection can never carry a request for
one host to another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Callable

from dextcore.crawl.hosts import AllowedHosts

__all__ = ["GuardProxy"]

log = logging.getLogger(__name__)

_MAX_HEAD = 64 * 1024
_HOP_HEADERS = (b"proxy-connection", b"proxy-authorization", b"connection", b"keep-alive")


class GuardProxy:
    """``await start()`` → ``url``; ``on_blocked(host)`` is called for each refused request."""

    def __init__(self, allowed: AllowedHosts, on_blocked: Callable[[str], None]) -> None:
        self.allowed = allowed
        self.on_blocked = on_blocked
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.url = ""

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            if task is not None:
                self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > _MAX_HEAD:
            return
        request_line, _, rest = head.partition(b"\r\n")
        method, target, version = request_line.split(b" ", 2)
        if method.upper() == b"CONNECT":
            host, _, port_text = target.decode("latin-1").rpartition(":")
            url = f"https://{host}:{port_text}/"
            if not self.allowed.allows(url):
                self._refuse(writer, f"{host}:{port_text}")
                return
            up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port_text))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await self._pipe(reader, writer, up_reader, up_writer)
            return
        url = target.decode("latin-1")
        if not url.startswith("http://") or not self.allowed.allows(url):
            self._refuse(writer, AllowedHosts.host_of(url))
            return
        authority, _, path = url[len("http://"):].partition("/")
        host, _, port_text = authority.rpartition(":") if ":" in authority else (authority, "", "80")
        headers = [line for line in rest.split(b"\r\n") if line and line.split(b":", 1)[0].strip().lower()
                   not in _HOP_HEADERS]
        upstream_head = b"\r\n".join([method + b" /" + path.encode("latin-1") + b" " + version, *headers,
                                      b"Connection: close"]) + b"\r\n\r\n"
        up_reader, up_writer = await asyncio.open_connection(host, int(port_text or 80))
        up_writer.write(upstream_head)
        await up_writer.drain()
        await self._pipe(reader, writer, up_reader, up_writer)

    def _refuse(self, writer: asyncio.StreamWriter, host: str) -> None:
        log.info("browser request to foreign host %s refused", host)
        self.on_blocked(host)
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    up_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter) -> None:
        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            finally:
                with contextlib.suppress(Exception):
                    dst.close()

        try:
            # Upstream closing ends the exchange (it was asked to close);
            # the client side is then closed too, so no second request rides on it.
            up = asyncio.ensure_future(copy(up_reader, writer))
            down = asyncio.ensure_future(copy(reader, up_writer))
            await up
            down.cancel()
        finally:
            with contextlib.suppress(Exception):
                up_writer.close()
