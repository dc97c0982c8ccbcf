"""The temporary folders of failed runs, kept to look at: only the last few (``prune``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

PREFIX = "inspect-station-tests-"
"""How the run's in-memory temporary folders are named (``conftest``)."""

KEEP = 3
"""How many kept folders stay, the newest (pytest keeps its own last three the same way)."""

SETTLED = 86400.0
"""Seconds without a change before a folder may be removed (a day): a younger one may belong to
another run still going (a run's folder changes when its workers start, not after)."""


def prune(base: Path, now: float, keep: int = KEEP, settled: float = SETTLED) -> list[Path]:
    """Remove this user's kept run folders under ``base`` beyond the ``keep`` newest, those
    unchanged for ``settled`` seconds only; the folders removed.

    A failed run keeps its folder in memory (``/dev/shm``) for whoever looks at the failure;
    without this, every failure of every run stayed there until the machine restarted.
    """
    mine = []
    for folder in base.glob(f"{PREFIX}*"):
        try:
            info = folder.lstat()
        except FileNotFoundError:
            continue
        if folder.is_dir() and not folder.is_symlink() and info.st_uid == os.getuid():
            mine.append((info.st_mtime, folder))
    mine.sort(reverse=True)
    removed = []
    for changed, folder in mine[keep:]:
        if now - changed >= settled:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
