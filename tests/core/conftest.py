from __future__ import annotations

import pytest

from dextcore.api import Dextcore
from dextcore.plugins import PluginHost


class AlertLog:
    """An event-hook/alert plugin recording what the core announced."""

    def __init__(self) -> None:
        self.statuses: list[tuple[int, object, object, str]] = []
        self.alerts: list[tuple[str, str, str]] = []

    from dextcore.hookspecs import hookimpl as _hookimpl

    @_hookimpl
    def status_changed(self, connection, old, new, reason):
        self.statuses.append((connection.id, old, new, reason))

    @_hookimpl
    def alert(self, recipient, subject, body, connection):
        self.alerts.append((recipient, subject, body))
        return True


@pytest.fixture
def alert_log() -> AlertLog:
    return AlertLog()


@pytest.fixture
def host(alert_log: AlertLog) -> PluginHost:
    from tests.core import toy_plugin

    return PluginHost(load_entry_points=False, plugins=[toy_plugin, alert_log])


@pytest.fixture
def app(config, store, host) -> Dextcore:
    app = Dextcore(config=config, store=store, host=host)
    yield app
