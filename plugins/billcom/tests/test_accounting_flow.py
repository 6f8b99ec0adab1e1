"""Issue 6 acceptance: dextcore's accounting service driving the fake
Bill.com over real HTTP, with a real SQLite store, vault and inbox."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dextcore.accounting import ConnectionExpired, ListKind, NotAdmin
from dextcore.accounting.merge import foreign_references
from dextcore.accounting.schema import accounting_connections, accounting_publications
from dextcore.accounting.service import AccountingService
from dextcore.api import Dextcore
from dextcore.records import Challenge
from dextcore.sandbox import Clock
from dextcore.store import schema
from dextcore_billcom.sandbox import BillcomPortal

from billcom_helpers import ADMIN, FAST, MEMBER, AlertInbox, account, add_document, connect, credentials

NORTHWIND = "ok"


def org_id(portal: BillcomPortal, scenario: str = NORTHWIND) -> str:
    return account(portal, scenario).fields["organization_id"]


def remote(portal: BillcomPortal, kind: str, name: str, scenario: str = NORTHWIND) -> dict[str, Any]:
    return next(r for r in portal.org(org_id(portal, scenario)).lists[kind] if r["name"] == name)


def spotify_rule(service: AccountingService, **extra: Any) -> Any:
    return service.set_rule("Spotify AB", category="6200", tax_account="2200", due_days=30,
                            accounting_class="Operations", location="London", **extra)


# -- connect ----------------------------------------------------------------------------------


def test_connect_without_mfa_syncs_every_list(service: AccountingService, portal: BillcomPortal, base_url: str,
                                              app: Dextcore, tmp_path: Path) -> None:
    made = connect(service, portal, base_url)
    assert made.status == "active" and made.current and made.organisation_id == org_id(portal)
    vendors = service.lists(ListKind.VENDORS)
    assert len(vendors) == 230, "the vendor list spans 3 pages of 100"
    assert sum(not v.active for v in vendors) == 6
    assert {e.kind for e in service.lists()} == set(ListKind)
    terms = {e.name: e.days_due for e in service.lists(ListKind.PAYMENT_TERMS)}
    assert terms == {"Due on receipt": 0, "Net 15": 15, "Net 30": 30, "Net 60": 60}
    assert service.status()["lists"]["accounts"] == {"active": 17, "inactive": 1}
    # credentials only in the vault, encrypted
    assert app.vault.names("accounting", made.id) >= {"password", "dev_key", "api_session"}
    password = account(portal, "ok").password.encode()
    with app.store.connect() as conn:
        ciphertexts = [r[0] for r in conn.execute(sa.select(schema.secrets.c.ciphertext))]
        rows = [tuple(r) for r in conn.execute(sa.select(accounting_connections))]
    assert ciphertexts and all(password not in bytes(c) for c in ciphertexts)
    assert password.decode() not in repr(rows)
    if app.store.dialect == "sqlite":  # the database file and its write-ahead log
        for path in (tmp_path / "home").glob("dextcore.db*"):
            assert password not in path.read_bytes()
    assert "dev_key" not in made.fields and made.fields == {"organization_id": org_id(portal)}


def test_connect_with_mfa_asks_once_then_remembers_the_device(service: AccountingService, portal: BillcomPortal,
                                                              base_url: str, app: Dextcore) -> None:
    phone = account(portal, "mfa").phone
    assert phone
    asked: list[Challenge] = []
    before = portal.mailbox.count(phone)

    def code_from_phone(challenge: Challenge) -> str:
        asked.append(challenge)
        if len(asked) == 1:
            return "000000" if portal.mailbox.wait_for_code(phone, after=before) != "000000" else "111111"
        return portal.mailbox.wait_for_code(phone, after=before)

    made = connect(service, portal, base_url, "mfa", code_provider=code_from_phone)
    assert len(asked) == 2, "a refused code is asked again"
    assert "verification code" in asked[0].prompt and "password" not in repr(asked[0])
    assert app.vault.get("accounting", made.id, "remember_me_id")
    assert len(service.lists(ListKind.VENDORS)) == 30
    # the next login uses the remembered device: trusted, and no new code sent
    sent = portal.mailbox.count(phone)
    app.vault.delete("accounting", made.id, "api_session")
    service.refresh(ADMIN)
    assert portal.mailbox.count(phone) == sent
    assert portal.events_of("login")[-1].detail["trusted"] is True


def test_connect_with_mfa_needs_someone_to_type_the_code(service: AccountingService, portal: BillcomPortal,
                                                        base_url: str) -> None:
    with pytest.raises(Exception, match="verification code"):
        connect(service, portal, base_url, "mfa")
    assert service.connections() == []


def test_refused_credentials_leave_nothing_behind(service: AccountingService, portal: BillcomPortal,
                                                  base_url: str, app: Dextcore) -> None:
    creds = credentials(portal)
    with pytest.raises(Exception, match="BDC_1101") as caught:
        service.connect(ADMIN, "billcom", base_url=base_url, username=creds["username"], password="wrong-one",
                        fields=creds["fields"])
    assert "wrong-one" not in str(caught.value)
    assert service.connections() == []
    with app.store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.secrets)).scalar() == 0


def test_non_admins_are_refused_every_management_action(service: AccountingService, portal: BillcomPortal,
                                                         base_url: str) -> None:
    with pytest.raises(NotAdmin, match="only an admin can connect"):
        connect(service, portal, base_url, actor=MEMBER)
    with pytest.raises(PermissionError):
        connect(service, portal, base_url, actor="stranger@example.com")
    assert service.connections() == []
    connect(service, portal, base_url)
    for action in (lambda: service.refresh(MEMBER),
                   lambda: service.reconnect(MEMBER),
                   lambda: service.change(MEMBER, "billcom", base_url=base_url, **credentials(portal, "new-books")),
                   lambda: service.merge(MEMBER)):
        with pytest.raises(NotAdmin):
            action()
    assert len(service.connections()) == 1


# -- lists ------------------------------------------------------------------------------------


def test_refresh_keeps_archived_items_inactive_and_rules_pointing_at_them(
        service: AccountingService, connected: Any, portal: BillcomPortal, app: Dextcore) -> None:
    software = remote(portal, "chart_of_accounts", "Software Subscriptions")
    vendor = remote(portal, "vendors", "Office Depot")
    rule = spotify_rule(service)
    add_document(app, supplier="Spotify AB")
    item = service.collect_items()[0]
    assert item.ready
    portal.archive(org_id(portal), "chart_of_accounts", software["id"])
    portal.archive(org_id(portal), "vendors", vendor["id"])
    summary = service.refresh(ADMIN)
    assert summary.counts["accounts"]["deactivated"] == 1 and summary.counts["vendors"]["deactivated"] == 1
    entries = {e.remote_id: e for e in service.lists()}
    assert not entries[software["id"]].active and not entries[vendor["id"]].active
    assert len(service.lists(ListKind.VENDORS)) == 230, "nothing is deleted"
    assert service.rule("Spotify AB").category_entry_id == rule.category_entry_id
    again = service.item(item.id)
    assert not again.ready and any("archived" in m for m in again.missing)
    outcome = service.publish([item.id])[0]
    assert not outcome.published and "archived" in outcome.error
    assert portal.bills(org_id(portal)) == []


def test_session_expiry_mid_sync_is_invisible(service: AccountingService, connected: Any, portal: BillcomPortal,
                                              clock: Clock) -> None:
    clock.freeze()
    served: list[str] = []

    def expire_after_first_vendor_page(method: str, path: str) -> None:
        served.append(path)
        if path.endswith("/v3/vendors") and served.count(path) == 1:
            clock.advance(dt.timedelta(minutes=36))

    logins = len(portal.events_of("login"))
    portal.observers.append(expire_after_first_vendor_page)
    summary = service.refresh(ADMIN)
    assert summary.counts["vendors"]["total"] == 230 and summary.counts["vendors"]["added"] == 0
    assert len(portal.events_of("session_expired")) == 1
    assert len(portal.events_of("login")) == logins + 1, "one transparent re-login, shared by concurrent calls"


def test_sync_and_publish_never_exceed_three_requests_in_flight(service: AccountingService, connected: Any,
                                                                portal: BillcomPortal, app: Dextcore) -> None:
    portal.work_delay = 0.05  # each call takes a while: the six lists overlap
    portal.reset_counters()
    service.refresh(ADMIN)
    assert portal.max_in_flight(org_id(portal)) == 3
    spotify_rule(service)
    for _ in range(5):
        add_document(app, supplier="Spotify AB")
    service.collect_items()
    portal.reset_counters()
    outcomes = service.publish(all_ready=True)
    assert [o.published for o in outcomes] == [True] * 5
    assert portal.max_in_flight(org_id(portal)) <= 3
    assert portal.org(org_id(portal)).rejected_concurrent == 0


# -- publishing -------------------------------------------------------------------------------


def test_publish_creates_one_bill_with_the_right_fields_and_document(
        service: AccountingService, connected: Any, portal: BillcomPortal, app: Dextcore) -> None:
    spotify_rule(service)
    doc = add_document(app, supplier="Spotify AB", number="SP-2026-10", total="119.99", tax="20.00",
                       date=dt.date(2026, 10, 3))
    [item] = service.collect_items()
    assert item.ready and item.due_date == dt.date(2026, 11, 2)
    [outcome] = service.publish([item.id])
    assert outcome.published and outcome.created, outcome.error
    [bill] = portal.bills(org_id(portal))
    assert bill["id"] == outcome.remote_bill_id == service.item(item.id).remote_bill_id
    assert bill["vendorId"] == remote(portal, "vendors", "Spotify AB")["id"]
    assert bill["invoice"] == {"invoiceNumber": "SP-2026-10", "invoiceDate": "2026-10-03"}
    assert bill["dueDate"] == "2026-11-02"
    lines = [(Decimal(str(line["amount"])), line["classifications"]) for line in bill["billLineItems"]]
    cls = remote(portal, "accounting_classes", "Operations")["id"]
    loc = remote(portal, "locations", "London")["id"]
    assert lines == [
        (Decimal("99.99"), {"chartOfAccountId": remote(portal, "chart_of_accounts", "Software Subscriptions")["id"],
                            "accountingClassId": cls, "locationId": loc}),
        (Decimal("20.00"), {"chartOfAccountId": remote(portal, "chart_of_accounts", "VAT Control")["id"],
                            "accountingClassId": cls, "locationId": loc}),
    ]
    [attached] = portal.bill_documents(org_id(portal), bill["id"])
    assert attached["sha256"] == doc.sha256 == hashlib.sha256(doc.path.read_bytes()).hexdigest()
    # publishing again changes nothing
    assert service.publish([item.id])[0].published
    assert len(portal.bills(org_id(portal))) == 1
    assert service.item(item.id).state == "published"


def test_a_missing_supplier_is_created_first(service: AccountingService, connected: Any, portal: BillcomPortal,
                                             app: Dextcore) -> None:
    service.set_rule("Brand New Supplies Ltd", category="Office Supplies", due_days=0, tax_account="2200")
    add_document(app, supplier="Brand New Supplies Ltd")
    [item] = service.collect_items()
    [outcome] = service.publish([item.id])
    assert outcome.published, outcome.error
    [created] = portal.events_of("vendor_created")
    [bill] = portal.bills(org_id(portal))
    assert bill["vendorId"] == created.detail["id"] and bill["vendorName"] == "Brand New Supplies Ltd"
    local = [v for v in service.lists(ListKind.VENDORS) if v.remote_id == created.detail["id"]]
    assert len(local) == 1 and service.item(item.id).vendor_entry_id == local[0].id


def test_retry_after_a_timeout_during_publish_leaves_one_bill(app: Dextcore, clock: Clock, portal: BillcomPortal,
                                                               base_url: str) -> None:
    service = AccountingService(app, clock=clock.now, session_options={**FAST, "timeout": 0.5})
    connect(service, portal, base_url)
    spotify_rule(service)
    doc = add_document(app, supplier="Spotify AB")
    [item] = service.collect_items()
    portal.faults.hang_seconds = 2.0
    portal.fail_next_bill = "timeout"
    [first] = service.publish([item.id])
    assert not first.published and "timed out" in first.error
    assert len(portal.bills(org_id(portal))) == 1, "the bill was created; only the answer was lost"
    assert service.item(item.id).state == "failed"
    [second] = service.publish(all_ready=True)
    assert second.published and not second.created
    [bill] = portal.bills(org_id(portal))
    assert second.remote_bill_id == bill["id"]
    [attached] = portal.bill_documents(org_id(portal), bill["id"])
    assert attached["sha256"] == doc.sha256
    with app.store.connect() as conn:
        pub = conn.execute(sa.select(accounting_publications)).one()
    assert pub.attempts == 2 and pub.status == "published" and pub.remote_bill_id == bill["id"]


def test_a_recorded_bill_is_completed_not_created_again(service: AccountingService, connected: Any,
                                                        portal: BillcomPortal, app: Dextcore) -> None:
    """A crash between creating the bill and attaching its PDF: the recorded id is used as is."""
    spotify_rule(service)
    add_document(app, supplier="Spotify AB")
    [item] = service.collect_items()
    portal.fail_next_bill = "reset"
    assert not service.publish([item.id])[0].published
    [bill] = portal.bills(org_id(portal))
    with app.store.begin() as conn:  # what record_bill stores the moment the bill exists
        conn.execute(accounting_publications.update().values(remote_bill_id=bill["id"], status="bill_created"))
    calls: list[tuple[str, str]] = []
    portal.observers.append(lambda method, path: calls.append((method, path)))
    [outcome] = service.publish([item.id])
    assert outcome.published and not outcome.created and outcome.remote_bill_id == bill["id"]
    assert not any(path.endswith("/v3/bills") for _, path in calls), "no look-up, no creation: the id was known"
    assert len(portal.bills(org_id(portal))) == 1
    assert len(portal.bill_documents(org_id(portal), bill["id"])) == 1


def test_an_item_missing_details_is_refused_with_the_list(service: AccountingService, connected: Any,
                                                          portal: BillcomPortal, app: Dextcore) -> None:
    add_document(app, supplier="Nobody We Know", number=None)
    [item] = service.collect_items()
    assert item.state == "needs details"
    [outcome] = service.publish([item.id])
    assert not outcome.published
    assert "missing: due date (or payment terms), category, tax account (the invoice has tax)" in outcome.error
    assert portal.bills(org_id(portal)) == []
    assert service.publish(all_ready=True) == []


# -- rules and items ------------------------------------------------------------------------------


def test_rules_apply_to_every_item_of_the_supplier_and_reapply_on_change(
        service: AccountingService, connected: Any, app: Dextcore) -> None:
    spotify_rule(service)
    add_document(app, supplier="Spotify AB")
    add_document(app, supplier="SPOTIFY A.B.")  # the same supplier, spelt by another document
    add_document(app, supplier="Royal Mail Group", tax=None, total="7.40")
    first, second, mail = service.collect_items()
    assert first.rule_id == second.rule_id == service.rule("spotify ab").id and mail.rule_id is None
    assert mail.missing and first.ready and second.ready
    service.edit_item(second.id, description="Team plan", category="6850")
    service.set_rule("Spotify AB", category="6100", payment_terms="Net 15", due_days=None)
    first, second = service.item(first.id), service.item(second.id)
    entries = {e.id: e for e in service.lists()}
    assert entries[first.category_entry_id].code == "6100"
    assert first.due_date == first.invoice_date + dt.timedelta(days=15)
    assert entries[second.category_entry_id].code == "6850", "a manual edit wins over the rule"
    assert second.description == "Team plan" and set(second.edited) == {"category_entry_id", "description"}
    service.edit_item(second.id, reset=["category"])
    assert entries[service.item(second.id).category_entry_id].code == "6100"
    service.set_rule("Royal Mail Group", category="Postage & Delivery", tax_rate="0", due_days=14)
    assert service.item(mail.id).ready
    service.delete_rule("Royal Mail Group")
    assert not service.item(mail.id).ready


def test_items_are_made_only_for_cost_invoices_and_receipts(service: AccountingService, app: Dextcore) -> None:
    from dextcore.records import DocumentKind

    add_document(app, supplier="Spotify AB", kind=DocumentKind.CREDIT_NOTE)
    receipt = add_document(app, supplier=None, kind=DocumentKind.RECEIPT)
    [item] = service.collect_items()
    assert item.document_id == receipt.id and item.supplier == "Acme Telecom", "no supplier named: the portal's"
    assert service.collect_items() == []


def test_auto_publish_after_each_fetch(service: AccountingService, connected: Any, portal: BillcomPortal,
                                       app: Dextcore) -> None:
    spotify_rule(service, auto_publish=True)
    add_document(app, supplier="Spotify AB")
    add_document(app, supplier="Office Depot")
    outcomes = service.after_fetch()
    assert [o.published for o in outcomes] == [True]
    assert len(portal.bills(org_id(portal))) == 1
    assert sorted(i.state for i in service.items()) == ["needs details", "published"]
    assert service.after_fetch() == []


# -- expiry and reconnect -------------------------------------------------------------------------


def _queue_items(service: AccountingService, app: Dextcore, n: int = 2) -> list[Any]:
    spotify_rule(service)
    for _ in range(n):
        add_document(app, supplier="Spotify AB")
    return service.collect_items()


def test_expiry_by_lifetime_queues_items_then_reconnect_publishes_them(
        service: AccountingService, portal: BillcomPortal, base_url: str, app: Dextcore, clock: Clock,
        alerts: AlertInbox) -> None:
    clock.freeze()
    made = connect(service, portal, base_url, lifetime_days=30)
    items = _queue_items(service, app)
    clock.advance(dt.timedelta(days=30))
    outcomes = service.publish([i.id for i in items])
    assert all(not o.published and "connection expired — reconnect" in o.error for o in outcomes)
    assert portal.bills(org_id(portal)) == []
    assert service.connection().status == "expired"
    assert [i.state for i in service.items()] == ["queued", "queued"]
    assert [(i.total, i.category_entry_id) for i in service.items()] == [(i.total, i.category_entry_id) for i in items]
    [(recipient, subject, body)] = alerts.sent
    assert recipient == ADMIN and "expired" in subject and "reconnect" in body
    rules_before, lists_before = service.rules(), service.lists()
    again, published = service.reconnect(ADMIN)
    assert again.id == made.id and again.status == "active" and again.authorised_at == clock.now()
    assert [o.published for o in published] == [True, True]
    assert len(portal.bills(org_id(portal))) == 2
    assert service.rules() == rules_before and [e.id for e in service.lists()] == [e.id for e in lists_before]


def test_refused_credentials_expire_the_connection_and_a_new_password_reconnects(
        service: AccountingService, connected: Any, portal: BillcomPortal, base_url: str, app: Dextcore,
        alerts: AlertInbox) -> None:
    items = _queue_items(service, app)
    portal.expire_connection(org_id(portal))
    outcomes = service.publish([i.id for i in items])
    assert all("connection expired — reconnect" in o.error for o in outcomes)
    assert service.connection().status == "expired" and "refused the stored credentials" in \
        service.connection().status_reason
    assert len(alerts.sent) == 1, "one alert however many items failed"
    with pytest.raises(ConnectionExpired, match="connection expired — reconnect"):
        service.refresh(ADMIN)
    with pytest.raises(Exception, match="could not reconnect"):
        service.reconnect(ADMIN)  # the same password is still refused
    portal.set_password(org_id(portal), account(portal, "ok").username, "Rotated-Password-2")
    _, published = service.reconnect(ADMIN, password="Rotated-Password-2")
    assert [o.published for o in published] == [True, True]
    assert len(portal.bills(org_id(portal))) == 2 and service.connection().status == "active"


# -- change connection + merge ----------------------------------------------------------------------


def test_change_connection_and_merge_retargets_every_rule(service: AccountingService, connected: Any,
                                                          portal: BillcomPortal, base_url: str,
                                                          app: Dextcore) -> None:
    old = connected
    spotify_rule(service, payment_terms="Net 30", vendor="Spotify AB")
    service.set_rule("Office Depot", category="6010", tax_account="2200", due_days=10, location="Edinburgh")
    service.set_rule("Royal Mail Group", category="Postage & Delivery", due_days=0, accounting_class="Legacy")
    add_document(app, supplier="Spotify AB")
    add_document(app, supplier="Office Depot")
    spotify_item, depot_item = service.collect_items()
    service.edit_item(depot_item.id, category="6850")
    new = service.change(ADMIN, "billcom", base_url=base_url, variant="sandbox", **credentials(portal, "new-books"))
    assert new.current and service.connection(old.id).status == "replaced"
    assert all(any("previous accounting connection" in m for m in i.missing) for i in service.items())
    proposals = {(p.old.kind, p.old.name): p for p in service.merge_proposals()}
    by = {k: (p.match.name if p.match else None, p.reason) for k, p in proposals.items()}
    assert by[(ListKind.ACCOUNTS, "Software Subscriptions")] == ("Software subscriptions", "name")
    assert by[(ListKind.ACCOUNTS, "VAT Control")] == ("VAT Control", "name")  # renumbered 2200 → 2250
    assert by[(ListKind.ACCOUNTS, "Office Supplies")] == ("Office Supplies", "code")
    assert by[(ListKind.ACCOUNTS, "Computer Equipment")] == ("Computer Equipment", "code")
    assert by[(ListKind.CLASSES, "Operations")] == ("OPERATIONS", "code")  # shortName OPER
    assert by[(ListKind.VENDORS, "Spotify AB")] == ("Spotify A.B.", "name")
    assert by[(ListKind.PAYMENT_TERMS, "Net 30")] == ("Net 30", "name")
    assert proposals[(ListKind.ACCOUNTS, "Computer Equipment")].items == 1
    # override: Edinburgh → Manchester; skip the Legacy class
    manchester = next(e for e in service.lists(ListKind.LOCATIONS) if e.name == "Manchester")
    decisions = {proposals[(ListKind.LOCATIONS, "Edinburgh")].old.id: manchester.id,
                 proposals[(ListKind.CLASSES, "Legacy")].old.id: "skip"}
    report = service.merge(ADMIN, decisions)
    assert report.rules_changed == 3 and report.items_changed == 2
    with app.store.connect() as conn:
        assert foreign_references(conn, new.id) == {}
    entries = {e.id: e for e in service.lists()}
    assert all(entries[getattr(r, col)].connection_id == new.id for r in service.rules()
               for col in ("vendor_entry_id", "category_entry_id", "tax_account_entry_id", "class_entry_id",
                           "location_entry_id", "payment_term_entry_id") if getattr(r, col) is not None)
    assert service.rule("Office Depot").location_entry_id == manchester.id
    assert service.rule("Royal Mail Group").class_entry_id is None
    assert entries[service.item(depot_item.id).category_entry_id].name == "Computer Equipment"
    assert service.merge_proposals() == []
    [outcome] = service.publish([spotify_item.id])
    assert outcome.published, outcome.error
    [bill] = portal.bills(org_id(portal, "new-books"))
    assert bill["vendorName"] == "Spotify A.B."
    with app.store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(accounting_connections)).scalar() == 2
