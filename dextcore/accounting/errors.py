"""Errors of the accounting service; each message tells a person what to do."""

from __future__ import annotations

__all__ = ["AccountingError", "ConnectionExpired", "ItemNotReady", "NotAdmin", "NotConnected"]


class AccountingError(Exception):
    """Base of the accounting errors (shown as one line by the CLI)."""

    user_facing = True


class NotAdmin(AccountingError, PermissionError):
    """Only an administrator may connect, reconnect, refresh, change or merge."""

    def __init__(self, user: str, action: str) -> None:
        super().__init__(f"{user} is not an administrator: only an admin can {action} an accounting connection "
                         f"(ask an administrator; the role is granted with `dextcore users {user} --role admin`)")
        self.user, self.action = user, action


class NotConnected(AccountingError, LookupError):
    """No accounting connection (or not the one asked for)."""


class ConnectionExpired(AccountingError):
    """The accounting connection expired: an admin must reconnect; nothing was lost."""

    def __init__(self, connection_id: int, reason: str = "") -> None:
        text = "connection expired — reconnect"
        super().__init__(f"{text} (accounting connection {connection_id}{': ' + reason if reason else ''}); "
                         "an administrator runs `dextcore accounting reconnect`")
        self.connection_id, self.reason = connection_id, reason


class ItemNotReady(AccountingError, ValueError):
    """An item misses details needed to publish it."""

    def __init__(self, item_id: int, missing: list[str]) -> None:
        super().__init__(f"item {item_id} cannot be published yet; missing: {', '.join(missing)}")
        self.item_id, self.missing = item_id, missing
