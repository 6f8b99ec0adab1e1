"""Read-only views of the accounting tables, as the service returns them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Mapping

import attrs

from dextcore.accounting.records import ListKind

__all__ = [
    "AccountingConnection",
    "Item",
    "ListEntry",
    "MergeProposal",
    "MergeReport",
    "PublishOutcome",
    "Rule",
    "SyncSummary",
]


@attrs.frozen
class AccountingConnection:
    id: int
    connector: str
    variant: str | None
    base_url: str | None
    username: str
    organisation_id: str | None
    organisation_name: str | None
    fields: Mapping[str, Any]
    created_by: str
    created_at: dt.datetime
    authorised_at: dt.datetime
    lifetime_days: int
    status: str
    """``connecting``, ``active``, ``expired`` or ``replaced``."""
    status_reason: str
    status_changed_at: dt.datetime
    current: bool
    replaced_by: int | None
    last_synced_at: dt.datetime | None

    @property
    def expires_at(self) -> dt.datetime:
        return self.authorised_at + dt.timedelta(days=self.lifetime_days)

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["expires_at"] = self.expires_at
        return data


@attrs.frozen
class ListEntry:
    id: int
    connection_id: int
    kind: ListKind
    remote_id: str
    name: str
    code: str | None
    active: bool
    days_due: int | None = None
    parent_remote_id: str | None = None

    def label(self) -> str:
        text = f"{self.code} {self.name}" if self.code and self.kind is ListKind.ACCOUNTS else self.name
        return text if self.active else f"{text} (inactive)"


@attrs.frozen
class Rule:
    """A supplier rule: defaults applied to every item of that supplier."""

    id: int
    supplier: str
    supplier_key: str
    vendor_entry_id: int | None
    category_entry_id: int | None
    tax_account_entry_id: int | None
    class_entry_id: int | None
    location_entry_id: int | None
    payment_term_entry_id: int | None
    tax_rate: Decimal | None
    due_days: int | None
    description: str | None
    auto_publish: bool
    created_at: dt.datetime
    updated_at: dt.datetime


@attrs.frozen
class Item:
    """A collected document with its editable accounting details."""

    id: int
    document_id: int | None
    supplier: str | None
    invoice_number: str | None
    invoice_date: dt.date | None
    due_date: dt.date | None
    currency: str | None
    total: Decimal | None
    tax: Decimal | None
    tax_rate: Decimal | None
    vendor_entry_id: int | None
    category_entry_id: int | None
    tax_account_entry_id: int | None
    class_entry_id: int | None
    location_entry_id: int | None
    payment_term_entry_id: int | None
    description: str | None
    lines: list[dict[str, Any]] | None
    edited: tuple[str, ...]
    rule_id: int | None
    status: str
    """``new``, ``queued`` (waiting for a reconnect), ``failed`` or ``published``."""
    status_reason: str
    created_at: dt.datetime
    updated_at: dt.datetime
    missing: tuple[str, ...] = ()
    """What publishing still needs (empty: ready)."""
    remote_bill_id: str | None = None

    @property
    def ready(self) -> bool:
        return self.status != "published" and not self.missing

    @property
    def state(self) -> str:
        """What a person sees: published, queued, failed, ready or "needs details"."""
        if self.status in ("published", "queued", "failed"):
            return self.status
        return "ready" if not self.missing else "needs details"


@attrs.frozen
class PublishOutcome:
    item_id: int
    published: bool
    remote_bill_id: str | None = None
    error: str = ""
    created: bool = False


@attrs.frozen
class SyncSummary:
    connection_id: int
    counts: Mapping[str, Mapping[str, int]]
    """kind -> {"total", "active", "added", "deactivated"}."""


@attrs.frozen
class MergeProposal:
    """For one old list entry still referenced: the best match in the new lists."""

    old: ListEntry
    match: ListEntry | None
    reason: str
    """``code`` (exact code/number), ``name`` (normalised name) or ``none``."""
    rules: int
    items: int


@attrs.frozen
class MergeReport:
    retargeted: Mapping[int, int]
    """old entry id -> new entry id."""
    cleared: tuple[int, ...]
    """old entry ids dropped (skipped or without a match)."""
    rules_changed: int
    items_changed: int
