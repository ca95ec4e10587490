"""The champion's ablation: each node knocked out in turn, the score it costs.

A node is knocked out where its output enters the rest of the brain: by the identity when
its output has its input's shape (the signal passes through untouched), else by zeros.
The score is the task's metric on its validation split, as the run measured it.

The task comes from the run folder's settings, which are data from whoever made the run:
a task that is code (``package.module:Class``) is never loaded here, and a task that reads
a path is rebuilt only from a path the user gives (``data``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from openbrains.engine.compile import Brain, compile_graph, node_module_name
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT, Graph
from openbrains.engine.tasks.registry import TASKS, load_task
from openbrains.engine.train.trainer import evaluate
from openbrains.engine.weights import decode_weights


@dataclass(frozen=True)
class Knockout:
    """One node's cost: the metric with it knocked out, and how (identity or zero)."""

    uid: str
    unit: str
    how: str
    metric: float
    cost: float  # how much worse than the intact champion (positive: the node helps)


@dataclass(frozen=True)
class Ablation:
    metric_name: str
    intact: float
    knockouts: list[Knockout]


class _KnockedOut(nn.Module):
    """Runs the original node (so shapes and state stay right) and passes on its input
    (identity) or zeros instead of its output."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.how = ""

    def forward(self, *args: Any) -> Any:
        out = self.inner(*args)
        y, rest = (out[0], out[1:]) if isinstance(out, tuple) else (out, None)
        x = args[0][0] if isinstance(args[0], list) else args[0]
        if isinstance(x, torch.Tensor) and x.shape == y.shape and x.dtype == y.dtype:
            self.how, y = "identity", x
        else:
            self.how, y = "zero", torch.zeros_like(y)
        return y if rest is None else (y, *rest)


def task_for(spec: dict[str, Any], data: str | None) -> Any:
    """The run's task rebuilt for measuring, or OpenBrainsError saying why it is not."""
    name = spec.get("name")
    if not isinstance(name, str) or name not in TASKS:
        raise OpenBrainsError(f"task {name!r} is not a built-in dataset task (no code is loaded)")
    options = {k: v for k, v in spec.items() if k not in ("name", "data", "label")}
    if spec.get("data") and data is None:
        raise OpenBrainsError(
            f"task {name!r} reads {spec['data']!r}; give --data PATH to measure the ablation"
        )
    task = load_task(name, data=data, **options)
    if getattr(task, "kind", "") == "game":
        raise OpenBrainsError(f"task {name!r} is a game: ablation measures dataset tasks")
    return task


def ablate(graph: Graph, weights: bytes, task: Any, higher_is_better: bool) -> Ablation:
    brain = _brain(graph, weights, task)
    metric = task.metric
    intact = evaluate(brain, task, task.val)[metric]
    out: list[Knockout] = []
    for uid in graph.topological_order():
        node = graph.nodes[uid]
        name = node_module_name(uid)
        holder = brain.core.nodes  # fx keeps the node modules as plain attributes
        if node.unit in (INPUT_UNIT, OUTPUT_UNIT) or not hasattr(holder, name):
            continue
        original = getattr(holder, name)
        knocked = _KnockedOut(original)
        setattr(holder, name, knocked)
        try:
            score = evaluate(brain, task, task.val)[metric]
        finally:
            setattr(holder, name, original)
        cost = intact - score if higher_is_better else score - intact
        out.append(Knockout(uid, node.unit, knocked.how, score, cost))
    out.sort(key=lambda k: -k.cost)
    return Ablation(metric, intact, out)


def _brain(graph: Graph, weights: bytes, task: Any) -> Brain:
    brain = compile_graph(graph, inputs=task.inputs)
    brain.load_weights(decode_weights(weights), strict=True)
    return brain.eval()
