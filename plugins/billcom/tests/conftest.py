"""Fixtures: the fake Bill.com served over real HTTP, a real dextcore on a
SQLite store in ``tmp_path``, users with roles (helpers: billcom_helpers.py)."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

import dextcore_billcom
from dextcore.accounting.service import AccountingService
from dextcore.api import Dextcore
from dextcore.config import Config
from dextcore.plugins import PluginHost
from dextcore.sandbox import Clock, SandboxServer
from dextcore.store import Store
from dextcore_billcom.sandbox import BillcomPortal

# --import-mode=importlib keeps test folders off sys.path: make the helpers importable.
sys.path.insert(0, str(Path(__file__).parent))

from billcom_helpers import ADMIN, FAST, MEMBER, AlertInbox, SupplierPortal, connect


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[SandboxServer]:
    with SandboxServer([BillcomPortal(seed=0)], clock=clock) as server:
        yield server


@pytest.fixture
def portal(sandbox: SandboxServer) -> BillcomPortal:
    found = sandbox.portal("billcom")
    assert isinstance(found, BillcomPortal)
    return found


@pytest.fixture
def base_url(sandbox: SandboxServer) -> str:
    return sandbox.base_url("billcom")


@pytest.fixture
def alerts() -> AlertInbox:
    return AlertInbox()


POSTGRES_URL = os.environ.get("DEXTCORE_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"])
def app(request: pytest.FixtureRequest, tmp_path: Path, alerts: AlertInbox) -> Iterator[Dextcore]:
    """A dextcore on SQLite (and on PostgreSQL, in a throw-away schema, when
    DEXTCORE_TEST_POSTGRES_URL is set)."""
    home = tmp_path / "home"
    config = Config.from_env({}, home=home, database_url=f"sqlite:///{home / 'dextcore.db'}",
                             inbox_dir=home / "inbox", key_file=home / "vault.key")
    host = PluginHost(load_entry_points=False, plugins=[dextcore_billcom, SupplierPortal(), alerts])
    schema_name = None
    if request.param == "sqlite":
        dx = Dextcore.open(config, host=host)
    else:
        assert POSTGRES_URL is not None
        schema_name = f"dxb_{secrets.token_hex(6)}"
        with sa.create_engine(POSTGRES_URL).begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema_name}"'))
        home.mkdir(parents=True)
        store = Store(POSTGRES_URL, engine_options={"connect_args": {"options": f"-csearch_path={schema_name}"}})
        dx = Dextcore(config=config, store=store, host=host)
    dx.add_user(ADMIN, name="Ann", role="admin")
    dx.add_user(MEMBER, name="Bob", role="member")
    yield dx
    dx.close()
    if schema_name is not None:
        assert POSTGRES_URL is not None
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema_name}" CASCADE'))
        engine.dispose()


@pytest.fixture
def service(app: Dextcore, clock: Clock) -> AccountingService:
    return AccountingService(app, clock=clock.now, session_options=FAST)


@pytest.fixture
def connected(service: AccountingService, portal: BillcomPortal, base_url: str) -> Any:
    return connect(service, portal, base_url)
