"""A meter: the numbers a brain emits, summarised for a level widget and for tests.

A live run produces one output tensor per chunk; what a person wants to see is how big it
is now, how it moves, and whether it ever blew up. The meter keeps the latest values, a
running mean/min/max over everything it saw, a short history of per-write levels, and how
many values were not finite (a NaN in a live brain is a bug worth showing).
"""

from __future__ import annotations

import math
import threading
from collections import deque
from typing import Any

import numpy as np

from openbrains.nodes.sinks import SinkBase, to_numpy


class MeterSink(SinkBase):
    """Values in (a number, an array, a tensor); statistics out.

    ``latest``: the last write as a float64 array. ``level``: its mean (one number a meter
    can draw). ``history``: the last ``history`` levels, oldest first. ``mean``/``min``/
    ``max``: over every finite value written so far; ``values``: how many that is;
    ``nonfinite``: NaN/inf values seen (left out of the statistics).
    """

    def __init__(self, history: int = 256) -> None:
        super().__init__()
        if history < 1:
            raise ValueError(f"history must be >= 1, got {history}")
        self.history_len = history
        self._history: deque[float] = deque(maxlen=history)
        self._latest: np.ndarray | None = None
        self._sum = 0.0
        self._min = math.inf
        self._max = -math.inf
        self.values = 0
        self.nonfinite = 0
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"meter ({self.count} writes, level {self.level:.4g})"

    def write(self, value: Any) -> None:
        a = np.asarray(to_numpy(value), dtype=np.float64).reshape(-1)
        finite = a[np.isfinite(a)]
        with self._lock:
            self.count += 1
            self._latest = a
            self.nonfinite += int(a.size - finite.size)
            if finite.size:
                self.values += int(finite.size)
                self._sum += float(finite.sum())
                self._min = min(self._min, float(finite.min()))
                self._max = max(self._max, float(finite.max()))
                self._history.append(float(finite.mean()))
            else:
                self._history.append(math.nan)

    @property
    def latest(self) -> np.ndarray | None:
        with self._lock:
            return None if self._latest is None else self._latest.copy()

    @property
    def level(self) -> float:
        with self._lock:
            return self._history[-1] if self._history else math.nan

    @property
    def mean(self) -> float:
        return self._sum / self.values if self.values else math.nan

    @property
    def min(self) -> float:
        return self._min if self.values else math.nan

    @property
    def max(self) -> float:
        return self._max if self.values else math.nan

    @property
    def history(self) -> list[float]:
        with self._lock:
            return list(self._history)

    def snapshot(self) -> dict[str, Any]:
        """Plain data for the engine protocol / a widget (JSON-safe numbers and lists)."""
        return {
            "count": self.count,
            "level": self.level,
            "mean": self.mean,
            "min": self.min,
            "max": self.max,
            "values": self.values,
            "nonfinite": self.nonfinite,
            "history": self.history,
        }

    def reset(self) -> None:
        with self._lock:
            self._history.clear()
            self._latest = None
            self._sum, self._min, self._max = 0.0, math.inf, -math.inf
            self.values = self.nonfinite = self.count = 0
