"""The accounting side of dextcore: connections to accounting software,
their synced lists, supplier rules, items and publications.

The model lives in the core; a provider (Bill.com, later QuickBooks or
Xero) is a plugin implementing the accounting hooks of
:mod:`dextcore.hookspecs` against an :class:`AccountingSession`. See
docs/accounting.md. The service (:class:`dextcore.accounting.service.AccountingService`)
is reached as ``Dextcore.accounting``.
"""

from dextcore.accounting.errors import (
    AccountingError,
    ConnectionExpired,
    ItemNotReady,
    NotAdmin,
    NotConnected,
)
from dextcore.accounting.records import (
    AccountingConnectionView,
    AccountingSession,
    Bill,
    BillLine,
    ListKind,
    Organisation,
    PublishedBill,
    RemoteEntry,
)

__all__ = [
    "AccountingConnectionView",
    "AccountingError",
    "AccountingSession",
    "Bill",
    "BillLine",
    "ConnectionExpired",
    "ItemNotReady",
    "ListKind",
    "NotAdmin",
    "NotConnected",
    "Organisation",
    "PublishedBill",
    "RemoteEntry",
]
