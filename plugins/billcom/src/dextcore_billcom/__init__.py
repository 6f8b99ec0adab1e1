"""dextcore accounting connector for Bill.com (the v3 "Connect" REST API).

The entry point (group ``dextcore``, name ``billcom``) loads this module;
its hook implementations live in :mod:`dextcore_billcom.hooks` and are
re-exported here so pluggy finds them on the module. The fake Bill.com is
:class:`dextcore_billcom.sandbox.BillcomPortal`.
"""

from dextcore_billcom.hooks import (
    accounting_2fa,
    connect_accounting,
    publish_bill,
    register_connectors,
    register_sandbox_portals,
    sync_lists,
)

__all__ = [
    "accounting_2fa",
    "connect_accounting",
    "publish_bill",
    "register_connectors",
    "register_sandbox_portals",
    "sync_lists",
]
