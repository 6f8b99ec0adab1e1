"""Helpers shared by the runner tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from dextcore.sandbox import SandboxServer
from dextcore.store import schema
from tests.runner.portal import Account, AcmePortal


def connect(app: Any, sandbox: SandboxServer, account: Account, **fields: str) -> int:
    """Seed ``account`` on the ACME portal and create its connection pointing there."""
    portal: AcmePortal = sandbox.portal("acme")  # type: ignore[assignment]
    portal.add_account(account)
    created = app.connections.create(
        connector="acme_test", owner="ann@example.com", created_by="ann@example.com",
        username=account.username, password=account.password, fields=fields or None,
        base_url=sandbox.root("acme"),
    )
    return created.connection.id


def stored_ids(app: Any, connection_id: int) -> list[str]:
    t = schema.documents
    with app.store.connect() as conn:
        return [r.stable_id for r in conn.execute(sa.select(t.c.stable_id).where(t.c.connection_id == connection_id))]


def inbox_files(inbox: Path) -> list[Path]:
    return sorted(p for p in inbox.rglob("*") if p.is_file())
