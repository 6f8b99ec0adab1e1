"""The plugin as dextcore loads it: connector record, hooks, sandbox portal."""

from __future__ import annotations

import re

import dextcore_spotify
from dextcore.plugins import PluginHost
from dextcore.records import ConnectorKind, FieldType, TwoFactorMedium
from dextcore_spotify import pages
from dextcore_spotify.sandbox import SpotifyPortal


def test_plugin_registers_the_connector_and_its_hooks():
    host = PluginHost(load_entry_points=False, plugins=[dextcore_spotify])
    host.check_pending()
    spotify = host.connector("spotify")
    assert spotify.kind is ConnectorKind.SUPPLIER and spotify.uses_browser
    assert [v.name for v in spotify.variants] == ["uk", "de", "us", "fr"] and spotify.default_variant.name == "uk"
    assert spotify.variant("de").base_url == "https://www.spotify.com/de" and spotify.variant("de").currency == "EUR"
    assert spotify.field("password").type is FieldType.PASSWORD and spotify.field("password").secret
    assert spotify.field("username") is not None
    assert spotify.allowed_domains == ("spotify.com",) and spotify.two_factor == (TwoFactorMedium.EMAIL,)
    for hook in ("authenticate", "handle_2fa", "list_documents", "download"):
        assert host.implements(spotify, hook)
    assert not host.implements(spotify, "publish_bill")


def test_sandbox_portal_is_offered_with_its_demo_accounts():
    assert list(dextcore_spotify.register_sandbox_portals()) == [SpotifyPortal]
    demo = SpotifyPortal().demo_accounts()
    assert {"ok", "2fa", "sso-google", "wrong-password", "challenge"} <= {a.scenario for a in demo}
    assert all(a.connector == "spotify" and a.variant in ("uk", "de", "us", "fr") for a in demo)
    assert "correct-horse" not in repr(demo)


def test_login_base_is_found_from_the_www_base(sandbox, client):
    base = sandbox.base_url("spotify", "fr")
    assert base == sandbox.root("spotify") + "/www.spotify.com/fr"
    home = client.get(base + "/")
    href = re.search(r'<a data-testid="login-button" href="([^"]+)"', home.text).group(1)
    assert href.startswith("/accounts.spotify.com/login?")
    assert pages.accounts_base(base) == sandbox.root("spotify") + "/accounts.spotify.com"
    assert client.get(pages.login_url(base, base + "/account/overview/")).status == 200
