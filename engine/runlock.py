"""The lock of a run folder (``run.lock``): one process owns a run at a time, and the lock
file says who (its pid) and where it listens (engine.control), so a window that opens the
run attaches to the running search instead of starting a second one.

An ``flock`` on the file is the lock: the kernel drops it when the owner ends, however it
ends, so a lock file left behind by a killed process holds no lock.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from openbrains.engine.errors import OpenBrainsError

LOCK_NAME = "run.lock"


@dataclass
class LockOwner:
    """Who holds a run folder's lock: a process id (None if it wrote none yet) and where it
    listens for commands (None when it does not, e.g. `openbrains record`)."""

    pid: int | None
    control: str | None = None


class RunLocked(OpenBrainsError):
    """Another process owns the run folder."""

    def __init__(self, run_dir: Path, owner: LockOwner) -> None:
        super().__init__(
            f"{run_dir} is in use by another openbrains process (pid {owner.pid or '?'}); "
            "stop it first or choose another --run-dir"
        )
        self.owner = owner


def _parse(data: bytes) -> LockOwner:
    lines = data.decode(errors="replace").splitlines()
    pid = int(lines[0]) if lines and lines[0].strip().isdigit() else None
    control = next((x.split(" ", 1)[1] for x in lines[1:] if x.startswith("control ")), None)
    return LockOwner(pid, control)


def take(run_dir: Path) -> int:
    """Lock ``run_dir`` for this process; returns the lock's file descriptor (closing it
    releases the lock). Raises ``RunLocked`` when another process holds it."""
    fd = os.open(Path(run_dir) / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        owner = _parse(os.pread(fd, 4096, 0))
        os.close(fd)
        raise RunLocked(Path(run_dir), owner) from None
    _write(fd, f"{os.getpid()}\n")
    return fd


def announce(fd: int, control: str) -> None:
    """Write where the owner listens into the lock file it holds."""
    _write(fd, f"{os.getpid()}\ncontrol {control}\n")


def _write(fd: int, text: str) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode(), 0)


def owner(run_dir: Path) -> LockOwner | None:
    """The process that holds ``run_dir``'s lock now, or None when nobody does."""
    try:
        fd = os.open(Path(run_dir) / LOCK_NAME, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _parse(os.pread(fd, 4096, 0))
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
