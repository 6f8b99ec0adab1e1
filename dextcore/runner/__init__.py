"""The bundled runner: turns connections into collected documents.

Synchronous entry points for the CLI and embedding apps (each drives the
process's one asyncio reactor, see :mod:`dextcore.runner.reactor`)::

    from dextcore.runner import fetch_one, run_due, submit_code

    result = fetch_one(app, 12, force=True, wait_for_code=300)
    submit_code(app, 12, "123456")        # from another process

Async code uses :class:`Runner` directly.
"""

from __future__ import annotations

from typing import Any

from dextcore.runner.flow import RunOptions
from dextcore.runner.orchestrator import FetchResult, Runner
from dextcore.runner.progress import Progress, progress_for
from dextcore.runner.runs import RunSummary, recent_runs
from dextcore.runner.twofactor import NoPendingChallenge, pending_challenge
from dextcore.runner.twofactor import submit_code as _submit_code

__all__ = [
    "FetchResult",
    "NoPendingChallenge",
    "Progress",
    "RunOptions",
    "RunSummary",
    "Runner",
    "fetch_one",
    "pending_challenge",
    "progress_for",
    "recent_runs",
    "run_due",
    "serve_forever",
    "submit_code",
]


class NotRetryable(ValueError):
    """An unforced fetch of a connection whose status must not be retried on its own."""

    user_facing = True


def fetch_one(app: Any, connection_id: int, *, force: bool = False, wait_for_code: float | None = None,
              full: bool = False, progress: Progress | None = None, **runner_options: Any) -> FetchResult:
    """Fetch one connection now, in this process (the unit a distributed queue runs).

    Without ``force`` it runs as the scheduler would (unattended) and
    refuses a connection whose status is not retried automatically
    (e.g. "Incorrect login credentials"). ``force`` runs it whatever its
    status; with ``wait_for_code`` (seconds) the run is interactive and
    waits that long for a 2FA code submitted with :func:`submit_code`.
    SIGINT/SIGTERM stop it cleanly (documents in flight finish).
    """
    from dextcore.runner.daemon import stop_on_signals
    from dextcore.runner.reactor import run

    connection = app.connections.get(connection_id)
    if not force and not connection.status.retryable:
        raise NotRetryable(
            f"connection {connection_id} is {connection.status.label!r}, which is not retried automatically; "
            f"fix it and use --force")

    async def main() -> FetchResult:
        runner = Runner(app, progress=progress, **runner_options)
        with stop_on_signals(runner):
            runner.progress.planned(1)
            try:
                return await runner.fetch(connection_id, trigger="forced" if force else "scheduled",
                                          wait_for_code=wait_for_code if force else None, force_full=full)
            finally:
                runner.progress.close()
                runner.close()

    return run(main())


def run_due(app: Any, *, progress: Progress | None = None, **runner_options: Any) -> list[FetchResult]:
    """Fetch every connection due now, then return."""
    return serve_forever(app, once=True, progress=progress, **runner_options)


def serve_forever(app: Any, *, poll: float = 30.0, once: bool = False, progress: Progress | None = None,
                  **runner_options: Any) -> list[FetchResult]:
    """The scheduler daemon (``dextcore run``); returns after SIGINT/SIGTERM (or when idle with ``once``)."""
    from dextcore.runner.daemon import serve, stop_on_signals
    from dextcore.runner.reactor import run

    async def main() -> list[FetchResult]:
        runner = Runner(app, progress=progress, **runner_options)
        with stop_on_signals(runner):
            try:
                return await serve(runner, poll=poll, once=once)
            finally:
                runner.progress.close()
                runner.close()

    return run(main())


def submit_code(app: Any, connection_id: int, code: str) -> int:
    """Give the waiting fetch of ``connection_id`` its 2FA code (any process); returns the challenge id."""
    app.connections.get(connection_id)
    return _submit_code(app.store, app.vault, connection_id, code)
