"""The plugin as installed: entry point, connector record, hooks, sandbox discovery."""

from __future__ import annotations

from dextcore.plugins import PluginHost
from dextcore.records import ConnectorKind, FieldType
from dextcore.sandbox import discover_portals
from dextcore_billcom.sandbox import BillcomPortal


def test_the_entry_point_offers_the_billcom_accounting_connector() -> None:
    host = PluginHost()
    host.check_pending()  # every hook implemented exists in the hookspecs
    connector = host.connector("billcom")
    assert connector.kind is ConnectorKind.ACCOUNTING
    assert host.distribution_of("billcom") == "dextcore-billcom"
    assert connector.variant(None).base_url == "https://gateway.prod.bill.com/connect"
    dev_key = connector.field("dev_key")
    assert dev_key is not None and dev_key.secret and dev_key.type is FieldType.PASSWORD
    for hook in ("connect_accounting", "accounting_2fa", "sync_lists", "publish_bill"):
        assert host.implements("billcom", hook)
    assert not host.implements("billcom", "authenticate")


def test_the_sandbox_portal_is_discovered() -> None:
    found = discover_portals()
    assert BillcomPortal in found.portals
    assert not [f for f in found.failures if f.plugin == "billcom"]


def test_demo_accounts_never_show_passwords_in_their_repr() -> None:
    for account in BillcomPortal().demo_accounts():
        assert account.password and account.password not in repr(account)
        assert account.connector == "billcom" and account.fields["organization_id"].startswith("008")
