"""Items: a collected document's accounting details, computed from the
document, its supplier rule and what a person edited.

An item's values are always *recomputed* the same way — document values,
then the supplier rule's defaults, with every field a person edited kept
as they set it — so changing a rule re-applies it to the supplier's
unpublished items without ever overwriting a manual edit.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa

from dextcore.accounting.lists import entry
from dextcore.accounting.model import Item
from dextcore.accounting.names import normalise
from dextcore.accounting.records import ListKind
from dextcore.accounting.schema import ENTRY_COLUMNS
from dextcore.accounting.schema import accounting_items as items_t
from dextcore.accounting.schema import accounting_publications as pubs_t
from dextcore.accounting.schema import supplier_rules as rules_t
from dextcore.store import schema

__all__ = ["EDITABLE", "FROM_DOCUMENT", "ENTRY_LABELS", "compute", "missing", "to_item"]

FROM_DOCUMENT = ("supplier", "invoice_number", "invoice_date", "total", "tax", "currency")
"""Fields read from the document (unless edited)."""
EDITABLE = FROM_DOCUMENT + ("due_date", "tax_rate", "description", "lines") + tuple(ENTRY_COLUMNS)
ENTRY_LABELS = {
    "vendor_entry_id": "supplier",
    "category_entry_id": "category",
    "tax_account_entry_id": "tax account",
    "class_entry_id": "class",
    "location_entry_id": "location",
    "payment_term_entry_id": "payment terms",
}
_CENT = Decimal("0.01")


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def find_rule(conn: sa.Connection, supplier_key: str) -> Any:
    if not supplier_key:
        return None
    return conn.execute(sa.select(rules_t).where(rules_t.c.supplier_key == supplier_key)).first()


def compute(conn: sa.Connection, item: Any, document: Any, fallback_supplier: str | None) -> dict[str, Any]:
    """The item's values: document, then rule defaults, edits kept.

    ``fallback_supplier`` (the connector's label) is used only when the
    document names no supplier: single-supplier portals (a telecom bill)
    often do not print one in their listing.
    """
    edited = set(item.edited or []) if item is not None else set()

    def kept(field: str, default: Any) -> Any:
        return getattr(item, field) if item is not None and field in edited else default

    if document is not None:
        base = {"supplier": document.supplier or fallback_supplier, "invoice_number": document.number,
                "invoice_date": document.date, "total": document.total, "tax": document.tax,
                "currency": document.currency}
    else:
        base = {f: getattr(item, f) for f in FROM_DOCUMENT}
    values: dict[str, Any] = {f: kept(f, v) for f, v in base.items()}
    key = normalise(values["supplier"])
    rule = find_rule(conn, key)
    values["supplier_key"] = key
    values["rule_id"] = rule.id if rule is not None else None
    for column in ENTRY_COLUMNS:
        values[column] = kept(column, getattr(rule, column) if rule is not None else None)
    values["description"] = kept("description", rule.description if rule is not None else None)
    values["tax_rate"] = kept("tax_rate", rule.tax_rate if rule is not None else None)
    values["lines"] = kept("lines", None)
    total, rate = _dec(values["total"]), _dec(values["tax_rate"])
    if "tax" not in edited and values["tax"] is None and rate is not None and total is not None:
        # The invoice did not state its tax: derive it from the rule's rate (tax-inclusive total).
        values["tax"] = (total * rate / (1 + rate)).quantize(_CENT, ROUND_HALF_UP)
    if "due_date" in edited:
        values["due_date"] = item.due_date
    else:
        days = rule.due_days if rule is not None and rule.due_days is not None else None
        if days is None and values["payment_term_entry_id"] is not None:
            term = entry(conn, values["payment_term_entry_id"])
            days = term.days_due if term is not None else None
        invoice_date = values["invoice_date"]
        values["due_date"] = invoice_date + dt.timedelta(days=days) if invoice_date and days is not None else None
    return values


def missing(conn: sa.Connection, values: Any, current_connection_id: int | None) -> list[str]:
    """What an item lacks before it can be published to the current connection."""
    get = values.get if isinstance(values, dict) else (lambda k: getattr(values, k))
    out: list[str] = []
    if current_connection_id is None:
        out.append("an accounting connection (an admin runs `dextcore accounting connect`)")
    if not (get("supplier") or get("vendor_entry_id")):
        out.append("supplier")
    for field, label in (("invoice_number", "invoice number"), ("invoice_date", "invoice date"),
                         ("due_date", "due date (or payment terms)"), ("total", "total")):
        if get(field) in (None, ""):
            out.append(label)
    total, tax = _dec(get("total")), _dec(get("tax")) or Decimal(0)
    if total is not None and total <= 0:
        out.append("a positive total (credit notes are not published as bills)")
    if get("lines") is None and get("category_entry_id") is None:
        out.append("category")
    if get("lines") is None and tax > 0 and get("tax_account_entry_id") is None:
        out.append("tax account (the invoice has tax)")
    if get("invoice_date") and get("due_date") and get("due_date") < get("invoice_date"):
        out.append("a due date on or after the invoice date")
    if total is not None and tax > total:
        out.append("a tax amount not larger than the total")
    for column, label in ENTRY_LABELS.items():
        ref = entry(conn, get(column))
        if ref is None:
            continue
        if current_connection_id is not None and ref.connection_id != current_connection_id:
            out.append(f"{label}: {ref.name!r} is from a previous accounting connection "
                       "(run `dextcore accounting merge`)")
        elif not ref.active:
            out.append(f"{label}: {ref.name!r} is archived in the accounting software")
        elif ref.kind is not ListKind(ENTRY_COLUMNS[column]):
            out.append(f"{label}: {ref.name!r} is not a {ListKind(ENTRY_COLUMNS[column]).label.lower()} entry")
    return out


def to_item(conn: sa.Connection, row: Any, current_connection_id: int | None) -> Item:
    remote = None
    if current_connection_id is not None:
        remote = conn.execute(sa.select(pubs_t.c.remote_bill_id).where(
            pubs_t.c.item_id == row.id, pubs_t.c.connection_id == current_connection_id)).scalar()
    if remote is None:
        remote = conn.execute(sa.select(pubs_t.c.remote_bill_id).where(
            pubs_t.c.item_id == row.id, pubs_t.c.status == "published")).scalar()
    gaps = () if row.status == "published" else tuple(missing(conn, row, current_connection_id))
    return Item(
        id=row.id, document_id=row.document_id, supplier=row.supplier, invoice_number=row.invoice_number,
        invoice_date=row.invoice_date, due_date=row.due_date, currency=row.currency, total=_dec(row.total),
        tax=_dec(row.tax), tax_rate=_dec(row.tax_rate), vendor_entry_id=row.vendor_entry_id,
        category_entry_id=row.category_entry_id, tax_account_entry_id=row.tax_account_entry_id,
        class_entry_id=row.class_entry_id, location_entry_id=row.location_entry_id,
        payment_term_entry_id=row.payment_term_entry_id, description=row.description, lines=row.lines,
        edited=tuple(row.edited or ()), rule_id=row.rule_id, status=row.status, status_reason=row.status_reason,
        created_at=row.created_at, updated_at=row.updated_at, missing=gaps, remote_bill_id=remote)


def document_row(conn: sa.Connection, document_id: int | None) -> Any:
    if document_id is None:
        return None
    return conn.execute(sa.select(schema.documents).where(schema.documents.c.id == document_id)).first()


def recompute(conn: sa.Connection, item_id: int, fallback_supplier: str | None, now: dt.datetime) -> None:
    """Recompute one unpublished item in place (published items are history)."""
    row = conn.execute(sa.select(items_t).where(items_t.c.id == item_id)).first()
    if row is None or row.status == "published":
        return
    values = compute(conn, row, document_row(conn, row.document_id), fallback_supplier)
    conn.execute(items_t.update().where(items_t.c.id == item_id).values(updated_at=now, **values))
