"""A brain's test score on a task: ``evaluate`` and the ``Evaluation`` it returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openbrains.brain import Brain, PathLike
from openbrains.taskspec import TaskLike, task_spec


@dataclass(frozen=True)
class Evaluation:
    """The result of ``evaluate``: ``score`` on the task's test split, by its ``metric``
    (for a two-player game: Elo against the reference players, with ``matches``)."""

    task: str
    metric: str
    score: float
    examples: int
    params: int
    loss: float | None = None
    matches: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as ``openbrains eval --json`` prints it (``test`` is the score)."""
        out: dict[str, Any] = {
            "task": self.task,
            "metric": self.metric,
            "test": self.score,
            "examples": self.examples,
            "params": self.params,
        }
        if self.loss is not None:
            out["loss"] = self.loss
        if self.matches:
            out["matches"] = self.matches
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Evaluation:
        return cls(
            task=str(d["task"]),
            metric=str(d["metric"]),
            score=float(d["test"]),
            examples=int(d["examples"]),
            params=int(d["params"]),
            loss=None if d.get("loss") is None else float(d["loss"]),
            matches=dict(d.get("matches") or {}),
        )


def evaluate(
    brain: Brain | PathLike,
    task: TaskLike,
    data: PathLike | None = None,
    label: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> Evaluation:
    """Score ``brain`` (a ``Brain``, or a `.graph` file) on ``task``'s test split.

    ``task`` is a built-in task's name, or your own game's class (or a ``CodeRef``);
    ``data`` the task's file or folder, ``label`` a csv's label column, ``options`` its
    options. Options the brain recorded for that task fill in those not given.
    """
    from openbrains.engine.export import evaluate_file, evaluate_graph

    spec = task_spec(task, data, label, options)
    if isinstance(brain, Brain):
        result = evaluate_graph(brain.graph, brain.weights, spec, brain.source or "<brain>")
    else:
        result = evaluate_file(Path(brain), spec)
    return Evaluation.from_dict(result)
