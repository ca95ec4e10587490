"""Freed memory goes back to the operating system when a worker asks (engine.heap)."""

from __future__ import annotations

import sys

import psutil
import pytest
import torch

from openbrains.engine.heap import release_free_memory

MB = 1024 * 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_tensors_leave_the_process_after_a_release() -> None:
    """The pattern of a worker after a large candidate: many tensors freed below one that
    is kept. glibc keeps the freed pages (the kept tensor pins the heap's top); the release
    returns them."""
    me = psutil.Process()
    warm = torch.ones(8 * MB // 4)  # freeing an 8 MB block lifts glibc's mmap threshold,
    del warm  # so the 1 MB tensors below come from the heap, as a training step's do
    many = [torch.ones(MB // 4) for _ in range(150)]
    kept = torch.ones(MB // 4)
    del many
    before = me.memory_info().rss
    release_free_memory()
    after = me.memory_info().rss
    assert kept.sum() > 0
    assert before - after > 100 * MB, (before / MB, after / MB)
