"""The fake phone and mail box that receives the portals' one-time codes."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Callable

import attrs

__all__ = ["Mailbox", "Message"]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@attrs.define
class Message:
    """One SMS or e-mail delivered to the sandbox mailbox.

    The code is part of the fake outside world (what a person would read
    on their phone), hence visible here and in the admin view.
    """

    to: str
    channel: str  # "sms" | "email"
    text: str
    code: str | None = None
    at: dt.datetime = attrs.field(factory=_utcnow)


class Mailbox:
    """Thread-safe store of delivered messages, with blocking waits for codes.

    Portals call :meth:`deliver` on the server thread; tests and the demo
    call :meth:`wait_for_code` on theirs, which sleeps on a condition
    variable until a delivery wakes it (no polling).
    """

    def __init__(self, *, now: Callable[[], dt.datetime] = _utcnow) -> None:
        self._cond = threading.Condition()
        self._messages: list[Message] = []
        self._now = now

    def deliver(self, to: str, text: str, *, channel: str = "sms", code: str | None = None) -> None:
        """Deliver a message to address ``to`` (a phone number or e-mail address)."""
        if channel not in ("sms", "email"):
            raise ValueError(f"unknown channel {channel!r}")
        with self._cond:
            self._messages.append(Message(to=to, channel=channel, text=text, code=code, at=self._now()))
            self._cond.notify_all()

    def messages(self, to: str | None = None) -> list[Message]:
        """Messages delivered so far, oldest first; only those for ``to`` if given."""
        with self._cond:
            return [m for m in self._messages if to is None or m.to == to]

    def count(self, to: str | None = None) -> int:
        """How many messages ``to`` (or anyone) received: pass it as ``after`` to wait for the next."""
        return len(self.messages(to))

    def last_code(self, to: str) -> str | None:
        """The code of the newest message for ``to`` that carries one."""
        with self._cond:
            for message in reversed(self._messages):
                if message.to == to and message.code is not None:
                    return message.code
        return None

    def wait_for_code(self, to: str, *, timeout: float = 10, after: int = 0) -> str:
        """Block until ``to`` holds a code-bearing message numbered above ``after``.

        Messages for ``to`` are numbered 1, 2, ... in delivery order; pass
        ``after=mailbox.count(to)`` taken before triggering a send to get
        only a code sent afterwards. Returns the newest such code; raises
        :class:`TimeoutError` after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout

        def newest() -> str | None:
            mine = [m for m in self._messages if m.to == to][after:]
            codes = [m.code for m in mine if m.code is not None]
            return codes[-1] if codes else None

        with self._cond:
            while (code := newest()) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no code for {to} within {timeout}s")
                self._cond.wait(remaining)
            return code

    def clear(self) -> None:
        """Forget every message."""
        with self._cond:
            self._messages.clear()

    def __repr__(self) -> str:
        return f"Mailbox({len(self._messages)} messages)"
