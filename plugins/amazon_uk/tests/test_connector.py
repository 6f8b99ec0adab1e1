"""The connector record as the core loads it (entry point, hooks, variants, fields)."""

from __future__ import annotations

from dextcore.plugins import PluginHost
from dextcore.records import FieldType

from dextcore_amazon_uk import hooks
from dextcore_amazon_uk.sandbox import AmazonPortal


def test_the_core_loads_the_connector_and_its_hooks():
    host = PluginHost()
    assert not [f for f in host.failures if f.name == "amazon_uk"]
    host.check_pending()
    connector = host.connector("amazon_uk")
    assert connector.implementation is hooks
    assert all(host.implements(connector, hook) for hook in ("authenticate", "handle_2fa", "list_documents",
                                                             "download"))
    assert connector.default_variant.name == "co.uk"
    assert [v.name for v in connector.variants] == ["co.uk", "de", "com", "co.uk-business", "de-business",
                                                   "com-business"]
    assert connector.allowed_domains == ("amazon.co.uk", "amazon.de", "amazon.com")
    assert connector.field("totp_secret").type is FieldType.TOTP_SECRET and connector.field("totp_secret").secret
    assert connector.field("password").secret and not connector.field("profile").secret


def test_every_variant_has_a_sandbox_site_with_the_same_assoc_handle():
    connector = PluginHost().connector("amazon_uk")
    portal = AmazonPortal()
    for variant in connector.variants:
        base = portal.variant_base_url("http://127.0.0.1:1", variant.name)
        assert base == "http://127.0.0.1:1/" + variant.base_url.removeprefix("https://")
        region = next(r for r in portal.regions if base.endswith(r.base_path))
        assert region.assoc_handle == variant.options["assoc_handle"]
        assert region.login_cookie == variant.options["login_cookie"]
        assert region.currency == variant.currency
    demo_variants = {d.variant for d in portal.demo_accounts()}
    assert demo_variants <= {v.name for v in connector.variants}
