"""What a file says about its tasks, kept true: the record of a task a brain learned, its
probe drawn from the task's data, and the probes of the other tasks re-answered by the brain
as it is now (a probe stores the brain's *own* outputs).

Used wherever a brain leaves the engine as a file: export, breed, graft, continue.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import torch

from openbrains.engine.compile import Brain, compile_graph
from openbrains.engine.errors import GraphError
from openbrains.engine.format.probes import probe_key
from openbrains.engine.graph import Graph
from openbrains.engine.multitask import TaskBrains, compile_tasks, make_probe, probe_inputs
from openbrains.engine.taskrecord import TaskRecord, record_of
from openbrains.engine.tasks.base import DatasetTask, Split

PROBE_EXAMPLES = 256  # "a few hundred": enough to measure a skill, cheap to replay each step
Tensors = dict[str, torch.Tensor]


def data_id(task: DatasetTask) -> str:
    """A fingerprint of a task's data (every split's inputs and targets), so a run can tell
    the same task again from another task of the same name."""
    h = hashlib.sha256(task.name.encode())
    for split in (task.train, task.val, task.test):
        for name in sorted(split.inputs):
            h.update(name.encode())
            h.update(split.inputs[name].detach().float().contiguous().numpy().tobytes())
        h.update(split.target.detach().contiguous().numpy().tobytes())
    return h.hexdigest()


def probe_split(
    split: Split, count: int = PROBE_EXAMPLES, seed: int = 0
) -> dict[str, torch.Tensor]:
    """``count`` examples of ``split`` (all when it has fewer), drawn with ``seed``."""
    n = len(split)
    gen = torch.Generator().manual_seed(seed)
    index = torch.randperm(n, generator=gen)[: min(count, n)].sort().values
    return {k: v[index].float() for k, v in split.inputs.items()}


def brain_for(graph: Graph, task: DatasetTask, seed: int | None = None) -> Brain:
    """A brain that runs ``task`` on ``graph``: the task's view when the graph records the
    task, else the whole graph bound to the task's signals (a single-task graph)."""
    if task.name in graph.tasks:
        return compile_tasks(graph, [task.name], seed=seed).brains[task.name]
    return compile_graph(graph, inputs=task.inputs, outputs=task.outputs, seed=seed)


def record_task(
    graph: Graph,
    task: DatasetTask,
    score: Mapping[str, Any],
    described: dict[str, Any] | None = None,
) -> TaskRecord:
    """Put ``task``'s record (with ``score``) into ``graph.tasks``, keeping what a record of
    the same name already said about its nodes; returns it."""
    old = graph.tasks.get(task.name)
    rec = record_of(task.name, described or task.describe(), graph)
    if old is not None:
        for port, p in old.inputs.items():
            if port in rec.inputs and p.node:
                rec.inputs[port].node = p.node
        for port, p in old.heads.items():
            if port in rec.heads and p.node:
                rec.heads[port].node = p.node
    rec.score = dict(score)
    rec.data_id = data_id(task)
    graph.tasks[task.name] = rec
    return rec


def finish_probes(
    graph: Graph,
    weights: Mapping[str, torch.Tensor],
    old_probes: Mapping[str, torch.Tensor],
    new_inputs: Mapping[str, Mapping[str, torch.Tensor]],
) -> Tensors:
    """The probes a file of ``graph`` with ``weights`` should hold: every task's stored
    probe inputs (or ``new_inputs[task]``, for tasks that get a probe now) with the brain's
    outputs on them as it is now. Tasks with neither keep no probe."""
    names = [
        t
        for t, rec in graph.tasks.items()
        if t in new_inputs or (rec.probe is not None and _has_probe(old_probes, t, rec))
    ]
    if not names:
        for rec in graph.tasks.values():
            rec.probe = None
        return {}
    brains = compile_tasks(graph, names)
    brains.load_weights(weights, strict=False)
    out: Tensors = {}
    for t, rec in graph.tasks.items():
        if t not in names:
            rec.probe = None
            continue
        if t in new_inputs:
            inputs = dict(new_inputs[t])
        else:
            assert rec.probe is not None
            inputs = probe_inputs(old_probes, t, rec.probe)
        rec.probe, tensors = make_probe(brains, t, inputs)
        out.update(tensors)
    return out


def _has_probe(probes: Mapping[str, torch.Tensor], task: str, rec: TaskRecord) -> bool:
    assert rec.probe is not None
    return all(probe_key(task, "in", p) in probes for p in rec.probe.inputs)


def view_brains(graph: Graph, weights: Mapping[str, torch.Tensor], tasks: list[str]) -> TaskBrains:
    """Compiled views of ``tasks`` with ``weights`` in (strictly for what they run)."""
    brains = compile_tasks(graph, tasks)
    own = brains.weights()
    missing = sorted(set(own) - set(weights))
    if missing:
        raise GraphError(f"weights do not fit the graph: missing {missing[:5]}")
    brains.load_weights({k: v for k, v in weights.items() if k in own}, strict=False)
    return brains
