"""The accounting tables, on the shared :data:`dextcore.store.schema.metadata`.

References from rules and items to list entries use the local
``accounting_list_entries.id`` (never a remote id): an entry belongs to one
accounting connection, so "nothing references the old connection" after a
merge is a query, and archived entries keep their rows (``active`` false).
Credentials (devKey, password, remembered device, API session) live in the
vault under scope ``"accounting"``, owner = the connection id.
"""

from __future__ import annotations

import sqlalchemy as sa

from dextcore.store.schema import metadata

__all__ = [
    "ENTRY_COLUMNS",
    "accounting_connections",
    "accounting_items",
    "accounting_list_entries",
    "accounting_publications",
    "supplier_rules",
]

_ts = sa.DateTime(timezone=True)
_money = sa.Numeric(14, 2)

accounting_connections = sa.Table(
    "accounting_connections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("connector", sa.String(100), nullable=False),
    sa.Column("variant", sa.String(100), nullable=True),
    sa.Column("base_url", sa.String(1000), nullable=True, comment="override of the variant URL (sandbox, tests)"),
    sa.Column("username", sa.String(255), nullable=False),
    sa.Column("organisation_id", sa.String(100), nullable=True, comment="remote organisation / tenant id"),
    sa.Column("organisation_name", sa.String(255), nullable=True),
    sa.Column("fields", sa.JSON, nullable=False, default=dict, comment="non-secret connector fields"),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("authorised_at", _ts, nullable=False, comment="last (re)connection; expiry counts from here"),
    sa.Column("lifetime_days", sa.Integer, nullable=False, server_default="365"),
    sa.Column("status", sa.String(16), nullable=False, comment="active | expired | replaced"),
    sa.Column("status_reason", sa.Text, nullable=False, server_default=""),
    sa.Column("status_changed_at", _ts, nullable=False),
    sa.Column("current", sa.Boolean, nullable=False, server_default=sa.false(),
              comment="the connection items publish to (one at a time)"),
    sa.Column("replaced_by", sa.Integer, sa.ForeignKey("accounting_connections.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("last_synced_at", _ts, nullable=True),
)

accounting_list_entries = sa.Table(
    "accounting_list_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("connection_id", sa.Integer, sa.ForeignKey("accounting_connections.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("kind", sa.String(20), nullable=False, comment="a ListKind value"),
    sa.Column("remote_id", sa.String(100), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("code", sa.String(100), nullable=True, comment="account number / short code"),
    sa.Column("parent_remote_id", sa.String(100), nullable=True),
    sa.Column("days_due", sa.Integer, nullable=True, comment="payment terms only"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true(),
              comment="false: archived or gone from the software; never deleted"),
    sa.Column("raw", sa.JSON, nullable=False, default=dict),
    sa.Column("first_seen_at", _ts, nullable=False),
    sa.Column("updated_at", _ts, nullable=False),
    sa.UniqueConstraint("connection_id", "kind", "remote_id", name="uq_accounting_list_entry"),
)
sa.Index("ix_accounting_list_entries_kind", accounting_list_entries.c.connection_id, accounting_list_entries.c.kind)


def _entry_ref(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey("accounting_list_entries.id", ondelete="SET NULL"), nullable=True)


ENTRY_COLUMNS = {
    "vendor_entry_id": "vendors",
    "category_entry_id": "accounts",
    "tax_account_entry_id": "accounts",
    "class_entry_id": "classes",
    "location_entry_id": "locations",
    "payment_term_entry_id": "payment_terms",
}
"""Columns of rules and items that point at list entries, and the list each expects."""

supplier_rules = sa.Table(
    "supplier_rules",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("supplier", sa.String(255), nullable=False, comment="as typed"),
    sa.Column("supplier_key", sa.String(255), nullable=False, unique=True, comment="normalised name matched"),
    *(_entry_ref(name) for name in ENTRY_COLUMNS),
    sa.Column("tax_rate", sa.Numeric(6, 4), nullable=True, comment="0.2000 for 20 %"),
    sa.Column("due_days", sa.Integer, nullable=True, comment="due date = invoice date + days"),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("auto_publish", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("updated_at", _ts, nullable=False),
)

accounting_items = sa.Table(
    "accounting_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="SET NULL"), nullable=True,
              unique=True),
    sa.Column("supplier", sa.String(255), nullable=True, comment="as the document names it"),
    sa.Column("supplier_key", sa.String(255), nullable=True),
    sa.Column("invoice_number", sa.String(255), nullable=True),
    sa.Column("invoice_date", sa.Date, nullable=True),
    sa.Column("due_date", sa.Date, nullable=True),
    sa.Column("currency", sa.String(3), nullable=True),
    sa.Column("total", _money, nullable=True),
    sa.Column("tax", _money, nullable=True),
    sa.Column("tax_rate", sa.Numeric(6, 4), nullable=True),
    *(_entry_ref(name) for name in ENTRY_COLUMNS),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("lines", sa.JSON, nullable=True, comment="explicit lines; NULL: net + tax lines derived"),
    sa.Column("edited", sa.JSON, nullable=False, default=list, comment="fields a person set: rules leave them"),
    sa.Column("rule_id", sa.Integer, sa.ForeignKey("supplier_rules.id", ondelete="SET NULL"), nullable=True),
    sa.Column("status", sa.String(16), nullable=False, comment="new | queued | failed | published"),
    sa.Column("status_reason", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("updated_at", _ts, nullable=False),
)
sa.Index("ix_accounting_items_supplier", accounting_items.c.supplier_key)
sa.Index("ix_accounting_items_status", accounting_items.c.status)

accounting_publications = sa.Table(
    "accounting_publications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("accounting_items.id", ondelete="CASCADE"), nullable=False),
    sa.Column("connection_id", sa.Integer, sa.ForeignKey("accounting_connections.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("remote_bill_id", sa.String(100), nullable=True, comment="recorded as soon as the bill exists"),
    sa.Column("remote_document_id", sa.String(100), nullable=True),
    sa.Column("status", sa.String(16), nullable=False, comment="pending | bill_created | published | failed"),
    sa.Column("error", sa.Text, nullable=False, server_default=""),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("started_at", _ts, nullable=False),
    sa.Column("finished_at", _ts, nullable=True),
    sa.UniqueConstraint("item_id", "connection_id", name="uq_accounting_publication"),
)

TABLES = [accounting_connections, accounting_list_entries, supplier_rules, accounting_items, accounting_publications]
