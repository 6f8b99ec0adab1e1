"""The dextcore pytest plugin: fixtures for testing a dextcore plugin.

Enabled in every pytest run of an environment where dextcore is installed
(entry point ``pytest11``: ``dextcore = "dextcore.testing.plugin"``);
disable it with ``-p no:dextcore``. A conftest fixture of the same name
overrides any of these.

A typical end-to-end test of a supplier plugin::

    def test_collects_invoices(sandbox, connect, fetch, dextcore_app):
        server = sandbox(AcmePortal)
        connection = connect(server, "acme", "ok")
        result = fetch(connection)
        assert result.status is Status.CONNECTED, result.message
        assert dextcore_app.inbox.list(connection)

Fixtures:

``dextcore_plugins``
    The plugin objects the test app loads. Default ``None``: every
    installed plugin (entry points). Override it in a conftest to test one
    plugin alone: ``return [dextcore_acme]``.
``dextcore_app``
    A fresh :class:`~dextcore.api.Dextcore` under ``tmp_path`` (SQLite
    store, vault key, inbox, failed-pages folder), user ``owner@example.com``
    created; alerts are captured by ``dextcore_events``, never e-mailed.
``dextcore_events``
    The :class:`~dextcore.testing.EventLog` registered on that app:
    ``.statuses``, ``.documents``, ``.challenges``, ``.alerts``.
``sandbox``
    ``sandbox(*portals, clock=None, **faults)`` starts a
    :class:`~dextcore.sandbox.SandboxServer` with these portals (classes or
    instances; none: those of ``dextcore_plugins``), applies ``faults``
    (``latency=0.1``, ``error_rate=0.2``...) to each, and stops it after the test.
``connect``
    ``connect(server, portal_name, scenario, *, variant=None, password=None,
    history_from=None, fields=None)`` creates a connection for the portal's
    demo account playing ``scenario``, pointed at the sandbox; returns its id.
``fetch``
    ``fetch(connection_id, *, force=False, wait_for_code=None, settings=None,
    **runner_options)`` fetches it through the real runner (Scrapy on the
    process's asyncio reactor) and returns the
    :class:`~dextcore.runner.FetchResult`.
``answer_code``
    ``answer_code(server, connection_id, to)`` starts a
    :class:`~dextcore.testing.CodeAnswerer`: it reads the next code sent to
    ``to`` in the sandbox mailbox and submits it once the fetch waits for
    it. Start it before ``fetch(..., wait_for_code=30)``.
``saved_page``
    ``saved_page(path, url="https://example.com/", status=200, headers=None)``
    loads a saved file as a Scrapy response (relative paths are relative to
    the test file's folder).

The Twisted reactor is the process's one asyncio reactor
(:mod:`dextcore.runner.reactor`): installed by the first fetch, never
stopped during the session, stopped when the interpreter exits.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

import pytest

from dextcore.testing.app import OWNER

if TYPE_CHECKING:
    from dextcore.api import Dextcore
    from dextcore.runner import FetchResult
    from dextcore.sandbox import Clock, SandboxPortal, SandboxServer
    from dextcore.testing.codes import CodeAnswerer
    from dextcore.testing.events import EventLog

# Nothing heavy is imported at module level: this module loads in every pytest
# run of the environment, and the Twisted reactor must not be chosen by an import.


@pytest.fixture
def dextcore_plugins() -> list[object] | None:
    """The plugins the test app loads: ``None`` (the default) loads every
    installed one; override to return your plugin module(s) only."""
    return None


@pytest.fixture
def dextcore_events() -> EventLog:
    """Records the events of :func:`dextcore_app` (statuses, documents, challenges, alerts)."""
    from dextcore.testing.events import EventLog

    return EventLog()


@pytest.fixture
def dextcore_app(tmp_path: Path, dextcore_plugins: list[object] | None,
                 dextcore_events: EventLog) -> Iterator[Dextcore]:
    """A fresh dextcore under ``tmp_path`` with ``dextcore_plugins`` and the event log."""
    from dextcore.testing.app import open_test_app

    with open_test_app(tmp_path / "dextcore", plugins=dextcore_plugins, events=dextcore_events) as app:
        yield app


@pytest.fixture(scope="session")
def dextcore_reactor() -> Any:
    """The process's asyncio Twisted reactor loop, installed once.

    Never stopped here: a Twisted reactor cannot start twice, so stopping it
    before the session ends would break later fetches (of other plugins'
    tests, or of ``dextcore`` itself). :mod:`dextcore.runner.reactor` stops it
    when the interpreter exits, before Python waits for non-daemon threads.
    """
    from dextcore.runner.reactor import ensure_reactor

    return ensure_reactor()


@pytest.fixture
def sandbox(dextcore_plugins: list[object] | None) -> Iterator[Callable[..., SandboxServer]]:
    """Factory ``sandbox(*portals, clock=None, **faults) -> SandboxServer`` (running; stopped at teardown)."""
    from dextcore.sandbox import SandboxServer

    servers: list[SandboxServer] = []

    def start(*portals: SandboxPortal | type[SandboxPortal], clock: Clock | None = None,
              **faults: Any) -> SandboxServer:
        chosen: list[Any] | None = list(portals) if portals else _portals_of(dextcore_plugins)
        server = SandboxServer(chosen, clock=clock)
        if server.failures:  # a test must not silently run without the portal it expects
            broken = "; ".join(f"{f.name}: {f.error}" for f in server.failures)
            raise RuntimeError(f"installed plugins failed to load their sandbox portals: {broken}")
        for portal in server.portals:
            try:
                portal.faults.update(faults)
            except KeyError as exc:
                known = ", ".join(portal.faults.to_json())
                raise TypeError(f"sandbox() got an unknown fault {exc.args[0]!r} (known: {known})") from None
        servers.append(server.start())
        return server

    yield start
    for server in reversed(servers):
        server.stop()


def _portals_of(plugins: list[object] | None) -> list[Any] | None:
    """The sandbox portals the given plugins offer (``None``: every installed plugin's)."""
    if plugins is None:
        return None
    from dextcore.plugins import PluginHost

    host = PluginHost(load_entry_points=False, plugins=plugins)
    return [portal for offered in host.pm.hook.register_sandbox_portals() for portal in offered or ()]


@pytest.fixture
def connect(dextcore_app: Dextcore) -> Callable[..., int]:
    """Factory ``connect(server, portal_name, scenario, *, variant=None, password=None,
    history_from=None, fields=None) -> connection id``.

    Uses the portal's :class:`~dextcore.sandbox.DemoAccount` for
    ``scenario`` (the one of ``variant`` when the portal has several) with
    its fields and TOTP secret; ``password`` replaces its password (a wrong
    one, say) and ``variant`` the variant it is connected on (the "wrong
    site" mistake). ``fields`` adds or replaces fields; a field given as
    ``None`` is left out (``fields={"totp_secret": None}``: the account
    without its stored authenticator key). The connection's base URL is the
    sandbox's.
    """

    def make(server: SandboxServer, portal_name: str, scenario: str, *, variant: str | None = None,
             password: str | None = None, history_from: dt.date | None = None,
             fields: Mapping[str, str | None] | None = None) -> int:
        portal = server.portal(portal_name)
        accounts = [a for a in portal.demo_accounts() if a.scenario == scenario]
        if not accounts:
            known = ", ".join(sorted({a.scenario for a in portal.demo_accounts()})) or "none"
            raise LookupError(f"sandbox portal {portal_name!r} has no demo account for scenario {scenario!r} "
                              f"(scenarios: {known})")
        account = next((a for a in accounts if a.variant == variant), accounts[0])
        chosen = variant or account.variant
        values = dict(account.fields)
        if account.totp_secret:
            values["totp_secret"] = account.totp_secret
        values.update(fields or {})
        values = {name: value for name, value in values.items() if value is not None}
        created = dextcore_app.connections.create(
            connector=account.connector, variant=chosen, owner=OWNER, created_by=OWNER,
            username=account.username, password=password if password is not None else account.password,
            history_from=history_from, fields=values, base_url=server.base_url(portal_name, chosen))
        return int(created.connection.id)

    return make


@pytest.fixture
def fetch(dextcore_app: Dextcore, dextcore_reactor: Any) -> Callable[..., FetchResult]:
    """Factory ``fetch(connection_id, *, force=False, wait_for_code=None, settings=None,
    **runner_options) -> FetchResult``, through the real runner.

    ``wait_for_code`` (seconds) makes it the interactive fetch a person
    starts (so it implies ``force``); ``settings`` are extra Scrapy settings;
    other options go to :class:`~dextcore.runner.Runner`.
    """
    from dextcore.runner import fetch_one

    def run(connection_id: int, *, force: bool = False, wait_for_code: float | None = None,
            settings: Mapping[str, Any] | None = None, **runner_options: Any) -> FetchResult:
        if settings is not None:
            runner_options["settings"] = dict(settings)
        return fetch_one(dextcore_app, connection_id, force=force or wait_for_code is not None,
                         wait_for_code=wait_for_code, **runner_options)

    return run


@pytest.fixture
def answer_code(dextcore_app: Dextcore, dextcore_events: EventLog) -> Iterator[Callable[..., CodeAnswerer]]:
    """Factory ``answer_code(server, connection_id, to, *, timeout=30.0) -> CodeAnswerer`` (started)."""
    from dextcore.testing.codes import CodeAnswerer

    started: list[CodeAnswerer] = []

    def answer(server: SandboxServer, connection_id: int, to: str, *, timeout: float = 30.0) -> CodeAnswerer:
        thread = CodeAnswerer(dextcore_app, dextcore_events, server.mailbox, connection_id, to, timeout=timeout)
        thread.start()
        started.append(thread)
        return thread

    yield answer
    for thread in started:
        thread.cancel()
        thread.join()


@pytest.fixture
def saved_page(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Factory ``saved_page(path, url="https://example.com/", status=200, headers=None)`` -> Scrapy response."""
    from dextcore.testing.pages import load_page

    folder = Path(request.path).parent

    def load(path: str | Path, url: str = "https://example.com/", status: int = 200,
             headers: Mapping[str, str] | None = None) -> Any:
        return load_page(folder / path, url=url, status=status, headers=headers)

    return load
