"""The accounting step of ``dextcore demo`` publishes what the inbox collected."""

from __future__ import annotations

from dextcore.api import Dextcore
from dextcore.demo_accounting import publish_demo
from dextcore.sandbox import SandboxServer
from dextcore_billcom.sandbox import BillcomPortal

from billcom_helpers import ADMIN, account, add_document


def test_publish_demo_connects_sets_rules_and_publishes(app: Dextcore, sandbox: SandboxServer,
                                                        portal: BillcomPortal) -> None:
    add_document(app, supplier="Spotify AB")
    add_document(app, supplier="BT Business", tax="10.00", total="60.00")
    add_document(app, supplier=None, tax=None)  # the portal's name, no tax stated
    said: list[str] = []
    rows = publish_demo(app, sandbox, said.append, admin=ADMIN)
    assert [r["published"] for r in rows] == [True, True, True], rows
    bills = portal.bills(account(portal, "ok").fields["organization_id"])
    assert sorted(b["vendorName"] for b in bills) == ["Acme Telecom", "BT Business", "Spotify AB"]
    assert any("published 3 bill(s)" in line for line in said)



