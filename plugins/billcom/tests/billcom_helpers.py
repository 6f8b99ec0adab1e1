"""Helpers of the Bill.com tests (the fixtures in conftest.py use them)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from dextcore.accounting.service import AccountingService
from dextcore.api import Dextcore
from dextcore.hookspecs import hookimpl
from dextcore.records import Connector, ConnectorKind, DocumentKind, DocumentRef, Downloaded, Variant
from dextcore.sandbox import DemoAccount, InvoiceLine, invoice_pdf
from dextcore.store import schema, utcnow
from dextcore_billcom.sandbox import BillcomPortal
from dextcore_billcom.sandbox_data import DEV_KEY

ADMIN = "ann@example.com"
MEMBER = "bob@example.com"
FAST = {"timeout": 5.0, "backoff": 0.01, "poll_interval": 0.01, "upload_timeout": 5.0}


class AlertInbox:
    """An app object implementing the ``alert`` hook: records what would reach people."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    @hookimpl
    def alert(self, recipient: str, subject: str, body: str, connection: Any) -> bool:
        self.sent.append((recipient, subject, body))
        return True


class SupplierPortal:
    """A supplier connector documents come from (the real ones live in other plugins)."""

    @hookimpl
    def register_connectors(self) -> list[Connector]:
        return [Connector(name="acme_portal", label="Acme Telecom", kind=ConnectorKind.SUPPLIER,
                          implementation=self, variants=[Variant("uk", "Acme Telecom UK", "https://acme.example")])]


def account(portal: BillcomPortal, scenario: str) -> DemoAccount:
    return next(a for a in portal.demo_accounts() if a.scenario == scenario)


def credentials(portal: BillcomPortal, scenario: str = "ok") -> dict[str, Any]:
    acc = account(portal, scenario)
    return {"username": acc.username, "password": acc.password,
            "fields": {"organization_id": acc.fields["organization_id"], "dev_key": DEV_KEY}}


def connect(service: AccountingService, portal: BillcomPortal, base_url: str, scenario: str = "ok",
            actor: str = ADMIN, **kwargs: Any) -> Any:
    return service.connect(actor, "billcom", base_url=base_url, variant="sandbox",
                           **credentials(portal, scenario), **kwargs)


_numbers = itertools.count(1)


def add_document(app: Dextcore, *, supplier: str | None, number: str | None = None, total: str = "120.00",
                 tax: str | None = "20.00", date: dt.date = dt.date(2026, 10, 3), connector: str = "acme_portal",
                 kind: DocumentKind = DocumentKind.INVOICE) -> Any:
    """A document collected through the real inbox (a connection row is made for it)."""
    number = number or f"INV-{next(_numbers):05d}"
    now = utcnow()
    with app.store.begin() as conn:
        connection_id = conn.execute(schema.connections.insert().values(
            connector=connector, owner=ADMIN, created_by=ADMIN, notify=ADMIN, username="buyer@example.com",
            fields={}, status="connected", status_changed_at=now, created_at=now)).inserted_primary_key[0]
    gross = Decimal(total)
    vat = Decimal(tax) if tax is not None else Decimal("0")
    pdf = invoice_pdf(number=number, date=date, seller=supplier or "Spotify AB", buyer="Northwind Trading Ltd",
                      lines=[InvoiceLine("Subscription", 1, gross - vat, Decimal("0.20"))])
    ref = DocumentRef(stable_id=number, kind=kind, number=number, date=date, total=gross, currency="GBP",
                      tax=Decimal(tax) if tax is not None else None, supplier=supplier)
    accepted = app.inbox.accept(connection_id=connection_id, connector=connector, owner=ADMIN, direction="cost",
                                ref=ref, file=Downloaded(pdf, f"{number}.pdf", "application/pdf"))
    assert accepted.document is not None
    return accepted.document
