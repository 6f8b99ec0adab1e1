"""The store: SQLAlchemy Core over SQLite (default) or PostgreSQL.

``Store`` owns the engine; everything else takes a ``Store`` and runs its
own short transactions through :meth:`Store.begin`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from dextcore.store import schema
from dextcore.store.migrations import SchemaTooNew, migrate

__all__ = ["SchemaTooNew", "Store", "schema", "utcnow"]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.timezone.utc)


class Store:
    """A migrated database.

    ``url`` is any SQLAlchemy URL: ``sqlite:///path/to/dextcore.db`` or
    ``postgresql+psycopg://user@host/db``. ``engine_options`` are passed to
    :func:`sqlalchemy.create_engine` (e.g. ``connect_args`` setting a
    PostgreSQL ``search_path``, as the tests do to isolate each test in its
    own schema).
    """

    def __init__(self, url: str, *, engine_options: dict[str, Any] | None = None) -> None:
        self.url = url
        self.engine = _create_engine(url, engine_options or {})
        self.version = migrate(self.engine)

    @classmethod
    def at_path(cls, path: str | Path) -> Store:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{path}")

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def begin(self) -> Any:
        """A transaction: ``with store.begin() as conn: ...`` commits on exit."""
        return self.engine.begin()

    def connect(self) -> Any:
        return self.engine.connect()

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"


def _create_engine(url: str, options: dict[str, Any]) -> sa.Engine:
    if url.startswith("sqlite"):
        options = {**options, "connect_args": {"timeout": 30, **options.get("connect_args", {})}}
        engine = sa.create_engine(url, **options)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets a second process (``dextcore 2fa submit``) write while
            # a fetch holds the database; foreign keys are off by default.
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return sa.create_engine(url, **{"pool_pre_ping": True, **options})
