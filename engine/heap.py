"""Give memory a process has freed back to the operating system.

glibc keeps what PyTorch and Python free inside the process's heaps, to reuse: a worker
that once trained a large candidate keeps that peak for good, and a search left running
for weeks creeps up to the largest job it ever ran, in every process (bench/soak.py).
``malloc_trim(0)`` hands every wholly free page of every heap back; it takes about a
millisecond, so a worker calls it after each job and a run after each retention pass.
Where the C library is not glibc, it does nothing.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # musl and other C libraries have no malloc_trim
        return None


def release_free_memory() -> None:
    """Return the heaps' free pages to the operating system (a no-op without glibc)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
