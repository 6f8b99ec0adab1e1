"""Saved portal sessions, kept encrypted in the vault: cookies, and for browser
connectors the browser's storage state (its cookies and each origin's localStorage).

A session is a credential: it lives only in the vault, as the ``session``
secret of the connection, never in the database in clear or in logs.
Reusing it next run lets the plugin's ``authenticate`` see it is still
logged in, so a remembered device is not asked for 2FA again.
"""

from __future__ import annotations

import json
import logging
from typing import Any

__all__ = ["SESSION_SECRET", "drop_session", "load_session", "save_session"]

SESSION_SECRET = "session"
SCOPE = "connection"
log = logging.getLogger(__name__)


def load_session(vault: Any, connection_id: int) -> dict[str, Any] | None:
    """The saved session, or ``None`` (never saved, or unreadable: a fresh login follows)."""
    try:
        raw = vault.get(SCOPE, connection_id, SESSION_SECRET)
        if not raw:
            return None
        state = json.loads(raw)
        return state if isinstance(state, dict) else None
    except Exception as exc:  # a broken saved session must never stop a fetch
        log.warning("saved session of connection %s ignored: %s", connection_id, type(exc).__name__)
        return None


def save_session(vault: Any, connection_id: int, state: dict[str, Any]) -> None:
    vault.put(SCOPE, connection_id, SESSION_SECRET, json.dumps(state, separators=(",", ":")))


def drop_session(vault: Any, connection_id: int) -> None:
    vault.delete(SCOPE, connection_id, SESSION_SECRET)
