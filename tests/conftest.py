"""Fixtures shared by the core and end-to-end tests.

``store`` runs each test on SQLite and, when ``DEXTCORE_TEST_POSTGRES_URL``
is set (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``), on
PostgreSQL too, each test in a fresh schema dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from dextcore.config import Config
from dextcore.store import Store
from dextcore.vault import Vault

POSTGRES_URL = os.environ.get("DEXTCORE_TEST_POSTGRES_URL")
DATABASES = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


@pytest.fixture(params=DATABASES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A freshly migrated store on each configured database."""
    if request.param == "sqlite":
        st = Store.at_path(tmp_path / "dextcore.db")
        yield st
        st.dispose()
        return
    assert POSTGRES_URL is not None
    name = f"dx_{secrets.token_hex(6)}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    try:
        st = Store(POSTGRES_URL, engine_options={"connect_args": {"options": f"-csearch_path={name}"}})
        try:
            yield st
        finally:
            st.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """A configuration confined to ``tmp_path`` (no environment read)."""
    home = tmp_path / "home"
    return Config.from_env(
        {},
        home=home,
        database_url=f"sqlite:///{home / 'dextcore.db'}",
        inbox_dir=home / "inbox",
        key_file=home / "vault.key",
    )


@pytest.fixture
def vault(config: Config, store: Store) -> Vault:
    """A vault with a fresh key file over ``store``."""
    return Vault.from_config(config, store)


def insert_connection(store: Store, *, connector: str = "acme", owner: str = "owner@example.com",
                      username: str | None = "buyer@example.com") -> int:
    """A bare ``connections`` row (what :mod:`dextcore.connections` would create)."""
    from dextcore.store import schema, utcnow

    now = utcnow()
    with store.begin() as conn:
        return conn.execute(schema.connections.insert().values(
            connector=connector, owner=owner, created_by=owner, notify=owner, username=username,
            fields={}, status="connecting", status_changed_at=now, created_at=now,
        )).inserted_primary_key[0]


@pytest.fixture
def new_connection(store: Store):  # type: ignore[no-untyped-def]
    """Factory: ``new_connection(connector=..., owner=...) -> id``."""
    return lambda **kw: insert_connection(store, **kw)


@pytest.fixture(scope="session")
def fresh_venv(tmp_path_factory):
    """A new virtual environment with only dextcore installed (from this
    checkout) and pytest: what a plugin author starts from. Shared by the
    tutorial and scaffold tests because creating one takes ~30 s."""
    repo = Path(__file__).resolve().parents[1]
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-e", str(repo), "pytest", "pytest-timeout", "pypdf"], check=True)
    return venv
