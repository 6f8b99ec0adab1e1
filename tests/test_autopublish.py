"""A fetch hands its new documents to accounting: supplier rules with
auto-publish turn them into Bill.com bills without anyone pressing publish."""

from __future__ import annotations

import pytest

import dextcore_billcom
import dextcore_bt_business
from dextcore.statuses import Status
from dextcore_billcom.sandbox import BillcomPortal
from dextcore_bt_business.sandbox import BTPortal

ADMIN = "admin@example.com"


@pytest.fixture
def dextcore_plugins() -> list[object]:
    return [dextcore_bt_business, dextcore_billcom]


def test_new_documents_of_an_auto_publish_supplier_become_bills(sandbox, connect, fetch, dextcore_app):
    server = sandbox(BTPortal(seed=3), BillcomPortal())
    billcom = server.portal("billcom")
    account = next(a for a in billcom.demo_accounts() if a.scenario == "ok")
    dextcore_app.add_user(ADMIN, role="admin")
    accounting = dextcore_app.accounting
    accounting.connect(ADMIN, "billcom", username=account.username, password=account.password,
                       fields=dict(account.fields), variant=account.variant,
                       base_url=server.base_url("billcom", account.variant))
    accounting.set_rule("BT", category="6100", tax_account="2200", due_days=30, auto_publish=True)

    cid = connect(server, "bt", "ok")
    result = fetch(cid)
    assert result.status is Status.CONNECTED, result.message
    assert result.documents_new > 0

    bills = billcom.bills(account.fields["organization_id"])
    numbers = {d.number for d in dextcore_app.inbox.list(cid)}
    assert len(bills) == result.documents_new
    assert {b["invoice"]["invoiceNumber"] for b in bills} == numbers
    assert all(item.status == "published" for item in accounting.items())

    # A second fetch finds nothing new and publishes nothing twice.
    again = fetch(cid, force=True)
    assert again.documents_new == 0
    assert len(billcom.bills(account.fields["organization_id"])) == len(bills)
