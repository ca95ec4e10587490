"""The first individual of a continued run: a shared brain (``--seed-from FILE.graph``)
joined with a fresh branch for the run's task, as ``engine.continual.graphs`` builds it,
checked against the clashes that make continuing impossible.

The file is data: only its graph, weights and probes are read; nothing it names is run or
opened. A seed file that records no task cannot be continued (there would be no old task to
keep): export it from a run, or save it with this version, so that it names its task.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import torch

from openbrains.engine.continual.graphs import KEEPS, clash, continued_graph, continued_same
from openbrains.engine.errors import GraphError
from openbrains.engine.format import GraphFile
from openbrains.engine.format.identity import content_id
from openbrains.engine.format.probes import expected_keys
from openbrains.engine.graph import Graph
from openbrains.engine.lineage import Parent, child_lineage
from openbrains.engine.train import genes

Tensors = dict[str, torch.Tensor]


@dataclass
class ContinuedSeed:
    """What a continued run starts from: the joined graph, the seed's weights (the new
    branch starts fresh), the old tasks' probes, and which tasks are old."""

    graph: Graph
    weights: Tensors
    probes: Tensors
    keep: str
    old_tasks: list[str] = field(default_factory=list)
    same_task: bool = False  # the seed already had the run's task (same data): continued


def continue_seed(doc: GraphFile, where: str, task: Any, keep: str, seed: int) -> ContinuedSeed:
    """The continued seed for ``task`` from the brain in ``doc`` (read from ``where``).
    ``GraphError`` with a one-line reason when it cannot be continued."""
    if keep not in KEEPS:
        raise GraphError(f"--keep must be one of {', '.join(KEEPS)}, got {keep!r}")
    graph = doc.graph
    if doc.kind != "graph" or graph is None or not graph.nodes:
        raise GraphError(f"{where} holds no brain to continue (a {doc.kind} file without a graph)")
    if not graph.tasks:
        raise GraphError(
            f"{where} records no task, so there is nothing to keep: continue a brain exported "
            "from a run (openbrains export) or saved by this version"
        )
    described = task.describe()
    relation = clash(graph, task.name, data_fingerprint(task), task.settings)
    rng = random.Random(seed)
    if relation == "same":
        out = continued_same(graph, task.name, keep)
        olds = [t for t in graph.tasks if t != task.name]
    else:
        out = continued_graph(graph, _branch(task, graph, rng), task.name, described, keep, rng)
        olds = list(graph.tasks)
    if not olds:
        raise GraphError(
            f"{where} knows only task {task.name!r}: to go on training it, start a run "
            f"from it (openbrains run {where} --task {task.name})"
        )
    if keep == "share":
        bare = [t for t in olds if graph.tasks[t].probe is None]
        if bare:
            raise GraphError(
                f"{where}: task {bare[0]!r} carries no probe, so --keep share has nothing to "
                "keep it by; use --keep protect"
            )
    probes = {k: doc.probes[k] for k, (t, _n) in expected_keys(graph).items() if t in olds}
    out.hparams = {**genes.first(rng, getattr(task, "kind", None)), **graph.hparams}
    cid = content_id(graph, doc.weights)
    out.lineage = child_lineage([(Parent(cid, "continue"), graph.lineage, list(graph.tasks))])
    out.validate()
    return ContinuedSeed(out, dict(doc.weights), probes, keep, olds, relation == "same")


def _branch(task: Any, seed: Graph, rng: random.Random) -> Graph:
    """A conventional graph for the new task, sized from its data: the new branch."""
    from openbrains.engine.evolve.sizing import bounds_for
    from openbrains.engine.evolve.templates import is_board, template_graph

    bounds = bounds_for(task, None)
    return template_graph(rng, task.inputs, task.outputs, bounds, task.causal, board=is_board(task))


def seed_bounds(bounds: Any, graph_json: str) -> Any:
    """The size bounds of a continued run: the new task's, plus room for the seed's own
    nodes and weights (which are kept, not counted against the new task's share)."""
    from dataclasses import replace

    from openbrains.engine.compile import compile_graph
    from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT

    graph = Graph.from_json(graph_json)
    hidden = sum(1 for n in graph.nodes.values() if n.unit not in (INPUT_UNIT, OUTPUT_UNIT))
    params = compile_graph(graph).param_count()
    return replace(
        bounds, max_nodes=bounds.max_nodes + hidden, max_params=bounds.max_params + params
    )


def data_fingerprint(task: Any) -> str | None:
    """A dataset task's data as 32 hex digits (sha256 of every split's tensors, in a fixed
    order): a task record's ``data_id``, so that a continued run can tell "the same task on
    the same data" from "the same name on other data". None for a task without splits."""
    import hashlib

    h = hashlib.sha256(b"openbrains-data-id/1\n")
    for split in ("train", "val", "test"):
        part = getattr(task, split, None)
        if part is None or not hasattr(part, "inputs"):
            return None
        for name in sorted(part.inputs):
            h.update(name.encode() + b"\0")
            h.update(part.inputs[name].detach().contiguous().numpy().tobytes())
        h.update(part.target.detach().contiguous().numpy().tobytes())
    return h.hexdigest()[:32]
