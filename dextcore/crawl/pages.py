"""Keeping the pages a plugin could not understand, for its maintainer.

A saved page is the evidence of a site change ("Plugin broken"). Before it
is written, every secret of the connection (password, TOTP secret, other
secret fields) and the username are replaced by ``[scrubbed]``: saved pages
are shared with maintainers, credentials never are.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Iterable

from scrapy.http import Response

__all__ = ["PageSaver", "scrub"]

SCRUBBED = "[scrubbed]"


def scrub(text: str, values: Iterable[str]) -> str:
    """``text`` with each of ``values`` (longest first) replaced by ``[scrubbed]``."""
    for value in sorted({v for v in values if v}, key=len, reverse=True):
        text = text.replace(value, SCRUBBED)
    return text


class PageSaver:
    """Writes pages under ``<pages_dir>/<connection id>/``."""

    def __init__(self, pages_dir: Path, connection_id: int) -> None:
        self.directory = Path(pages_dir) / str(connection_id)

    def save(self, response: Response, *, reason: str, secrets: Iterable[str] = ()) -> str:
        """Write ``response`` (head comment: URL, status, reason) and return the file path."""
        values = list(secrets)
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        slug = re.sub(r"[^a-z0-9]+", "-", reason.lower()).strip("-")[:40] or "page"
        try:
            body = response.text  # type: ignore[attr-defined]
        except AttributeError:
            body = response.body.decode("utf-8", "replace")
        def comment(text: str) -> str:
            return scrub(text, values).replace("--", "- -")

        header = (f"<!-- dextcore saved page\n     url: {comment(response.url)}\n"
                  f"     status: {response.status}\n     reason: {comment(reason)}\n-->\n")
        path = self.directory / f"{stamp}-{slug}.html"
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(header + scrub(body, values))
        os.replace(tmp, path)
        return str(path)

