"""The session handed to every portal connector hook.

A plugin never sees the vault, the store or Scrapy's crawler: it gets a
:class:`PortalSession`, which fetches through Scrapy (cookies, retries,
throttling, allowed-domain enforcement all apply) and resolves secrets on
demand inside the process. Nothing secret is ever placed in settings or
``Request.meta``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any, Mapping, MutableMapping, Protocol, runtime_checkable

import attrs

from dextcore.records import Connector, Variant

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response

__all__ = ["ConnectionView", "PortalSession"]


@attrs.frozen
class ConnectionView:
    """The non-secret facts of the connection being fetched."""

    id: int
    connector: Connector = attrs.field(repr=lambda c: c.name)
    variant: Variant = attrs.field(repr=lambda v: v.name)
    username: str | None
    timezone: str = "UTC"
    history_from: dt.date | None = None
    """Collect documents dated on or after this day (``None``: all history)."""
    fields: Mapping[str, Any] = attrs.field(factory=dict)
    """The plugin-declared non-secret fields the user entered."""


@runtime_checkable
class PortalSession(Protocol):
    """A fetch in progress, as a portal connector sees it."""

    connection: ConnectionView
    base_url: str
    """The variant's base URL, or the sandbox/test override of it."""
    since: dt.date | None
    """Earliest document date this run wants: the history date on a full
    run, a recent date on an incremental run."""
    state: MutableMapping[str, Any]
    """Scratch space kept for the length of the run."""
    log: logging.Logger

    @property
    def username(self) -> str | None:
        """The connection's username (``connection.username``)."""

    def url(self, path: str) -> str:
        """``path`` resolved against :attr:`base_url` (keeps any base path)."""

    def secret(self, name: str) -> str | None:
        """A secret credential field (``password``, ``totp_secret``, ...)."""

    def totp(self) -> str | None:
        """The current authenticator code from the stored TOTP secret, if any."""

    async def fetch(self, request: Request) -> Response:
        """Send ``request`` through the crawl and return its response.

        Raises :class:`~dextcore.outcomes.PortalUnavailable` when the portal
        cannot be reached after retries and
        :class:`~dextcore.outcomes.ForeignHostBlocked` for a host outside
        the connector's allowed domains.
        """

    async def get(self, url: str, **kwargs: Any) -> Response:
        """GET ``url`` (relative URLs resolve against :attr:`base_url`)."""

    async def post(
        self,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """POST form ``data`` (url-encoded) or a ``json`` body."""

    async def submit_form(
        self,
        response: Response,
        *,
        css: str | None = None,
        data: Mapping[str, str] | None = None,
        click: str | None = None,
    ) -> Response:
        """Submit the HTML form matched by ``css`` on ``response``, keeping its
        hidden inputs and overriding them with ``data``."""

    async def browser_page(self, url: str) -> Any:
        """Open ``url`` in the crawl's headless browser (scrapy-playwright)
        and return the Playwright page (connectors with ``uses_browser=True``).

        Close the page when done with it (``await page.close()``): a browser
        context holds only a few pages at once, and the core closes what is
        left only at the end of the run. Every request of the browser,
        redirect hops included, is kept on the allowed hosts; a navigation
        to another host ends the run ("Plugin broken").
        """

    async def print_pdf(self, response: Response) -> bytes:
        """Render an HTML page to PDF in headless Chromium."""

    def save_page(self, response: Response, reason: str) -> str:
        """Keep ``response`` (secrets scrubbed) for the plugin's maintainer;
        returns where it was saved."""
