"""Durability of file-system changes, shared by the inbox and the vault."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["fsync_dir"]


def fsync_dir(directory: Path) -> None:
    """Make new names and renames in ``directory`` survive a power cut.

    A file's own fsync does not cover its directory entry; on POSIX the
    folder is flushed too. Elsewhere there is nothing to do.
    """
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
