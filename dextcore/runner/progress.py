"""Progress of fetches: a live line on a terminal, quiet lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from dextcore.runner.orchestrator import FetchResult

__all__ = ["LineProgress", "Progress", "SilentProgress", "TerminalProgress", "progress_for"]


class Progress:
    """Receives events from the runner; the base class ignores them."""

    def planned(self, count: int) -> None: ...

    def started(self, connection_id: int, connector: str) -> None: ...

    def document(self, connection_id: int, new: bool) -> None: ...

    def finished(self, result: FetchResult) -> None: ...

    def close(self) -> None: ...


SilentProgress = Progress


class _Counts(Progress):
    def __init__(self) -> None:
        self.total = 0
        self.running = 0
        self.done = 0
        self.documents = 0
        self.errors = 0

    def planned(self, count: int) -> None:
        self.total += count

    def started(self, connection_id: int, connector: str) -> None:
        self.running += 1

    def document(self, connection_id: int, new: bool) -> None:
        if new:
            self.documents += 1

    def finished(self, result: FetchResult) -> None:
        self.running = max(0, self.running - 1)
        self.done += 1
        if result.status.needs_attention or result.status.value in ("plugin_broken", "portal_unavailable"):
            self.errors += 1


class LineProgress(_Counts):
    """One line per finished connection, for logs and pipes (no carriage returns)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__()
        self.stream = stream or sys.stdout

    def finished(self, result: FetchResult) -> None:
        super().finished(result)
        print(f"connection {result.connection_id} ({result.connector}): {result.status.label}"
              f" — {result.documents_new} new, {result.documents_seen} listed", file=self.stream, flush=True)


class TerminalProgress(_Counts):
    """A single live line: connections done, running, documents collected, errors."""

    def __init__(self, stream: IO[str] | None = None, *, interval: float = 0.2) -> None:
        super().__init__()
        self.stream = stream or sys.stderr
        self.interval = interval
        self._last = 0.0
        self._width = 0

    def _render(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        total = f"/{self.total}" if self.total else ""
        line = (f"connections {self.done}{total} done, {self.running} running · "
                f"{self.documents} documents · {self.errors} needing attention")
        pad = max(0, self._width - len(line))
        self._width = len(line)
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()

    def started(self, connection_id: int, connector: str) -> None:
        super().started(connection_id, connector)
        self._render()

    def document(self, connection_id: int, new: bool) -> None:
        super().document(connection_id, new)
        self._render()

    def finished(self, result: FetchResult) -> None:
        super().finished(result)
        self._render(force=True)

    def close(self) -> None:
        if self._width:
            self._render(force=True)
            self.stream.write("\n")
            self.stream.flush()


def progress_for(stream: IO[str] | None = None, *, quiet: bool = False) -> Progress:
    """A live line on a terminal, line-oriented output otherwise, nothing when ``quiet``."""
    if quiet:
        return Progress()
    stream = stream or sys.stderr
    isatty = getattr(stream, "isatty", lambda: False)
    return TerminalProgress(stream) if isatty() else LineProgress(stream)
