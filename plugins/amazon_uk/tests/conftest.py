"""Fixtures of the Amazon plugin tests: a running sandbox with a frozen clock.

Tests drive it with :class:`amazon_browser.Browser` (a cookie-keeping HTML
client); this directory is put on ``sys.path`` for that helper because the
project runs pytest in importlib mode. The end-to-end tests (``test_e2e.py``)
add a dextcore app (SQLite, vault, inbox) with this plugin, run by the real
runner on the process's asyncio reactor.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from dextcore.api import Dextcore
from dextcore.config import Config
from dextcore.hookspecs import hookimpl
from dextcore.plugins import PluginHost
from dextcore.sandbox import Clock, Mailbox, SandboxServer
from dextcore.vault import generate_key

from dextcore_amazon_uk.sandbox import AmazonPortal

sys.path.insert(0, str(Path(__file__).parent))

FROZEN_AT = dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def clock() -> Clock:
    return Clock(FROZEN_AT)


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[SandboxServer]:
    """A fresh Amazon sandbox per test (state never leaks between tests)."""
    with SandboxServer([AmazonPortal(seed=11)], clock=clock, mailbox=Mailbox()) as server:
        yield server


@pytest.fixture
def portal(sandbox: SandboxServer) -> AmazonPortal:
    amazon = sandbox.portal("amazon")
    assert isinstance(amazon, AmazonPortal)
    return amazon


# -- end-to-end fixtures: a dextcore app with this plugin, run by the real runner ------------------------------------


class EventLog:
    """Records the event hooks the core fires; ``on_challenge`` / ``on_document`` let a test react
    (they run in the reactor's thread, at the moment the core emits the event)."""

    def __init__(self) -> None:
        self.challenges: list[tuple[int, object, bool]] = []
        self.documents: list[object] = []
        self.on_challenge = None
        self.on_document = None

    @hookimpl
    def challenge_raised(self, connection, challenge, interactive):  # type: ignore[no-untyped-def]
        self.challenges.append((connection.id, challenge, interactive))
        if self.on_challenge is not None:
            self.on_challenge(connection, challenge, interactive)

    @hookimpl
    def document_collected(self, connection, document):  # type: ignore[no-untyped-def]
        self.documents.append(document)
        if self.on_document is not None:
            self.on_document(document)

    @hookimpl
    def alert(self, recipient, subject, body, connection):  # type: ignore[no-untyped-def]
        return True  # no SMTP server in these tests: alerts count as delivered elsewhere


@pytest.fixture(scope="session")
def reactor_loop() -> Iterator[object]:
    """The process's one asyncio Twisted reactor (installed once, driven by the runner).

    Stopped at the end of the session: the reactor's thread pool is not
    daemonic, and Python waits for such threads *before* running the
    ``atexit`` hook that :mod:`dextcore.runner.reactor` registers, so
    without this the test process never exits (reported to the runner's owner).
    """
    from dextcore.runner.reactor import ensure_reactor, shutdown

    yield ensure_reactor()
    shutdown()


@pytest.fixture
def events() -> EventLog:
    return EventLog()


@pytest.fixture
def app(tmp_path: Path, events: EventLog, reactor_loop: object) -> Iterator[Dextcore]:
    """A dextcore instance (SQLite, inbox, vault) whose only plugins are this one and the event log."""
    import dextcore_amazon_uk

    home = tmp_path / "home"
    config = Config.from_env({}, home=home, database_url=f"sqlite:///{home / 'dextcore.db'}",
                             inbox_dir=home / "inbox", key_file=home / "vault.key", secret_key=generate_key())
    host = PluginHost(load_entry_points=False, plugins=[dextcore_amazon_uk, events])
    host.check_pending()
    with Dextcore.open(config, host=host) as opened:
        opened.add_user("ann@example.com", name="Ann")
        yield opened


@pytest.fixture
def connect(app: Dextcore, sandbox: SandboxServer, portal: AmazonPortal) -> Callable[..., int]:
    """``connect(scenario, variant=None, password=None, **create_kwargs) -> connection id``: a connection of
    the sandbox's demo account playing ``scenario``, on the variant the demo hands out (or ``variant``)."""

    def make(scenario: str, *, variant: str | None = None, password: str | None = None, region: str = "",
             **kwargs: Any) -> int:
        demo = next(d for d in portal.demo_accounts()
                    if d.scenario == scenario and (d.variant or "").startswith(region))
        chosen = variant or demo.variant
        created = app.connections.create(
            connector="amazon_uk", variant=chosen, owner="ann@example.com", created_by="ann@example.com",
            username=demo.username, password=password or demo.password,
            base_url=sandbox.base_url("amazon", chosen), **kwargs)
        return created.connection.id

    return make
