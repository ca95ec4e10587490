"""What a continued run (``--seed-from FILE.graph --keep …``) adds to the loop: room for
the seed's body in the size bounds, every old task's scores in the archive (as splits
``task:<name>``), and retention as an objective in ``share`` mode
(``engine.continual.retention``). Torch-free."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openbrains.engine.continual.retention import baseline, kept_fitness
from openbrains.engine.graph import Graph
from openbrains.engine.jobs import Outcome
from openbrains.engine.run.settings import RunSettings

TASK_SPLIT = "task:"  # archive score splits of old tasks: task:<name> → probe, val, test


@dataclass(frozen=True)
class Continuation:
    keep: str
    seed_json: str
    old_tasks: dict[str, str]  # name → metric

    @classmethod
    def of(cls, settings: RunSettings, task: Any) -> Continuation | None:
        if not settings.keep or not settings.seeds:
            return None
        seed = Graph.from_json(settings.seeds[0])
        olds = {n: rec.metric for n, rec in seed.tasks.items() if n != task.name}
        return cls(settings.keep, settings.seeds[0], olds)

    def bounds(self, bounds: Any) -> Any:
        from openbrains.engine.continual.seeding import seed_bounds

        return seed_bounds(bounds, self.seed_json)

    def fitness(self, fitness: float | None, outcome: Outcome) -> float | None:
        """Share mode: a candidate that forgot an old task is never champion."""
        if self.keep != "share":
            return fitness
        return kept_fitness(fitness, outcome.details.get("tasks") or {}, baseline(self.old_tasks))

    def scores(self, outcome: Outcome) -> dict[str, dict[str, float]]:
        """The old tasks' scores as archive splits."""
        out: dict[str, dict[str, float]] = {}
        for name, values in (outcome.details.get("tasks") or {}).items():
            if name in self.old_tasks:
                out[TASK_SPLIT + name] = {
                    k: float(v) for k, v in values.items() if isinstance(v, int | float)
                }
        return out

    def old_scores(self, splits: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The old tasks' scores from an individual's archive splits."""
        return {
            split[len(TASK_SPLIT) :]: values
            for split, values in splits.items()
            if split.startswith(TASK_SPLIT)
        }
