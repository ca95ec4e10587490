"""A full disk is a stop, not a crash: how much room a run folder has, and what to say.

SQLite commits each individual in one transaction, so a full disk never damages the
archive; what it must not do is end a run in a traceback, or leave the user guessing on
restart. A run warns once when its folder's disk runs low (``LOW_SPACE_BYTES``), stops by
itself a little before it is full (``RESERVE_BYTES``, so the last commit and the WAL
checkpoint still fit), and a write that fails for lack of room anyway is reported the same
way. Run again once there is room: the run resumes from the archive.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openbrains.engine.errors import OpenBrainsError

MB = 1024 * 1024
LOW_SPACE_BYTES = 256 * MB  # below this, warn once (an event and one line)
RESERVE_BYTES = 4 * MB  # below this, stop before SQLite runs out of room mid-commit
_SQLITE_FULL = 13  # sqlite3 result codes (the low byte of an extended code)
_SQLITE_IOERR = 10


class DiskFullError(OpenBrainsError):
    """The disk of a run folder is full; the archive holds everything committed so far."""

    def __init__(self, folder: Path | str, free: int, kept: int | None) -> None:
        tail = f"; the archive is intact, {kept} individuals kept" if kept is not None else ""
        super().__init__(
            f"disk full: {free // MB} MB free in {folder}{tail}; make room and run again to resume"
        )
        self.folder, self.free, self.kept = Path(folder), free, kept


def free_bytes(folder: Path | str) -> int:
    """Bytes an unprivileged process may still write on ``folder``'s file system."""
    path = Path(folder)
    while not path.exists() and path != path.parent:  # a run folder not made yet
        path = path.parent
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def is_disk_full(exc: BaseException, folder: Path | str | None = None) -> bool:
    """Whether ``exc`` is a write that failed for lack of room (SQLite or the OS). An I/O
    error counts when the disk is in fact (nearly) full: SQLite reports some short writes
    of its journal that way."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code == _SQLITE_FULL or "database or disk is full" in str(exc):
        return True
    io_error = code == _SQLITE_IOERR or "disk I/O error" in str(exc)
    return io_error and folder is not None and free_bytes(folder) < RESERVE_BYTES


class SpaceWatch:
    """Looks at a run folder's free space between births: warns once when it runs low
    (again after it recovered), and raises ``DiskFullError`` when it is nearly gone."""

    def __init__(self, folder: Path, on_low: Callable[[dict[str, Any]], None]) -> None:
        self.folder = Path(folder)
        self.on_low = on_low
        self.warned = False

    def check(self, kept: Callable[[], int]) -> None:
        free = free_bytes(self.folder)
        if free < RESERVE_BYTES:
            raise DiskFullError(self.folder, free, kept())
        if free < LOW_SPACE_BYTES and not self.warned:
            self.warned = True
            self.on_low(
                {
                    "free_mb": free // MB,
                    "folder": str(self.folder),
                    "stop_mb": RESERVE_BYTES // MB,
                    "message": f"low disk space: {free // MB} MB free in {self.folder}; the "
                    f"run stops cleanly below {RESERVE_BYTES // MB} MB",
                }
            )
        elif free >= 2 * LOW_SPACE_BYTES:
            self.warned = False
