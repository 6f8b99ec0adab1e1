"""Assemble the plugin of docs/tutorial.md from the page's own code blocks.

A file of the plugin is a fenced code block preceded by a marker line::

    <!-- file: src/dextcore_paperbox/pages.py -->
    ```python
    ...
    ```

Only blank lines may separate the marker from its block. Run as a script
to write the plugin somewhere to look at it::

    python -m tests.tutorial.assemble /tmp/dextcore-paperbox
"""

from __future__ import annotations

import re
import sys
from pathlib import Path, PurePosixPath

__all__ = ["TUTORIAL", "TutorialError", "extract_files", "write_plugin"]

TUTORIAL = Path(__file__).resolve().parents[2] / "docs" / "tutorial.md"
_MARKER = re.compile(r"^<!--\s*file:\s*(?P<path>\S+)\s*-->\s*$")
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})[\w+-]*\s*$")


class TutorialError(ValueError):
    """The tutorial's markers or code blocks are malformed (the message says where)."""


def _checked_path(raw: str, line: int) -> str:
    path = PurePosixPath(raw)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise TutorialError(f"line {line}: the file path {raw!r} must be relative and stay inside the plugin")
    return str(path)


def extract_files(markdown: str) -> dict[str, str]:
    """``{relative path: content}`` of every marked code block, in page order."""
    lines = markdown.splitlines()
    files: dict[str, str] = {}
    index = 0
    while index < len(lines):
        marker = _MARKER.match(lines[index])
        index += 1
        if marker is None:
            continue
        at = index
        path = _checked_path(marker["path"], at)
        if path in files:
            raise TutorialError(f"line {at}: {path} appears twice")
        while index < len(lines) and not lines[index].strip():
            index += 1
        opening = _FENCE.match(lines[index]) if index < len(lines) else None
        if opening is None:
            raise TutorialError(f"line {at}: the marker for {path} is not followed by a fenced code block")
        fence = opening["fence"]
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].strip() != fence:
            body.append(lines[index])
            index += 1
        if index == len(lines):
            raise TutorialError(f"line {at}: the code block of {path} is never closed")
        index += 1
        files[path] = "\n".join(body) + "\n"
    return files


def write_plugin(destination: Path, markdown: str | None = None) -> dict[str, str]:
    """Write the tutorial's files under ``destination``; returns them."""
    files = extract_files(markdown if markdown is not None else TUTORIAL.read_text(encoding="utf-8"))
    for path, content in files.items():
        target = destination / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return files


if __name__ == "__main__":
    written = write_plugin(Path(sys.argv[1]))
    print(f"{len(written)} files written to {sys.argv[1]}")
