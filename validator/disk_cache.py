"""A per-user cache folder for work that is the same on every process start (start-up cost, issue 16).

Only a folder the current user owns and nobody else may write to is used: what is read back from it (Lark's
pickled parser tables, markers of profiles already checked against their schema) is trusted like the user's own
files, never like a shared temporary folder. Without such a folder, nothing is cached and nothing fails.
"""

from __future__ import annotations

import os
import stat
from functools import lru_cache
from pathlib import Path

CACHE_VARIABLE = "MEDVAL_CACHE_DIR"  # "" turns the cache off


@lru_cache(maxsize=1)
def cache_dir() -> Path | None:
    """The user's medval cache folder, created private on first use; None when there is no safe one."""
    configured = os.environ.get(CACHE_VARIABLE)
    if configured == "":
        return None
    base = Path(configured) if configured else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "medval"
    try:
        base.mkdir(mode=stat.S_IRWXU, parents=True, exist_ok=True)
        info = base.stat()
    except (OSError, RuntimeError):  # read-only home, no home at all
        return None
    private = stat.S_ISDIR(info.st_mode) and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    return base if private and info.st_uid == os.getuid() else None


def cache_file(name: str) -> Path | None:
    folder = cache_dir()
    return folder / name if folder is not None else None
