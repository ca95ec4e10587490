"""Training a multi-task candidate on its new task while it keeps the old ones, and
measuring every task it has.

The new task trains through its own view of the graph (``engine.multitask``); with
``share``, every step also adds, for each old task, the distance of its heads from the
probe's stored outputs on a batch of probe inputs (distillation), plus its own loss on a
batch of its data when the user has the data. With ``protect`` nothing of the old tasks
trains (their nodes are not trainable), with ``off`` nothing keeps them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from openbrains.engine.graph import Graph
from openbrains.engine.multitask import (
    TaskBrains,
    compile_tasks,
    head_loss,
    probe_inputs,
    probe_score,
    probe_targets,
)
from openbrains.engine.tasks.base import DatasetTask
from openbrains.engine.train import genes
from openbrains.engine.train.trainer import Budget, TrainResult, evaluate, train

Tensors = dict[str, torch.Tensor]
OLD_WEIGHT = 4.0  # each old task's share of the loss, beside the new task's 1 (docs/decisions.md)
OLD_LR_SCALE = 0.1  # share: the old body learns at this share of the rate (bench/continual.py)


@dataclass
class OldTask:
    """An old task as a run keeps it: its probe (from the seed file) and, when the user
    gave it, its own data."""

    name: str
    data: DatasetTask | None = None


@dataclass
class Continued:
    """A trained candidate: the new task's result, every task's scores (``tasks[name]``:
    ``metric``, ``val``/``test`` on data where there is data, ``probe``: agreement with
    the stored outputs), and its weights."""

    result: TrainResult
    tasks: dict[str, dict[str, Any]]
    brains: TaskBrains
    weights: Tensors = field(default_factory=dict)


def inherit_all(brains: TaskBrains, weights: Mapping[str, torch.Tensor]) -> dict[str, int]:
    """Net2Net inheritance into every view (shared modules take the same tensors)."""
    from openbrains.engine.evolve.inherit import inherit_weights

    copied = partial = fresh = 0
    for brain in brains.brains.values():
        report = inherit_weights(brain, dict(weights))
        copied, partial = copied + len(report.copied), partial + len(report.partial)
        fresh += len(report.fresh)
    return {"copied": copied, "partial": partial, "fresh": fresh}


def old_loss(
    brains: TaskBrains, olds: list[OldTask], probes: Mapping[str, torch.Tensor], batch: int
) -> Callable[[torch.Generator], torch.Tensor]:
    """The old tasks' term of a ``share`` step: probe distillation, plus each task's own
    loss where it has data."""
    graph = brains.graph

    def loss(gen: torch.Generator) -> torch.Tensor:
        total = torch.zeros(())
        for old in olds:
            rec = graph.tasks[old.name]
            if rec.probe is not None:
                index = torch.randint(
                    0, rec.probe.count, (min(batch, rec.probe.count),), generator=gen
                )
                inputs = {k: v[index] for k, v in probe_inputs(probes, old.name, rec.probe).items()}
                targets = probe_targets(probes, old.name, rec.probe)
                outs = brains.run(old.name, inputs)
                for port, target in targets.items():
                    total = total + OLD_WEIGHT * head_loss(
                        rec.head_role(port), outs[port], target[index]
                    )
            if old.data is not None:
                n = len(old.data.train)
                part = old.data.train.take(torch.randint(0, n, (min(batch, n),), generator=gen))
                brain = brains.brains[old.name]
                out = brain(*[part.inputs[k] for k in brain.input_names])
                out = out[0] if isinstance(out, tuple) else out
                total = total + OLD_WEIGHT * old.data.loss(out, part.target)
        return total

    return loss


def measure(
    brains: TaskBrains, olds: list[OldTask], probes: Mapping[str, torch.Tensor], test: bool = True
) -> dict[str, dict[str, Any]]:
    """Every old task's scores: agreement with its probe, and its metric on its own data."""
    out: dict[str, dict[str, Any]] = {}
    for old in olds:
        rec = brains.graph.tasks[old.name]
        scores: dict[str, Any] = {"metric": rec.metric}
        if rec.probe is not None:
            scores["probe"] = probe_score(brains, old.name, probes)
        if old.data is not None:
            brain = brains.brains[old.name]
            scores["val"] = evaluate(brain, old.data, old.data.val)[old.data.metric]
            if test:
                scores["test"] = evaluate(brain, old.data, old.data.test)[old.data.metric]
        out[old.name] = scores
    return out


def train_continued(
    graph: Graph,
    inherited: Mapping[str, torch.Tensor],
    task: DatasetTask,
    olds: list[OldTask],
    probes: Mapping[str, torch.Tensor],
    keep: str,
    budget: Budget,
    seed: int,
    on_step: Callable[[], None] | None = None,
) -> Continued:
    """Train ``graph`` (inheriting ``inherited``) on ``task``, keeping ``olds`` as ``keep``
    says, and measure every task."""
    names = [task.name, *[o.name for o in olds]]
    brains = compile_tasks(graph, names, seed=seed)
    if inherited:
        inherit_all(brains, inherited)
    brain = brains.brains[task.name]
    extra = None
    slow: list[torch.nn.Parameter] = []
    if keep == "share" and olds:
        # the old body's batch statistics stay the seed's: the new task's batches (and the
        # zeros its view feeds the old inputs) would otherwise move them under the old heads
        kept = [n.uid for n in graph.nodes.values() if n.frozen]
        for one in brains.brains.values():
            one.hold_statistics(kept)
        slow = _node_params(brains, kept)
        batch = int(genes.resolve(graph.hparams)["batch_size"])
        extra = old_loss(brains, olds, probes, batch)
    result = train(
        brain,
        task,
        budget,
        graph.hparams,
        seed=seed,
        on_step=on_step,
        extra_loss=extra,
        extra_params=brains.parameters() if extra is not None else (),
        slow_params=slow,
        slow_scale=OLD_LR_SCALE,
    )
    tasks = {task.name: {"metric": task.metric, **_pick(result, task.metric)}}
    if not result.diverged:
        tasks.update(measure(brains, olds, probes))
    return Continued(result, tasks, brains, {} if result.diverged else brains.weights())


def _pick(result: TrainResult, metric: str) -> dict[str, Any]:
    return {"val": result.val.get(metric), "test": result.test.get(metric)}


def _node_params(brains: TaskBrains, uids: list[str]) -> list[torch.nn.Parameter]:
    """The parameters of these nodes' modules (shared by every view)."""
    from openbrains.engine.compile import node_module_name

    out: dict[int, torch.nn.Parameter] = {}
    for brain in brains.brains.values():
        nodes = getattr(brain.core, "nodes", None)
        for uid in uids:
            module = getattr(nodes, node_module_name(uid), None) if nodes is not None else None
            if module is not None:
                out.update({id(p): p for p in module.parameters()})
    return list(out.values())
