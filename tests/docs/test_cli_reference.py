"""docs/cli.md is generated from the CLI itself and must be current."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "docs" / "gen_cli.py"
CLI_MD = REPO / "docs" / "cli.md"


def _generator():
    spec = importlib.util.spec_from_file_location("dextcore_docs_gen_cli", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_up_to_date():
    expected = _generator().render()
    assert CLI_MD.read_text(encoding="utf-8") == expected, (
        "docs/cli.md is out of date with the CLI: run `python docs/gen_cli.py` and commit the result"
    )


def test_cli_reference_has_a_section_per_command():
    from dextcore.cli import Context, build_parser

    gen = _generator()
    commands = [" ".join(path) for path, _ in gen._walk(build_parser(Context())) if path]
    assert "connect" in commands and "vault rotate" in commands
    headings = set(re.findall(r"^## `dextcore ?(.*)`$", CLI_MD.read_text(encoding="utf-8"), flags=re.M))
    missing = [c for c in commands if c not in headings]
    assert not missing, f"commands without a section in docs/cli.md: {missing}"
