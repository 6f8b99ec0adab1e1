"""The Python API for embedding dextcore in an application.

One :class:`Dextcore` object per process holds the store, vault, plugins,
inbox and alerting; every CLI command is a thin layer over it::

    from dextcore import Dextcore

    app = Dextcore.open()                       # reads DEXTCORE_* variables
    created = app.connections.create(connector="amazon_uk", variant="co.uk",
                                     owner="ann@example.com", created_by="ann@example.com",
                                     username="ann@example.com", password=password)
    for row in app.table():
        print(row["supplier"], row["status_label"])
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

import sqlalchemy as sa

from dextcore.config import Config
from dextcore.connections import Connection, Connections
from dextcore.plugins import PluginHost
from dextcore.store import Store, schema, utcnow

__all__ = ["Dextcore"]


class Dextcore:
    """A dextcore instance: use :meth:`open` rather than the constructor."""

    def __init__(self, *, config: Config, store: Store, host: PluginHost) -> None:
        from dextcore.alerts import Alerter
        from dextcore.inbox import Inbox
        from dextcore.vault import Vault

        self.config = config
        self.store = store
        self.host = host
        self.vault = Vault.from_config(config, store)
        self.alerter = Alerter(config.smtp, host)
        self.connections = Connections(store, self.vault, host, self.alerter)
        self.inbox = Inbox(store, config.inbox_dir, max_bytes=config.max_document_bytes, on_collected=self._collected)
        self._accounting: Any = None

    @classmethod
    def open(
        cls,
        config: Config | None = None,
        *,
        host: PluginHost | None = None,
        plugins: Iterable[object] = (),
    ) -> Dextcore:
        """Open (creating and migrating when needed) the store of ``config``.

        ``host`` defaults to every plugin installed through entry points;
        ``plugins`` are extra objects to register (an app's event hooks).
        """
        config = config or Config.from_env()
        config.home.mkdir(parents=True, exist_ok=True)
        host = host or PluginHost()
        for plugin in plugins:
            host.register(plugin)
        return cls(config=config, store=Store(config.database_url), host=host)

    def close(self) -> None:
        self.store.dispose()

    def __enter__(self) -> Dextcore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Dextcore(home={str(self.config.home)!r}, store={self.store!r})"

    # -- users -------------------------------------------------------------------

    def add_user(self, email: str, *, name: str = "", role: str = "member") -> None:
        """Create or update a user; ``role`` is ``member`` or ``admin``
        (only admins manage accounting connections)."""
        if role not in ("member", "admin"):
            raise ValueError("role must be 'member' or 'admin'")
        t = schema.users
        with self.store.begin() as conn:
            if conn.execute(sa.select(t.c.id).where(t.c.id == email)).first() is None:
                conn.execute(t.insert().values(id=email, name=name, role=role, created_at=utcnow()))
            else:
                conn.execute(t.update().where(t.c.id == email).values(name=name, role=role))

    def user_role(self, email: str) -> str | None:
        t = schema.users
        with self.store.connect() as conn:
            row = conn.execute(sa.select(t.c.role).where(t.c.id == email)).first()
        return row.role if row else None

    # -- the Invoice Fetch table ---------------------------------------------------

    def table(self, *, needing_attention: bool = False) -> list[dict[str, Any]]:
        """One row per connection, as ``dextcore list --json`` prints them."""
        return [self.row(c) for c in self.connections.list(needing_attention=needing_attention)]

    def row(self, connection: Connection) -> dict[str, Any]:
        try:
            connector = self.host.connector(connection.connector)
            variant = connector.variant(connection.variant) if connector.variants else None
            supplier = connector.label
            variant_label = variant.label if variant else None
        except KeyError:
            supplier, variant_label = f"{connection.connector} (plugin not installed)", None
        return {
            "id": connection.id,
            "supplier": supplier,
            "connector": connection.connector,
            "variant": connection.variant,
            "variant_label": variant_label,
            "direction": connection.direction.value,
            "connected_as": connection.username,
            "status": connection.status.value,
            "status_label": connection.status.label,
            "status_reason": connection.status_reason,
            "needs_attention": connection.status.needs_attention,
            "documents": connection.documents_count,
            "last_fetched": _iso(connection.last_fetched_at),
            "created_by": connection.created_by,
            "notify": connection.notify,
            "owner": connection.owner,
            "next_run": _iso(connection.next_run_at),
        }

    # -- fetching -------------------------------------------------------------------

    def fetch(self, connection_id: int, *, force: bool = False, wait_for_code: float | None = None) -> Any:
        """Fetch one connection now in this process; returns a
        :class:`dextcore.runner.FetchResult`. ``force`` runs it whatever its
        status (a user's "Force fetch"); ``wait_for_code`` makes it
        interactive: it waits that many seconds for :meth:`submit_code`."""
        from dextcore.runner import fetch_one

        return fetch_one(self, connection_id, force=force, wait_for_code=wait_for_code)

    def run_due(self) -> list[Any]:
        """Fetch every connection that is due now, concurrently, then return."""
        from dextcore.runner import run_due

        return run_due(self)

    def submit_code(self, connection_id: int, code: str) -> int:
        """Answer the pending 2FA challenge of ``connection_id`` (from any process)."""
        from dextcore.runner import submit_code

        return submit_code(self, connection_id, code)

    # -- accounting ------------------------------------------------------------------

    @property
    def accounting(self) -> Any:
        """The accounting service (:class:`dextcore.accounting.service.AccountingService`)."""
        if self._accounting is None:
            from dextcore.accounting.service import AccountingService

            self._accounting = AccountingService(self)
        return self._accounting

    # -- events -----------------------------------------------------------------------

    def _collected(self, document: Any) -> None:
        # Building the connection's view reads the store: skip it when no
        # plugin listens (the runner's hot path stores thousands of documents).
        if document.connection_id is None or not self.host.pm.hook.document_collected.get_hookimpls():
            return
        self.host.emit("document_collected", connection=self.connections.view(document.connection_id), document=document)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
