"""The accounting model in the core, without any accounting plugin: tables,
list upserts, supplier rules, items, roles and the list merge, on the
store fixture (SQLite, and PostgreSQL when DEXTCORE_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from dextcore.accounting import ListKind, NotAdmin, RemoteEntry
from dextcore.accounting.lists import upsert_lists
from dextcore.accounting.merge import foreign_references
from dextcore.accounting.names import normalise
from dextcore.accounting.schema import accounting_connections
from dextcore.accounting.service import AccountingService
from dextcore.plugins import PluginHost
from dextcore.store import Store, schema, utcnow
from dextcore.vault import Vault

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)


@attrs.define
class App:
    store: Store
    vault: Vault
    host: PluginHost
    alerter: Any = None
    inbox: Any = None


@pytest.fixture
def service(store: Store, vault: Vault) -> AccountingService:
    with store.begin() as conn:
        conn.execute(schema.users.insert(), [
            {"id": "admin@example.com", "role": "admin", "created_at": NOW},
            {"id": "member@example.com", "role": "member", "created_at": NOW},
        ])
    return AccountingService(App(store, vault, PluginHost(load_entry_points=False)), clock=lambda: NOW)


def add_connection(store: Store, *, current: bool, status: str = "active") -> int:
    with store.begin() as conn:
        return conn.execute(accounting_connections.insert().values(
            connector="ledger", username="books@example.com", organisation_id="org", fields={},
            created_by="admin@example.com", created_at=NOW, authorised_at=NOW, status=status,
            status_changed_at=NOW, current=current)).inserted_primary_key[0]


def entries(*specs: tuple[ListKind, str, str, str | None]) -> dict[ListKind, list[RemoteEntry]]:
    out: dict[ListKind, list[RemoteEntry]] = {}
    for kind, rid, name, code in specs:
        out.setdefault(kind, []).append(RemoteEntry(kind, rid, name, code=code))
    return out


def add_document(store: Store, supplier: str | None, *, number: str = "N-1", total: str = "120.00",
                 tax: str | None = "20.00") -> int:
    with store.begin() as conn:
        cid = conn.execute(schema.connections.insert().values(
            connector="acme", owner="o@example.com", created_by="o@example.com", notify="o@example.com",
            fields={}, status="connected", status_changed_at=NOW, created_at=NOW)).inserted_primary_key[0]
        return conn.execute(schema.documents.insert().values(
            connection_id=cid, connector="acme", owner="o@example.com", stable_id=number, kind="invoice",
            supplier=supplier, number=number, date=dt.date(2026, 10, 1), total=Decimal(total),
            currency="GBP", tax=Decimal(tax) if tax else None, sha256=number.ljust(64, "0"), size=10,
            path=f"x/{number}.pdf", fetched_at=utcnow())).inserted_primary_key[0]


def test_migration_creates_the_accounting_tables(store: Store) -> None:
    names = set(sa.inspect(store.engine).get_table_names())
    assert {"accounting_connections", "accounting_list_entries", "supplier_rules", "accounting_items",
            "accounting_publications"} <= names


@pytest.mark.parametrize(("a", "b"), [
    ("Spotify AB", "SPOTIFY A.B."), ("Telephone & Internet", "telephone and internet"),
    ("Amazon EU S.à r.l.", "Amazon EU"), ("BT Business Ltd", "bt business"),
])
def test_normalised_names_match(a: str, b: str) -> None:
    assert normalise(a) == normalise(b)


def test_normalise_keeps_what_tells_suppliers_apart() -> None:
    assert normalise("BT Business") != normalise("BT Consumer")
    assert normalise("Ltd") == "ltd", "a name made only of a legal form keeps it"


def test_upsert_marks_missing_and_archived_entries_inactive_and_never_deletes(store: Store) -> None:
    cid = add_connection(store, current=True)
    with store.begin() as conn:
        first = upsert_lists(conn, cid, entries((ListKind.ACCOUNTS, "a1", "Rent", "6500"),
                                                (ListKind.ACCOUNTS, "a2", "Travel", "6300")), NOW)
        second = upsert_lists(conn, cid, {ListKind.ACCOUNTS: [
            RemoteEntry(ListKind.ACCOUNTS, "a1", "Office rent", code="6500", active=False)]}, NOW)
        rows = {r.remote_id: r for r in conn.execute(sa.select(sa.text("*")).select_from(
            sa.table("accounting_list_entries")))}
    assert first["accounts"] == {"total": 2, "active": 2, "added": 2, "deactivated": 0}
    assert second["accounts"] == {"total": 2, "active": 0, "added": 0, "deactivated": 2}
    assert rows["a1"].name == "Office rent" and not rows["a1"].active and not rows["a2"].active


def test_rules_fill_items_and_edits_survive_rule_changes(service: AccountingService, store: Store) -> None:
    cid = add_connection(store, current=True)
    with store.begin() as conn:
        upsert_lists(conn, cid, entries((ListKind.ACCOUNTS, "a1", "Software", "6200"),
                                        (ListKind.ACCOUNTS, "a2", "Phone", "6100"),
                                        (ListKind.ACCOUNTS, "vat", "VAT", "2200"),
                                        (ListKind.PAYMENT_TERMS, "t30", "Net 30", None)), NOW)
    add_document(store, "Spotify AB", number="S-1")
    add_document(store, "Spotify AB", number="S-2", tax=None, total="60.00")
    service.set_rule("spotify", category="6200", tax_account="VAT", tax_rate="0.2", due_days=14)
    one, two = service.collect_items()
    assert one.ready and one.tax == Decimal("20.00") and one.due_date == dt.date(2026, 10, 15)
    assert two.tax == Decimal("10.00"), "no tax on the document: derived from the rule's rate"
    service.edit_item(two.id, due_date="2026-12-24")
    service.set_rule("Spotify", category="6100", due_days=None, payment_terms="Net 30")
    one, two = service.item(one.id), service.item(two.id)
    assert one.due_date is None and not one.ready, "terms without daysDue give no due date"
    assert two.due_date == dt.date(2026, 12, 24) and two.edited == ("due_date",)


def test_only_admins_merge(service: AccountingService, store: Store) -> None:
    add_connection(store, current=True)
    with pytest.raises(NotAdmin):
        service.merge("member@example.com")
    with pytest.raises(PermissionError):
        service.merge("nobody@example.com")


def test_merge_by_code_then_name_with_override_and_skip(service: AccountingService, store: Store) -> None:
    old = add_connection(store, current=True)
    with store.begin() as conn:
        upsert_lists(conn, old, entries((ListKind.ACCOUNTS, "o1", "Software", "6200"),
                                        (ListKind.ACCOUNTS, "o2", "Phone & Internet", "6100"),
                                        (ListKind.CLASSES, "c1", "Legacy", None),
                                        (ListKind.LOCATIONS, "l1", "Leeds", None)), NOW)
    service.set_rule("Spotify", category="6200", accounting_class="Legacy")
    service.set_rule("BT", category="6100", location="Leeds")
    with store.begin() as conn:
        conn.execute(accounting_connections.update().values(current=False, status="replaced"))
    new = add_connection(store, current=True)
    with store.begin() as conn:
        upsert_lists(conn, new, entries((ListKind.ACCOUNTS, "n1", "Subscriptions", "6200"),
                                        (ListKind.ACCOUNTS, "n2", "Phone and internet", "7100"),
                                        (ListKind.LOCATIONS, "m1", "Manchester", None),
                                        (ListKind.LOCATIONS, "m2", "York", None)), NOW)
    proposals = {p.old.remote_id: p for p in service.merge_proposals()}
    assert {k: (p.match.remote_id if p.match else None, p.reason) for k, p in proposals.items()} == {
        "o1": ("n1", "code"), "o2": ("n2", "name"), "c1": (None, "none"), "l1": (None, "none")}
    york = next(e for e in service.lists(ListKind.LOCATIONS) if e.remote_id == "m2")
    report = service.merge("admin@example.com", {proposals["l1"].old.id: york.id})
    assert report.rules_changed == 2 and report.cleared == (proposals["c1"].old.id,)
    with store.connect() as conn:
        assert foreign_references(conn, new) == {}
    assert service.rule("BT").location_entry_id == york.id
    assert service.rule("Spotify").class_entry_id is None
