"""Fixtures of the runner tests: the ACME test portal, a dextcore app with the
ACME test plugin, and the process's one asyncio reactor."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from dextcore.api import Dextcore
from dextcore.config import Config
from dextcore.hookspecs import hookimpl
from dextcore.plugins import PluginHost
from dextcore.runner.reactor import ensure_reactor
from dextcore.sandbox import SandboxServer
from dextcore.vault import generate_key
from tests.runner import acme_plugin
from tests.runner.portal import AcmePortal, ForeignSite

REPO = Path(__file__).resolve().parents[2]


class EventLog:
    """Records the event hooks and alerts the core fires."""

    def __init__(self) -> None:
        self.statuses: list[tuple[int, Any, Any, str]] = []
        self.alerts: list[tuple[str, str, str]] = []
        self.challenges: list[tuple[int, Any, bool]] = []
        self.on_challenge: Any = None

    @hookimpl
    def status_changed(self, connection, old, new, reason):  # type: ignore[no-untyped-def]
        self.statuses.append((connection.id, old, new, reason))

    @hookimpl
    def alert(self, recipient, subject, body, connection):  # type: ignore[no-untyped-def]
        self.alerts.append((recipient, subject, body))
        return True

    @hookimpl
    def challenge_raised(self, connection, challenge, interactive):  # type: ignore[no-untyped-def]
        self.challenges.append((connection.id, challenge, interactive))
        if self.on_challenge is not None:
            self.on_challenge(connection, challenge, interactive)


@pytest.fixture(scope="session", autouse=True)
def reactor_loop() -> Any:
    return ensure_reactor()


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer([AcmePortal(), ForeignSite()]) as server:
        yield server


@pytest.fixture
def portal(sandbox: SandboxServer) -> AcmePortal:
    return sandbox.portal("acme")  # type: ignore[return-value]


@pytest.fixture
def events() -> EventLog:
    return EventLog()


@pytest.fixture
def runner_config(tmp_path: Path) -> Config:
    home = tmp_path / "home"
    return Config.from_env({}, home=home, database_url=f"sqlite:///{home / 'dextcore.db'}",
                           inbox_dir=home / "inbox", key_file=home / "vault.key", secret_key=generate_key())


@pytest.fixture
def app(runner_config: Config, events: EventLog) -> Iterator[Dextcore]:
    host = PluginHost(load_entry_points=False, plugins=[acme_plugin, events])
    host.check_pending()
    with Dextcore.open(runner_config, host=host) as opened:
        opened.add_user("ann@example.com", name="Ann")
        yield opened


@pytest.fixture
def subprocess_env(runner_config: Config) -> dict[str, str]:
    """Environment for a second dextcore process on the same home, store and key."""
    env = dict(os.environ)
    env.update({
        "DEXTCORE_HOME": str(runner_config.home),
        "DEXTCORE_DATABASE_URL": runner_config.database_url,
        "DEXTCORE_SECRET_KEY": runner_config.secret_key or "",
        "PYTHONPATH": str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
    })
    return env


PYTHON = sys.executable
