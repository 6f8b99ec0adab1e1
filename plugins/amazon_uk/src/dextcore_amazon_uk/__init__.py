"""dextcore connector for Amazon order invoices (amazon.co.uk, amazon.de, amazon.com).

The connector hooks live in :mod:`.hooks`, page knowledge in
:mod:`.selectors` and :mod:`.pages`, the fake portal in :mod:`.sandbox`.
"""

from __future__ import annotations

from typing import Iterable

from dextcore.hookspecs import hookimpl
from dextcore.records import Connector

__all__ = ["register_connectors", "register_sandbox_portals"]


@hookimpl
def register_connectors() -> Iterable[Connector]:
    """Offer the ``amazon_uk`` connector, served by :mod:`dextcore_amazon_uk.hooks`."""
    from dextcore_amazon_uk import hooks
    from dextcore_amazon_uk.connector import make_connector

    return [make_connector(hooks)]


@hookimpl
def register_sandbox_portals() -> Iterable[type]:
    """Offer :class:`~dextcore_amazon_uk.sandbox.AmazonPortal` (imported lazily: aiohttp is
    needed only when a sandbox runs)."""
    from dextcore_amazon_uk.sandbox import AmazonPortal

    return [AmazonPortal]
