"""dextcore connector for Spotify account receipts (spotify.com).

The portal needs JavaScript (its login form and receipts table are built in
the browser), so the connector hooks (:mod:`.hooks`) drive a real headless
Chromium through the session's ``browser_page``. Page knowledge lives in
:mod:`.selectors` and :mod:`.pages`; the fake portal in :mod:`.sandbox`.
"""

from __future__ import annotations

from typing import Iterable

from dextcore.hookspecs import hookimpl
from dextcore.records import Connector

__all__ = ["register_connectors", "register_sandbox_portals"]


@hookimpl
def register_connectors() -> Iterable[Connector]:
    """Offer the ``spotify`` connector, served by :mod:`dextcore_spotify.hooks`."""
    from dextcore_spotify import hooks
    from dextcore_spotify.connector import make_connector

    return [make_connector(hooks)]


@hookimpl
def register_sandbox_portals() -> Iterable[type]:
    """Offer :class:`~dextcore_spotify.sandbox.SpotifyPortal`."""
    from dextcore_spotify.sandbox import SpotifyPortal

    return [SpotifyPortal]
