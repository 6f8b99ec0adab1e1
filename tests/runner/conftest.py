"""Fixtures of the runner tests, on the dextcore testing kit (:mod:`dextcore.testing.plugin`).

The kit opens the app, records its events, starts sandboxes and owns the
process's one asyncio reactor; this file only fixes what the runner tests
run against (the ACME test plugin alone, one sandbox with the ACME portal and
a foreign site) and keeps the short names those tests use.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from dextcore.api import Dextcore
from dextcore.config import Config
from dextcore.hookspecs import hookimpl
from dextcore.sandbox import SandboxServer
from dextcore.testing import EventLog as KitEventLog
from tests.runner import acme_plugin
from tests.runner.portal import AcmePortal, ForeignSite

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


class EventLog(KitEventLog):
    """The kit's event log, plus ``on_challenge(connection, challenge, interactive)``:
    called in the reactor's thread the moment a challenge is raised, so a test
    can act at that point of the run (stop the runner, start answering)."""

    def __init__(self) -> None:
        super().__init__()
        self.on_challenge: Callable[[Any, Any, bool], None] | None = None

    @hookimpl
    def challenge_raised(self, connection: Any, challenge: Any, interactive: bool) -> None:
        super().challenge_raised(connection, challenge, interactive)
        if self.on_challenge is not None:
            self.on_challenge(connection, challenge, interactive)


@pytest.fixture(scope="session", autouse=True)
def reactor_loop(dextcore_reactor: Any) -> Any:
    """The asyncio reactor, installed before any test imports Twisted's default one."""
    return dextcore_reactor


@pytest.fixture
def dextcore_plugins() -> list[object]:
    return [acme_plugin]


@pytest.fixture
def dextcore_events() -> EventLog:
    return EventLog()


@pytest.fixture
def sandbox(sandbox: Callable[..., SandboxServer]) -> SandboxServer:
    """The running sandbox (the kit's factory called once): the ACME portal and a foreign site."""
    return sandbox(AcmePortal(), ForeignSite())


@pytest.fixture
def portal(sandbox: SandboxServer) -> AcmePortal:
    return sandbox.portal("acme")  # type: ignore[return-value]


@pytest.fixture
def app(dextcore_app: Dextcore) -> Dextcore:
    return dextcore_app


@pytest.fixture
def events(dextcore_events: EventLog) -> EventLog:
    return dextcore_events


@pytest.fixture
def runner_config(dextcore_app: Dextcore) -> Config:
    return dextcore_app.config


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
