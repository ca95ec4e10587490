"""What "good" means: a task owns its data splits, its loss and its metric.

Selection only ever sees validation scores; test scores are computed for reporting and
never steer the search (DESIGN §3.4). Every metric is reported in its natural unit
(accuracy, R², bits per character) and turned into a *fitness* where higher is better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.signal import SignalSpec

KINDS = ("classification", "regression", "completion")


class TaskError(OpenBrainsError):
    """Bad task input: unknown task, missing or malformed data, an empty class…"""


@dataclass
class Split:
    """Examples of one split: ``inputs`` by input name ``[N, T, C]``; ``target`` by kind:
    class ids ``[N]`` (classification), values ``[N, C]`` (regression), next ids ``[N, T]``
    (completion)."""

    inputs: dict[str, torch.Tensor]
    target: torch.Tensor
    # a teacher's log-probabilities ``[N, C]`` (distillation; NaN rows: no answer)
    soft: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.target.shape[0])

    def take(self, index: torch.Tensor | slice) -> Split:
        soft = None if self.soft is None else self.soft[index]
        return Split({k: v[index] for k, v in self.inputs.items()}, self.target[index], soft)

    def append(self, other: Split) -> Split:
        """This split with ``other``'s examples added (recorded samples join a dataset)."""
        inputs = {k: torch.cat([v, other.inputs[k]]) for k, v in self.inputs.items()}
        soft = None
        if self.soft is not None or other.soft is not None:
            width = (self.soft if self.soft is not None else other.soft).shape[1]  # type: ignore[union-attr]
            soft = torch.cat([_soft_or_nan(self, width), _soft_or_nan(other, width)])
        return Split(inputs, torch.cat([self.target, other.target]), soft)


def _soft_or_nan(split: Split, width: int) -> torch.Tensor:
    if split.soft is not None:
        return split.soft
    return torch.full((len(split), width), float("nan"))


@dataclass
class DatasetTask:
    """Pairs and a loss. ``kind`` fixes the loss and metric:

    - classification: cross-entropy, accuracy;
    - regression: mean squared error, R² (1 − MSE / variance of the targets);
    - completion: next-token cross-entropy over every step, bits per character (lower is
      better; the graph must be causal or the score would be fake).
    """

    name: str
    kind: str
    inputs: dict[str, SignalSpec]
    outputs: dict[str, SignalSpec]
    train: Split
    val: Split
    test: Split
    codecs: dict[str, dict[str, Any]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)  # the registry's declared options
    # a brain that gives distillation targets for each training batch as it is augmented
    # (engine.teachers.roles.distill.OnlineTeacher); None: targets, if any, are Split.soft
    teacher: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise TaskError(
                f"task {self.name!r}: unknown kind {self.kind!r}; expected one of {KINDS}"
            )
        for split_name in ("train", "val", "test"):
            if len(getattr(self, split_name)) == 0:
                raise TaskError(f"task {self.name!r}: the {split_name} split is empty")

    # ----- what the task asks of a graph --------------------------------------------------
    @property
    def runner(self) -> str:
        """Which runner trains its candidates (engine.runners)."""
        return "dataset"

    @property
    def causal(self) -> bool:
        return self.kind == "completion"

    @property
    def validates_on_training(self) -> bool:
        """Whether its validation examples are its training ones (XOR's four points): a
        refit on training plus validation would then add nothing."""
        return self.val is self.train

    @property
    def metric(self) -> str:
        return {"classification": "accuracy", "regression": "r2", "completion": "bpc"}[self.kind]

    @property
    def higher_is_better(self) -> bool:
        return self.kind != "completion"

    @property
    def input_names(self) -> list[str]:
        return list(self.inputs)

    @property
    def output_name(self) -> str:
        return next(iter(self.outputs))

    def describe(self) -> dict[str, Any]:
        """What a graph records about the task it learned (``graph.tasks``)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "metric": self.metric,
            "settings": self.settings,
            "inputs": {k: v.to_dict() for k, v in self.inputs.items()},
            "outputs": {k: v.to_dict() for k, v in self.outputs.items()},
            "classes": self.classes,
            "codecs": self.codecs,
            "options": self.options,
        }

    def fitness(self, metric_value: float) -> float:
        """Higher is better, whatever the metric."""
        if not math.isfinite(metric_value):
            return -math.inf
        return metric_value if self.higher_is_better else -metric_value

    @property
    def worst_metric(self) -> float:
        return {"accuracy": 0.0, "r2": -math.inf, "bpc": math.inf}[self.metric]

    # ----- loss and metric -----------------------------------------------------------
    def loss(self, out: torch.Tensor, target: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
        """The training loss. ``smoothing`` (the ``label_smoothing`` gene) only applies to
        classification: it spreads that share of each target over all classes."""
        if self.kind == "classification":
            return F.cross_entropy(out[:, -1, :], target, label_smoothing=smoothing)
        if self.kind == "regression":
            return F.mse_loss(out[:, -1, :], target)
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), target.reshape(-1))

    def metric_sums(self, out: torch.Tensor, target: torch.Tensor) -> tuple[float, float, int]:
        """(sum of loss, sum for the metric, count) over a batch, so batches can be pooled."""
        if self.kind == "classification":
            logits = out[:, -1, :]
            loss = F.cross_entropy(logits, target, reduction="sum").item()
            return loss, float((logits.argmax(-1) == target).sum()), len(target)
        if self.kind == "regression":
            se = F.mse_loss(out[:, -1, :], target, reduction="sum").item()
            return se, se, target.numel()
        ce = F.cross_entropy(
            out.reshape(-1, out.shape[-1]), target.reshape(-1), reduction="sum"
        ).item()
        return ce, ce, target.numel()

    def finish_metric(self, metric_sum: float, count: int, split: Split) -> float:
        if self.kind == "classification":
            return metric_sum / count
        if self.kind == "regression":
            variance = float(
                split.target.float().var(dim=0, unbiased=False).mean().clamp_min(1e-12)
            )
            return 1.0 - (metric_sum / count) / variance
        return metric_sum / count / math.log(2)
