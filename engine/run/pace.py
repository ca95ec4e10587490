"""The per-job time cap: a job may take ``TIME_CAP`` times what its steps take at the
recent median pace before it is cut short. A random graph can be thirty to a hundred times
slower per step than its peers (attention over a digit's pixels, an LSTM reading them one
by one); without a cap one such candidate held a worker for 16 s of a 60 s digits search,
where a conv net's job takes half a second. Generous (10×), so that a conv net among
cheap MLPs (3-8× slower per step) trains in full. Torch-free."""

from __future__ import annotations

import statistics
from collections import deque

TIME_CAP = 10.0
TIME_CAP_WINDOW = 50  # recent finished jobs the median is taken over
TIME_CAP_MIN_JOBS = 8  # no cap until this many jobs have finished (in this session)


class Pace:
    """Seconds per step of the recently finished candidates (of this session)."""

    def __init__(self) -> None:
        self.seconds: deque[float] = deque(maxlen=TIME_CAP_WINDOW)

    def add(self, seconds_per_step: float | None) -> None:
        if seconds_per_step is not None:
            self.seconds.append(seconds_per_step)

    def cap(self, steps: int) -> float | None:
        """Seconds after which a job of ``steps`` steps stops, or None until enough jobs
        have finished to know the pace."""
        if len(self.seconds) < TIME_CAP_MIN_JOBS:
            return None
        return TIME_CAP * statistics.median(self.seconds) * steps
