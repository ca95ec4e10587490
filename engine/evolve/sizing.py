"""First graphs sized from the task (DESIGN §3.5): a parameter budget from the number of
training examples and the input/output sizes, depth from the sequence length."""

from __future__ import annotations

import math
from typing import Any

from openbrains.engine.evolve.random import SizeBounds
from openbrains.engine.tasks.base import DatasetTask


def _clamp(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def bounds_for(task: DatasetTask | Any, max_params: int | None = None) -> SizeBounds:
    """Size bounds for ``task``; ``max_params`` (a user setting) overrides the budget.

    About 20 parameters per training example keeps tiny data sets from being memorised by
    huge graphs, floored so XOR-sized tasks can still be solved and capped for laptops.
    """
    n = task.size_hint if hasattr(task, "size_hint") else len(task.train)
    budget = max_params or int(_clamp(20 * n, 2_000, 200_000))
    longest = max((s.time or 64) for s in task.inputs.values())
    width = 2 ** round(math.log2(_clamp(math.sqrt(budget) / 2, 8, 128)))
    nodes = int(_clamp(4 + math.log2(longest + 1), 4, 12))
    return SizeBounds(
        min_nodes=1, max_nodes=nodes, min_width=4, max_width=int(width), max_params=int(budget)
    )
