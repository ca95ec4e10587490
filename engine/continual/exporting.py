"""What an exported brain of a continued run carries besides its weights: the run's task
bound to its own ports (a continued graph has several inputs and heads), the old tasks'
probes and their scores as the run measured them, a probe of the run's task made from its
validation inputs (so the next receiver can keep it too), and the seed file as a
``continue`` parent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from openbrains.engine.graph import Graph
from openbrains.engine.lineage import Parent
from openbrains.engine.taskrecord import TaskRecord

Tensors = dict[str, torch.Tensor]
PROBE_SIZE = 256  # examples of a task's probe: enough to measure it, cheap to replay


def bind_like(record: TaskRecord, before: TaskRecord | None) -> TaskRecord:
    """``record`` with the node bindings ``before`` had for the same ports."""
    if before is None:
        return record
    for mine, theirs in ((record.inputs, before.inputs), (record.heads, before.heads)):
        for port, p in mine.items():
            if port in theirs and theirs[port].node:
                p.node = theirs[port].node
                p.role = theirs[port].role or p.role
    return record


def old_scores(graph: Graph, splits: dict[str, dict[str, Any]]) -> None:
    """Write each old task's scores from the run (``task:<name>`` splits) into its record."""
    from openbrains.engine.run.continued import TASK_SPLIT

    for split, values in splits.items():
        if split.startswith(TASK_SPLIT) and split[len(TASK_SPLIT) :] in graph.tasks:
            rec = graph.tasks[split[len(TASK_SPLIT) :]]
            rec.score = {**rec.score, "continued": dict(values)}


def seed_probes(run_dir: Path, graph: Graph) -> Tensors:
    """The old tasks' probes the run kept beside its seeds (our own run folder)."""
    from openbrains.engine.format.probes import expected_keys
    from openbrains.engine.run.breeder import PROBES_FILE
    from openbrains.engine.weights import decode_weights

    path = Path(run_dir) / "seeds" / PROBES_FILE
    if not path.exists():
        return {}
    tensors = decode_weights(path.read_bytes())
    return {k: v for k, v in tensors.items() if k in expected_keys(graph)}


def task_probe(graph: Graph, weights: Tensors, name: str, task: Any) -> Tensors:
    """A probe of ``name`` (the run's dataset task) from its first validation inputs; sets
    the task record's ``probe``. Empty (no probe) for a task without examples."""
    from openbrains.engine.multitask import compile_tasks, make_probe

    val = getattr(task, "val", None)
    if val is None or len(val) == 0:
        return {}
    part = val.take(slice(0, min(PROBE_SIZE, len(val))))
    brains = compile_tasks(graph, [name])
    brains.load_weights(weights, strict=False)
    ports = graph.tasks[name].inputs
    inputs = {port: part.inputs[port] for port in ports if port in part.inputs}
    if len(inputs) != len(ports):
        return {}
    probe, tensors = make_probe(brains, name, inputs)
    graph.tasks[name].probe = probe
    return tensors


def seed_parents(seed_json: str) -> list[tuple[Parent, dict[str, Any], list[str]]]:
    """The ``continue`` parent(s) a continued run's seed graph recorded, with their trees."""
    lineage = Graph.from_json(seed_json).lineage or {}
    tree = lineage.get("tree") or {}
    out = []
    for p in lineage.get("parents") or []:
        entry = tree.get(p["id"]) or {}
        out.append(
            (
                Parent(p["id"], p["relation"]),
                {"parents": entry.get("parents") or [], "tree": tree},
                list(entry.get("tasks") or []),
            )
        )
    return out
