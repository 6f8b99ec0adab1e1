"""Without a ``dextcore_plugins`` override the kit uses every installed plugin; the kit itself is
loaded by pytest through its ``pytest11`` entry point."""

from __future__ import annotations

import dextcore.testing.plugin

BUNDLED = {"amazon_uk", "bt_business", "spotify", "billcom"}


def test_pytest_loads_the_kit_through_its_entry_point(request):
    assert request.config.pluginmanager.get_plugin("dextcore") is dextcore.testing.plugin


def test_the_default_app_loads_every_installed_plugin(dextcore_plugins, dextcore_app):
    assert dextcore_plugins is None
    assert BUNDLED <= set(dextcore_app.host.connectors)
    assert not dextcore_app.host.failures


def test_the_default_sandbox_starts_every_installed_portal(sandbox):
    server = sandbox()
    assert {"amazon", "bt", "spotify", "billcom"} <= {p.name for p in server.portals}
    assert all(server.root(p.name).startswith("http://127.0.0.1:") for p in server.portals)
