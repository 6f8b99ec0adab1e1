"""One asyncio Twisted reactor per process, installed once and kept.

A Twisted reactor cannot be restarted, and scrapy-playwright needs the
asyncio one. Instead of ``reactor.run()`` (which can happen once), the
reactor is marked running once and its asyncio loop is driven with
``run_until_complete`` as often as needed: the CLI, the daemon, tests and
embedding apps all call :func:`run` and get coroutines executed with Scrapy
fully working.
"""

from __future__ import annotations

import asyncio
import atexit
import sys
import threading
from typing import Any, Coroutine, TypeVar

from scrapy.utils.reactor import install_reactor

from dextcore.crawl.offline import make_tldextract_offline

__all__ = ["ensure_reactor", "run", "shutdown"]

T = TypeVar("T")
ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

_loop: asyncio.AbstractEventLoop | None = None


def ensure_reactor() -> asyncio.AbstractEventLoop:
    """Install the asyncio reactor (once) and return the loop it runs on."""
    global _loop
    if _loop is not None:
        return _loop
    make_tldextract_offline()
    if "twisted.internet.reactor" in sys.modules:
        from twisted.internet import reactor

        if type(reactor).__name__ != "AsyncioSelectorReactor":
            raise RuntimeError(
                f"a {type(reactor).__name__} is already installed; dextcore needs {ASYNCIO_REACTOR} "
                "(install it before importing twisted.internet.reactor)")
    else:
        install_reactor(ASYNCIO_REACTOR)
    from twisted.internet import reactor

    loop = reactor._asyncioEventloop  # type: ignore[attr-defined]  # the loop the reactor drives
    asyncio.set_event_loop(loop)
    if not reactor.running:  # type: ignore[attr-defined]
        # Signal handling is the runner's (SIGTERM drains work); Twisted's own would stop the reactor.
        reactor.startRunning(installSignalHandlers=False)  # type: ignore[attr-defined]
        _at_interpreter_exit(shutdown)
    _loop = loop
    return loop


def _at_interpreter_exit(func: Any) -> None:
    """Run ``func`` when the interpreter exits, *before* it joins non-daemon threads.

    Twisted's thread pool (DNS lookups) has non-daemon threads that stop
    only with the reactor; a plain ``atexit`` hook runs after the join, so
    the process would hang on exit. ``threading._register_atexit`` is what
    ``concurrent.futures`` uses for the same reason.
    """
    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        register(func)
    else:  # pragma: no cover - other interpreters
        atexit.register(func)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on the reactor's loop (not re-entrant)."""
    loop = ensure_reactor()
    return loop.run_until_complete(coro)


def shutdown() -> None:
    """Stop the reactor (its thread pool included). The process cannot crawl afterwards."""
    global _loop
    if _loop is None:
        return
    from twisted.internet import reactor

    if reactor.running and not _loop.is_running():  # type: ignore[attr-defined]
        reactor.stop()  # type: ignore[attr-defined]
        _loop.run_forever()  # returns once Twisted's shutdown triggers ran
    _loop = None
