"""dextcore plugin for BT Business (and BT consumer) bills.

Offers its sandbox portal through ``register_sandbox_portals``; the
connector hooks are added by the connector module.
"""

from __future__ import annotations

from typing import Iterable

from dextcore.hookspecs import hookimpl


@hookimpl
def register_sandbox_portals() -> Iterable[type]:
    """The fake BT portal (business and consumer sites) for tests and the demo."""
    from dextcore_bt_business.sandbox import BTPortal  # aiohttp only loads when a sandbox is wanted

    return [BTPortal]
