"""One number for selection (docs/decisions.md, "Selection fitness" and "Ratings become
fitness"): the task's validation metric, mixed with people's ratings when they count,
minus the size/latency trade-off; a little of the validation loss breaks ties between
equal accuracies."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from openbrains.engine.run.settings import RunSettings
from openbrains.engine.store import Record
from openbrains.engine.tasks.rating import RatingBook, mix

LOSS_TIEBREAK = 0.01


class Scorer:
    """Fitness of an individual, from its scores, its size and what people said of it."""

    def __init__(
        self,
        settings: RunSettings,
        task: Any,
        ratings: RatingBook,
        lineage: Mapping[int, Sequence[int]],
    ) -> None:
        self.settings = settings
        self.task = task
        self.ratings = ratings
        self.lineage = lineage

    def score(
        self,
        metric: float | None,
        loss: float | None,
        params: int,
        latency_ms: float,
        rating: float | None = None,
    ) -> float | None:
        """Task fitness minus the size/latency trade-off.

        For classification a small share of the validation loss breaks ties between equal
        accuracies (a coarse metric on a small validation set), preferring confident,
        well-calibrated brains. With ``rating_weight`` > 0 and a ``rating`` (the shrunk mean
        of people's 0–10 scores), the task part is ``(1 − w)·metric + w·rating``, both on
        0..1 (engine.tasks.rating.mix).
        """
        if metric is None or not math.isfinite(metric):
            return None
        size_cost = math.log10(params + 1) / 6 + math.log10(1 + latency_ms) / 3
        if rating is not None and self.settings.rating_weight > 0:
            base = mix(self.task.metric, metric, rating, self.settings.rating_weight)
        else:
            base = self.task.fitness(metric)
        fitness = base - self.settings.tradeoff * size_cost
        if self.task.kind == "classification" and loss is not None and math.isfinite(loss):
            fitness -= LOSS_TIEBREAK * min(loss, 10.0)
        return fitness

    def rating(self, individual: int, parents: Sequence[int]) -> float | None:
        """People's estimate for an individual (0–10), or None when ratings do not count.
        A newborn (``individual`` 0) has no ratings yet: it stands where its parents stand."""
        if self.settings.rating_weight <= 0:
            return None
        if individual:
            return self.ratings.estimate(individual, parents, self.lineage)
        known = [self.ratings.estimate(p, self.lineage.get(p, ()), self.lineage) for p in parents]
        return sum(known) / len(known) if known else self.ratings.mean

    def refit(self, rec: Record, loss: float | None) -> float | None:
        """A stored individual's fitness again (ratings or the weights changed)."""
        return self.score(
            rec.val_metric, loss, rec.params, rec.latency_ms, self.rating(rec.id, rec.parents)
        )
