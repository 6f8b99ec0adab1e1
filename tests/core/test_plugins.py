from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dextcore import Connector, ConnectorKind, hookimpl
from dextcore.plugins import PluginHost, UnknownConnector
from tests.core import toy_plugin


class OtherPlugin:
    """A second plugin implementing the same connector hook: it must never be
    called for the toy connector."""

    def __init__(self) -> None:
        self.calls = 0
        self.connector = Connector(name="other", label="Other", kind=ConnectorKind.SUPPLIER, implementation=self)

    @hookimpl
    def register_connectors(self):
        return [self.connector]

    @hookimpl
    def authenticate(self, session):
        self.calls += 1
        return "other-authenticated"


def test_connector_hooks_go_only_to_the_owning_plugin():
    other = OtherPlugin()
    host = PluginHost(load_entry_points=False, plugins=[toy_plugin, other])
    host.check_pending()
    assert host.call("toy", "authenticate", session=None) == "toy-authenticated"
    assert other.calls == 0
    assert host.call("other", "authenticate", session=None) == "other-authenticated"
    assert other.calls == 1
    assert host.implements("toy", "authenticate")
    assert not host.implements("toy", "download")


def test_duplicate_connector_name_is_refused():
    host = PluginHost(load_entry_points=False, plugins=[toy_plugin])

    class Clash:
        @hookimpl
        def register_connectors(self):
            return [Connector(name="toy", label="Clash", kind=ConnectorKind.SUPPLIER, implementation=self)]

    with pytest.raises(ValueError, match="already taken"):
        host.register(Clash())
    assert host.connector("toy").label == "Toy Portal"


def test_unknown_connector_names_the_command_to_list_them():
    host = PluginHost(load_entry_points=False)
    with pytest.raises(UnknownConnector, match="dextcore plugins"):
        host.connector("nope")


def test_event_hook_failure_does_not_stop_other_listeners():
    seen = []

    class Broken:
        @hookimpl
        def status_changed(self, connection, old, new, reason):
            raise RuntimeError("listener bug")

    class Good:
        @hookimpl
        def status_changed(self, connection, old, new, reason):
            seen.append(new)

    host = PluginHost(load_entry_points=False, plugins=[Broken(), Good()])
    host.emit("status_changed", connection=None, old=None, new="x", reason="")
    assert seen == ["x"]


def _fake_distribution(site: Path, name: str, module: str, source: str) -> None:
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[dextcore]\n{module} = {module}\n")


def test_broken_plugin_is_reported_and_the_others_still_load(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    _fake_distribution(site, "broken-plugin", "broken_plugin", "raise ImportError('missing dependency frobnicate')\n")
    _fake_distribution(
        site,
        "good-plugin",
        "good_plugin",
        """
        import sys
        from dextcore import Connector, ConnectorKind, Variant, hookimpl

        @hookimpl
        def register_connectors():
            return [Connector(name="good", label="Good Portal", kind=ConnectorKind.SUPPLIER,
                              implementation=sys.modules[__name__],
                              variants=[Variant("uk", "Good UK", "https://good.example", default=True)])]
        """,
    )
    result = subprocess.run(
        [sys.executable, "-m", "dextcore.cli", "plugins", "--json"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "DEXTCORE_HOME": str(tmp_path / "home")},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    names = {c["name"]: c for c in listing["connectors"]}
    assert names["good"]["distribution"] == "good-plugin"
    assert names["good"]["variants"][0]["name"] == "uk"
    (failure,) = [f for f in listing["failures"] if f["name"] == "broken_plugin"]
    assert failure["distribution"] == "broken-plugin"
    assert "missing dependency frobnicate" in failure["error"]
