"""dextcore plugin for BT Business (and BT consumer) bills.

The connector hooks live in :mod:`.hooks`, page knowledge in
:mod:`.selectors` and :mod:`.pages`, the ZIP unpacking in :mod:`.archive`,
the fake portal in :mod:`.sandbox`.
"""

from __future__ import annotations

from typing import Iterable

from dextcore.hookspecs import hookimpl
from dextcore.records import Connector

__all__ = ["register_connectors", "register_sandbox_portals"]


@hookimpl
def register_connectors() -> Iterable[Connector]:
    """Offer the ``bt_business`` connector, served by :mod:`dextcore_bt_business.hooks`."""
    from dextcore_bt_business import hooks
    from dextcore_bt_business.connector import make_connector

    return [make_connector(hooks)]


@hookimpl
def register_sandbox_portals() -> Iterable[type]:
    """The fake BT portal (business and consumer sites) for tests and the demo."""
    from dextcore_bt_business.sandbox import BTPortal  # aiohttp only loads when a sandbox is wanted

    return [BTPortal]
