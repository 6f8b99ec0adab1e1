"""What the core and accounting plugins exchange.

An accounting plugin (Bill.com today, QuickBooks or Xero later) sees an
:class:`AccountingSession` and returns these records; it never touches the
store. The core keeps lists, rules, items and publications.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any, Awaitable, Callable, Mapping

import attrs

__all__ = [
    "AccountingConnectionView",
    "AccountingSession",
    "Bill",
    "BillLine",
    "ListKind",
    "Organisation",
    "PublishedBill",
    "RemoteEntry",
]


class ListKind(str, enum.Enum):
    """The lists an accounting connection syncs (product.md §5)."""

    ACCOUNTS = "accounts"
    """Chart of accounts: the categories items are booked to."""
    VENDORS = "vendors"
    """Suppliers."""
    CUSTOMERS = "customers"
    CLASSES = "classes"
    LOCATIONS = "locations"
    PAYMENT_TERMS = "payment_terms"

    @property
    def label(self) -> str:
        return {"accounts": "Chart of accounts", "vendors": "Suppliers", "customers": "Customers",
                "classes": "Classes", "locations": "Locations", "payment_terms": "Payment terms"}[self.value]


def _frozen(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return dict(value or {})


@attrs.frozen
class RemoteEntry:
    """One entry of a list as the accounting software has it.

    ``code`` is the account number (chart of accounts) or short code;
    ``days_due`` is set for payment terms. Archived entries are returned
    with ``active=False``: the core keeps them, inactive, never deleting.
    """

    kind: ListKind
    remote_id: str
    name: str
    code: str | None = None
    active: bool = True
    parent_id: str | None = None
    days_due: int | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, eq=False, repr=False)


@attrs.frozen
class Organisation:
    """The organisation (company file, tenant) a login reached."""

    id: str
    name: str | None = None
    trusted: bool = False


@attrs.frozen
class AccountingConnectionView:
    """The non-secret facts of an accounting connection, as plugins see them."""

    id: int
    connector: str
    username: str
    organisation_id: str | None
    base_url: str | None
    fields: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen)


@attrs.frozen
class BillLine:
    amount: Decimal
    description: str = ""
    account_id: str | None = None
    """Remote id of the chart-of-accounts entry."""
    class_id: str | None = None
    location_id: str | None = None


@attrs.frozen
class Bill:
    """An item ready to publish, with remote ids resolved.

    ``vendor_id`` is ``None`` when the supplier is not yet in the
    accounting software: the plugin creates it (looking it up by name
    first). ``remote_id`` is the bill id recorded by an earlier attempt
    (the plugin must then not create another).
    """

    item_id: int
    vendor_name: str
    vendor_id: str | None
    invoice_number: str
    invoice_date: dt.date
    due_date: dt.date
    lines: tuple[BillLine, ...]
    total: Decimal
    currency: str | None
    document_path: Path
    document_name: str
    document_sha256: str
    remote_id: str | None = None
    description: str = ""


@attrs.frozen
class PublishedBill:
    """What :func:`~dextcore.hookspecs.publish_bill` returns."""

    remote_id: str
    document_id: str | None
    vendor: RemoteEntry | None = None
    """The supplier entry used (created or found), for the core's lists."""
    created: bool = True
    """False when an existing bill (earlier attempt) was completed instead."""


class AccountingSession:
    """One operation on an accounting connection, handed to the plugin hooks.

    Secrets are read on demand (:meth:`secret`) and never copied into the
    session's repr. :meth:`remember` stores what the plugin must keep
    between runs (a remembered-device id, an API session) in the vault.
    ``state`` is scratch space for the operation (e.g. the API client);
    register clean-ups with :meth:`on_close`.
    """

    def __init__(
        self,
        connection: AccountingConnectionView,
        *,
        secrets: Callable[[str], str | None],
        remember: Callable[[str, str | None], None],
        record_bill: Callable[[int, str], None] | None = None,
        log: logging.Logger | None = None,
        options: Mapping[str, Any] | None = None,
        interactive: bool = False,
    ) -> None:
        self.connection = connection
        self.interactive = interactive
        """True while an admin connects or reconnects and can type a code: the
        time to run MFA. Unattended operations (refresh, publish) must not
        start a challenge nobody will answer."""
        self.base_url = connection.base_url
        self.state: dict[str, Any] = {}
        self.log = log or logging.getLogger(f"dextcore.accounting.{connection.connector}")
        self.options: Mapping[str, Any] = dict(options or {})
        """Tuning the embedding app may pass to the plugin (timeouts in tests)."""
        self._secrets = secrets
        self._remember = remember
        self._record_bill = record_bill
        self._closers: list[Callable[[], Awaitable[None]]] = []

    def __repr__(self) -> str:
        return f"<AccountingSession {self.connection.connector} #{self.connection.id}>"

    def secret(self, name: str) -> str | None:
        """A secret of the connection (``password``, ``dev_key``, ``remember_me_id`` ...)."""
        return self._secrets(name)

    def remember(self, name: str, value: str | None) -> None:
        """Keep (or with ``None`` forget) a secret for the next operations."""
        self._remember(name, value)

    def record_bill(self, item_id: int, remote_id: str) -> None:
        """Record the id of a bill just created, BEFORE uploading its document:
        a retry then completes this bill instead of creating another."""
        if self._record_bill is not None:
            self._record_bill(item_id, remote_id)

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        self._closers.append(closer)

    async def aclose(self) -> None:
        closers, self._closers = self._closers, []
        for closer in reversed(closers):
            try:
                await closer()
            except Exception:  # closing must not hide the operation's result
                self.log.warning("closing the accounting session failed", exc_info=True)
