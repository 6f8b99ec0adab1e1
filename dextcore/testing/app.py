"""A throw-away dextcore for tests, usable with or without pytest."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from dextcore.api import Dextcore
    from dextcore.testing.events import EventLog

__all__ = ["OWNER", "open_test_app"]

OWNER = "owner@example.com"
"""The user who owns, creates and is notified about test connections."""


def open_test_app(home: Path, *, plugins: Iterable[object] | None = None, events: EventLog | None = None) -> Dextcore:
    """A fresh dextcore confined to ``home``: SQLite store, new vault key, inbox and failed-pages folder.

    ``plugins`` ``None`` loads every installed plugin; otherwise only these.
    ``events`` (an :class:`~dextcore.testing.EventLog`) is registered too,
    which captures alerts instead of e-mailing them. :data:`OWNER` exists
    as a user. Close the app when done (it is a context manager).
    """
    from dextcore.api import Dextcore
    from dextcore.config import Config
    from dextcore.plugins import PluginHost
    from dextcore.vault import generate_key

    config = Config.from_env({}, home=home, database_url=f"sqlite:///{home / 'dextcore.db'}",
                             inbox_dir=home / "inbox", key_file=home / "vault.key", secret_key=generate_key())
    host = PluginHost(load_entry_points=plugins is None, plugins=plugins or ())
    if events is not None:
        host.register(events, name="dextcore-testing-events")
    host.check_pending()  # a hook name typo fails here, not silently later
    app = Dextcore.open(config, host=host)
    try:
        app.add_user(OWNER, name="Test Owner")
    except BaseException:
        app.close()
        raise
    return app
