"""Schema versions and how to reach each one.

Each migration is a function taking an open transaction. They run in order
from the database's recorded version; a database newer than this code is
refused rather than guessed at. Add a migration for every schema change —
never edit a released one.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

import sqlalchemy as sa

from dextcore.store import schema
from dextcore.accounting import schema as _accounting_schema  # the accounting tables (migration 2)

__all__ = ["MIGRATIONS", "SchemaTooNew", "current_version", "migrate"]


def _v1(conn: sa.Connection) -> None:
    tables = [
        schema.users,
        schema.connections,
        schema.status_history,
        schema.secrets,
        schema.invitations,
        schema.documents,
        schema.runs,
        schema.challenges,
    ]
    schema.metadata.create_all(conn, tables=tables)


def _v2(conn: sa.Connection) -> None:
    """Accounting: connections, list entries, supplier rules, items, publications."""
    schema.metadata.create_all(conn, tables=_accounting_schema.TABLES)


MIGRATIONS: list[Callable[[sa.Connection], None]] = [_v1, _v2]
"""MIGRATIONS[i] brings the schema from version i to version i + 1."""


class SchemaTooNew(RuntimeError):
    pass


def current_version(conn: sa.Connection) -> int:
    if not sa.inspect(conn).has_table("schema_version"):
        return 0
    return conn.execute(sa.select(sa.func.max(schema.schema_version.c.version))).scalar() or 0


def migrate(engine: sa.Engine) -> int:
    """Bring the database to the newest version; return that version."""
    with engine.begin() as conn:
        schema.metadata.create_all(conn, tables=[schema.schema_version])
        version = current_version(conn)
        if version > len(MIGRATIONS):
            raise SchemaTooNew(
                f"the database is at schema version {version}, newer than this dextcore "
                f"({len(MIGRATIONS)}); upgrade dextcore"
            )
        for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
            step(conn)
            conn.execute(
                schema.schema_version.insert().values(version=number, applied_at=dt.datetime.now(dt.timezone.utc))
            )
        return len(MIGRATIONS)
