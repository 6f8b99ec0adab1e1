"""Controllable time for the fake portals (session expiry, code validity, dates of documents)."""

from __future__ import annotations

import datetime as dt
import threading

__all__ = ["Clock"]


class Clock:
    """Real UTC time by default; can be frozen at an instant and advanced.

    Thread-safe: portals read it on the server thread while tests move it on
    the main thread.
    """

    def __init__(self, at: dt.datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = dt.timedelta(0)
        self._frozen: dt.datetime | None = None
        if at is not None:
            self.freeze(at)

    def now(self) -> dt.datetime:
        """The current instant (timezone-aware UTC)."""
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return dt.datetime.now(dt.timezone.utc) + self._offset

    def today(self) -> dt.date:
        """The current UTC date."""
        return self.now().date()

    def advance(self, delta: dt.timedelta) -> None:
        """Move time forward (or back with a negative delta), frozen or not."""
        with self._lock:
            if self._frozen is not None:
                self._frozen += delta
            else:
                self._offset += delta

    def freeze(self, at: dt.datetime | None = None) -> None:
        """Stop time at ``at`` (default: now). Naive datetimes are taken as UTC."""
        instant = at if at is not None else self.now()
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=dt.timezone.utc)
        with self._lock:
            self._frozen = instant.astimezone(dt.timezone.utc)

    def unfreeze(self) -> None:
        """Let time run again from the frozen instant."""
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - dt.datetime.now(dt.timezone.utc)
                self._frozen = None

    def __repr__(self) -> str:
        return f"Clock(now={self.now().isoformat()}, frozen={self._frozen is not None})"
