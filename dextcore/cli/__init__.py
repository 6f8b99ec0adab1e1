"""The ``dextcore`` command.

Each area of the product adds its commands from a module of this package
with a ``register(sub, ctx)`` function. Commands print readable tables, or
stable JSON with ``--json``; a bad argument or a refused operation prints
one line and exits 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from typing import Any, Callable, Sequence

__all__ = ["CliError", "Context", "main"]

#: Command modules, in the order their commands appear in ``--help``.
AREAS = ("connections", "fetch", "accounting", "sandbox", "demo", "scaffold")


class CliError(Exception):
    """An error to show as one line (exit status 2)."""


class Context:
    """What commands share: the lazily opened :class:`~dextcore.Dextcore`
    and output helpers."""

    def __init__(self) -> None:
        self._app: Any = None
        self.out = sys.stdout

    def app(self) -> Any:
        if self._app is None:
            from dextcore.api import Dextcore

            self._app = Dextcore.open()
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()

    def print(self, text: str = "") -> None:
        print(text, file=self.out)

    def json(self, value: Any) -> None:
        print(json.dumps(value, indent=2, sort_keys=True, default=str), file=self.out)

    def table(self, rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]], *, empty: str = "(none)") -> None:
        """Print ``rows`` under ``columns`` ((key, heading) pairs)."""
        if not rows:
            self.print(empty)
            return
        cells = [[_cell(r.get(k)) for k, _ in columns] for r in rows]
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (_, h) in enumerate(columns)]
        self.print("  ".join(h.ljust(w) for (_, h), w in zip(columns, widths)).rstrip())
        self.print("  ".join("-" * w for w in widths))
        for c in cells:
            self.print("  ".join(v.ljust(w) for v, w in zip(c, widths)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def build_parser(ctx: Context) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dextcore",
        description="Fetch supplier invoices on a schedule and hand them to your inbox.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for area in AREAS:
        try:
            module = importlib.import_module(f"dextcore.cli.{area}")
        except ModuleNotFoundError as exc:
            if exc.name != f"dextcore.cli.{area}":
                raise
            continue
        module.register(sub, ctx)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    ctx = Context()
    parser = build_parser(ctx)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    handler: Callable[[argparse.Namespace], int | None] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args) or 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if not _is_user_error(exc):
            raise
        print(f"dextcore: error: {exc}", file=sys.stderr)
        return 2
    finally:
        ctx.close()


def _is_user_error(exc: Exception) -> bool:
    """Errors a person can act on are shown as one line; bugs keep their traceback."""
    from dextcore.plugins import UnknownConnector

    if isinstance(exc, (CliError, UnknownConnector, ValueError, PermissionError, LookupError)):
        return True
    for module, name in (("dextcore.vault", "VaultError"), ("dextcore.inbox", "InvalidDocument")):
        cls = getattr(sys.modules.get(module), name, None)
        if cls is not None and isinstance(exc, cls):
            return True
    return type(exc).__module__.startswith("dextcore") and getattr(exc, "user_facing", False)
