"""Commands the prose pages tell people to run exist in the CLI.

Scans inline code (`dextcore list --json`) and shell blocks of every page
but the generated CLI reference, and checks each ``dextcore COMMAND
[SUBCOMMAND]`` against the parser.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from dextcore.cli import Context, build_parser

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if p.name != "cli.md")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _invocations(text: str) -> list[str]:
    found = re.findall(r"`dextcore ([^`\n]+)`", text)
    for block in re.findall(r"```(?:sh|bash|console)\n(.*?)```", text, flags=re.S):
        found += re.findall(r"^(?:\$ )?dextcore ([^\n#]+)", block, flags=re.M)
    return found


def _check(invocation: str, root: argparse.ArgumentParser) -> str | None:
    tokens = [t for t in invocation.split() if not t.startswith("-")]
    parser, path = root, []
    for token in tokens:
        choices = _subparsers(parser)
        if not choices:
            return None  # a leaf command: the rest are its arguments
        if token not in choices:
            return f"`dextcore {' '.join([*path, token])}` is not a command"
        parser, path = choices[token], [*path, token]
    return None


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_pages_name_only_real_commands(page):
    root = build_parser(Context())
    problems = sorted({p for inv in _invocations(page.read_text(encoding="utf-8")) if (p := _check(inv, root))})
    assert not problems, f"{page.name}: " + "; ".join(problems)
