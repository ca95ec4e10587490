"""Keep training passive (DESIGN §3.9): nice the process, one torch thread, and a duty
cycle that sleeps between steps so average CPU use stays under the cap."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1


class DutyCycle:
    """Sleep after steps so this process uses at most ``share`` of one core on average.

    Measured, not assumed: it compares the process's CPU time with wall time over a
    sliding window and sleeps off any excess. ``share=None`` means no cap.
    """

    WINDOW_S = 2.0

    def __init__(self, share: float | None) -> None:
        self.share = share if share and share > 0 else None
        self._reset()

    def _reset(self) -> None:
        self._wall0 = time.monotonic()
        self._cpu0 = time.process_time()

    def tick(self) -> None:
        if self.share is None:
            return
        cpu = time.process_time() - self._cpu0
        wall = time.monotonic() - self._wall0
        owed = cpu / self.share - wall
        if owed > 0:
            time.sleep(owed)
        if wall > self.WINDOW_S:
            self._reset()

    def idle(self) -> None:
        """Waiting for work is not CPU use: restart the window so it is not credited."""
        self._reset()


def worker_share(cpu_cap_pct: float | None, workers: int) -> float | None:
    """Each worker's share of one core when ``cpu_cap_pct`` (of one core) is split evenly."""
    if not cpu_cap_pct or cpu_cap_pct <= 0:
        return None
    return cpu_cap_pct / 100.0 / max(1, workers)


def make_passive(niceness: int = 10, threads: int = 1) -> None:
    """Lower this process's priority and keep torch to ``threads`` threads."""
    import torch

    try:
        os.nice(niceness)
    except OSError:
        pass
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set in this process


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (a killed run leaves no workers)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass
