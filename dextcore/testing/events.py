"""What the core reported during a test: statuses, documents, challenges, alerts."""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

from dextcore.hookspecs import hookimpl

__all__ = ["AlertEvent", "ChallengeEvent", "EventLog", "StatusEvent"]


class StatusEvent(NamedTuple):
    """A ``status_changed`` event (compares equal to the plain tuple)."""

    connection_id: int
    old: Any
    new: Any
    reason: str


class ChallengeEvent(NamedTuple):
    """A ``challenge_raised`` event."""

    connection_id: int
    challenge: Any
    interactive: bool


class AlertEvent(NamedTuple):
    """An alert the core wanted to send (captured: never e-mailed)."""

    recipient: str
    subject: str
    body: str
    connection_id: int | None


class EventLog:
    """A plugin object recording the core's event hooks, registered on the test app.

    Hooks may fire on the reactor's thread or on the runner's store
    threads, so every list is appended under one lock; use
    :meth:`wait_for_challenge` to wait for a challenge from another thread.
    The ``alert`` hook answers ``True``: alerts count as delivered and no
    e-mail is ever attempted.
    """

    def __init__(self) -> None:
        self.statuses: list[StatusEvent] = []
        self.documents: list[Any] = []
        self.challenges: list[ChallengeEvent] = []
        self.alerts: list[AlertEvent] = []
        self._changed = threading.Condition()

    def _append(self, target: list[Any], item: Any) -> None:
        with self._changed:
            target.append(item)
            self._changed.notify_all()

    @hookimpl
    def status_changed(self, connection: Any, old: Any, new: Any, reason: str) -> None:
        self._append(self.statuses, StatusEvent(connection.id, old, new, reason))

    @hookimpl
    def document_collected(self, connection: Any, document: Any) -> None:
        self._append(self.documents, document)

    @hookimpl
    def challenge_raised(self, connection: Any, challenge: Any, interactive: bool) -> None:
        self._append(self.challenges, ChallengeEvent(connection.id, challenge, interactive))

    @hookimpl
    def alert(self, recipient: str, subject: str, body: str, connection: Any) -> bool:
        self._append(self.alerts, AlertEvent(recipient, subject, body, getattr(connection, "id", None)))
        return True

    def statuses_of(self, connection_id: int) -> list[Any]:
        """The statuses ``connection_id`` went through, in order."""
        with self._changed:
            return [e.new for e in self.statuses if e.connection_id == connection_id]

    def wait_for_challenge(self, connection_id: int, *, interactive: bool = True, timeout: float = 30.0,
                           after: int = 0) -> ChallengeEvent:
        """Block until the ``after+1``-th matching challenge of ``connection_id`` is raised.

        Raises :class:`TimeoutError` after ``timeout`` seconds.
        """

        def matching() -> list[ChallengeEvent]:
            return [c for c in self.challenges if c.connection_id == connection_id and c.interactive == interactive]

        with self._changed:
            if not self._changed.wait_for(lambda: len(matching()) > after, timeout):
                raise TimeoutError(f"connection {connection_id} raised no {'interactive ' if interactive else ''}"
                                   f"challenge within {timeout:g} s")
            return matching()[after]

    def __repr__(self) -> str:
        return (f"<EventLog statuses={len(self.statuses)} documents={len(self.documents)} "
                f"challenges={len(self.challenges)} alerts={len(self.alerts)}>")
