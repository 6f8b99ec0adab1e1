"""Answering a two-factor challenge from the sandbox mailbox, as a person would."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, TypeVar

from dextcore.testing.events import EventLog

__all__ = ["CodeAnswerer"]

T = TypeVar("T")
_SLICE = 0.2
"""Longest a blocking wait runs before checking for cancellation."""


class CodeAnswerer(threading.Thread):
    """A thread that reads the next code texted (or mailed) to ``to`` and
    submits it once the fetch of ``connection_id`` waits for it.

    It waits for two things, in any order: a new code in the sandbox
    mailbox, and the interactive ``challenge_raised`` event of the
    connection (the fetch has recorded its challenge and polls for the
    code). Then it calls :func:`dextcore.runner.submit_code`, exactly what
    ``dextcore 2fa submit`` does.

    :meth:`result` joins the thread and returns the submitted code, raising
    whatever went wrong (e.g. :class:`TimeoutError` when no code came).
    """

    def __init__(self, app: Any, events: EventLog, mailbox: Any, connection_id: int, to: str, *,
                 timeout: float = 30.0) -> None:
        super().__init__(name=f"dextcore-answer-code-{connection_id}", daemon=True)
        self.app = app
        self.events = events
        self.mailbox = mailbox
        self.connection_id = connection_id
        self.to = to
        self.timeout = timeout
        self.code: str | None = None
        self.error: BaseException | None = None
        # Only codes and challenges that come after this moment are answered.
        self._codes_before = mailbox.count(to)
        self._challenges_before = sum(1 for c in events.challenges
                                      if c.connection_id == connection_id and c.interactive)
        self._cancelled = threading.Event()

    def run(self) -> None:
        from dextcore.runner import submit_code

        deadline = time.monotonic() + self.timeout
        try:
            code = self._until(deadline, lambda t: self.mailbox.wait_for_code(self.to, timeout=t,
                                                                               after=self._codes_before))
            self._until(deadline, lambda t: self.events.wait_for_challenge(
                self.connection_id, timeout=t, after=self._challenges_before))
            submit_code(self.app, self.connection_id, code)
            self.code = code
        except BaseException as exc:  # kept for result(): a thread cannot raise into the test
            self.error = exc

    def _until(self, deadline: float, wait: Callable[[float], T]) -> T:
        """``wait(seconds)`` in short slices until it returns, the deadline passes or :meth:`cancel`."""
        while True:
            if self._cancelled.is_set():
                raise TimeoutError(f"answering the code of connection {self.connection_id} was cancelled")
            remaining = deadline - time.monotonic()
            try:
                return wait(max(0.0, min(_SLICE, remaining)))
            except TimeoutError:
                if remaining <= _SLICE:
                    raise TimeoutError(f"no code for {self.to} and connection {self.connection_id} within "
                                       f"{self.timeout:g} s") from None

    def cancel(self) -> None:
        """Stop waiting (the fixture does this at teardown)."""
        self._cancelled.set()

    def result(self, timeout: float | None = None) -> str:
        """The code submitted; raises the thread's error, or :class:`TimeoutError` if still running."""
        self.join(self.timeout if timeout is None else timeout)
        if self.is_alive():
            raise TimeoutError(f"still waiting to answer the code of connection {self.connection_id}")
        if self.error is not None:
            raise self.error
        assert self.code is not None
        return self.code

    def __repr__(self) -> str:
        state = "answered" if self.code else ("failed" if self.error else "waiting")
        return f"<CodeAnswerer connection={self.connection_id} to={self.to!r} {state}>"
