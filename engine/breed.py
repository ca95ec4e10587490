"""Breed two brains from different files: genes aligned by global id, then NEAT crossover
(``engine.evolve.crossover``) and a short training of the child on the task.

Inside one run, genes line up by uid because every child copies its parents' uids. Across
files they line up by ``gid``: B's nodes whose gid A also has take A's uid (and the wires
between matched nodes take A's wire uid), B's other nodes get uids A does not use, and
crossover then treats matched genes as one gene with two versions.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass

import torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.evolve.crossover import crossover
from openbrains.engine.format.document import GraphFile
from openbrains.engine.format.identity import content_id
from openbrains.engine.gids import stamp_gids, structure_key
from openbrains.engine.graph import Graph, new_uid
from openbrains.engine.lineage import Parent, child_lineage
from openbrains.engine.taskfile import brain_for, finish_probes, probe_split, record_task
from openbrains.engine.tasks.base import DatasetTask
from openbrains.engine.train.trainer import Budget, evaluate, train

Tensors = dict[str, torch.Tensor]


@dataclass
class Bred:
    """The child file, how many genes of B lined up with A's, and how it was made."""

    doc: GraphFile
    matched_nodes: int
    matched_edges: int
    detail: str
    fitness: tuple[float, float]
    val: dict[str, float]
    test: dict[str, float]


def align_by_gid(a: Graph, b: Graph, wb: Tensors) -> tuple[Graph, Tensors, int, int]:
    """B renamed so that genes it shares with A (by gid) carry A's uids: (graph, weights,
    matched nodes, matched wires). Uids of B's other genes that A also uses are replaced."""
    by_gid = {n.gid: n.uid for n in a.nodes.values() if n.gid}
    taken = a.uids() | b.uids()
    rng = random.Random(0)

    def fresh() -> str:
        uid = new_uid(rng, taken)
        taken.add(uid)
        return uid

    rename: dict[str, str] = {}
    for node in b.nodes.values():
        match = by_gid.get(node.gid) if node.gid else None
        if match is not None and a.nodes[match].unit == node.unit:
            rename[node.uid] = match
        else:
            rename[node.uid] = fresh() if node.uid in a.uids() else node.uid
    matched_nodes = sum(1 for uid in rename.values() if uid in a.nodes)
    a_wires = {(e.src, e.dst, e.src_port, e.dst_port): e.uid for e in a.edges.values()}
    out = b.copy()
    out.nodes = {}
    for node in b.nodes.values():
        node = copy.deepcopy(node)
        node.uid = rename[node.uid]
        out.nodes[node.uid] = node
    out.edges = {}
    wires: dict[str, str] = {}
    for e in b.edges.values():
        ends = (rename[e.src], rename[e.dst], e.src_port, e.dst_port)
        uid = a_wires.get(ends)
        if uid is None or uid in out.edges:
            uid = fresh() if e.uid in a.uids() or e.uid in out.edges else e.uid
        wires[e.uid] = uid
        out.connect(ends[0], ends[1], uid=uid, src_port=e.src_port, dst_port=e.dst_port)
    matched_edges = sum(1 for uid in wires.values() if uid in a.edges)
    weights: Tensors = {}
    for key, t in wb.items():
        kind, uid, rest = key.split("/", 2)
        table = rename if kind == "node" else wires
        weights[f"{kind}/{table.get(uid, uid)}/{rest}"] = t
    return out, weights, matched_nodes, matched_edges


def cross_aligned(
    ga: Graph,
    wa: Tensors,
    fa: float | None,
    gb: Graph,
    wb: Tensors,
    fb: float | None,
    seed: int = 0,
) -> tuple[Graph, Tensors, str]:
    """Crossover of A and B (B already aligned to A by ``align_by_gid``): the child, the
    tensors it starts from (its parents' where they fit, fresh ones for genes repair made),
    and the line saying how it was made."""
    child, weights, detail = crossover(ga, wa, fa, gb, wb, fb, random.Random(seed))
    start = compile_graph(child, seed=seed).weights()
    start.update({k: v for k, v in weights.items() if k in start and v.shape == start[k].shape})
    return child, start, detail


def _fitness(graph: Graph, weights: Tensors, task: DatasetTask) -> tuple[float, dict[str, float]]:
    brain = brain_for(graph, task)
    brain.load_weights(weights, strict=False)
    val = evaluate(brain, task, task.val)
    return task.fitness(val[task.metric]), val


def breed(a: GraphFile, b: GraphFile, task: DatasetTask, steps: int = 300, seed: int = 0) -> Bred:
    """Cross A and B (aligned by gid), train the child on ``task`` for ``steps``, and give
    it back as a file: the task recorded with its score and a fresh probe, the other tasks'
    probes answered by the child, and A and B as its parents (relation ``crossover``)."""
    for doc, which in ((a, "first"), (b, "second")):
        if doc.graph is None:
            raise OpenBrainsError(f"breed: the {which} file ({doc.kind}) has no graph")
    assert a.graph is not None and b.graph is not None
    ga, gb = a.graph.copy(), b.graph.copy()
    stamp_gids(ga, structure_key(a.graph))
    stamp_gids(gb, structure_key(b.graph))
    gb, wb, nodes, edges = align_by_gid(ga, gb, dict(b.weights))
    fa, _ = _fitness(ga, dict(a.weights), task)
    fb, _ = _fitness(gb, wb, task)
    child, start, detail = cross_aligned(ga, dict(a.weights), fa, gb, wb, fb, seed)
    brain = brain_for(child, task, seed=seed)
    brain.load_weights(start, strict=False)
    result = train(brain, task, Budget(steps=steps), child.hparams, seed=seed)
    if result.diverged:
        raise OpenBrainsError(f"breed: the child diverged while training ({result.reason})")
    trained = {**start, **brain.weights()}
    record_task(
        child,
        task,
        {
            "metric": task.metric,
            "validation": result.val[task.metric],
            "test": result.test.get(task.metric),
            "steps": result.steps,
        },
    )
    new_probe = {task.name: probe_split(task.train, seed=seed)}
    probes = finish_probes(child, trained, {**b.probes, **a.probes}, new_probe)
    child.lineage = child_lineage(
        [
            (
                Parent(content_id(a.graph, a.weights), "crossover"),
                a.graph.lineage,
                list(a.graph.tasks),
            ),
            (
                Parent(content_id(b.graph, b.weights), "crossover"),
                b.graph.lineage,
                list(b.graph.tasks),
            ),
        ],
        {"detail": detail},
    )
    doc = GraphFile(kind="graph", graph=child, weights=trained, probes=probes)
    return Bred(doc, nodes, edges, detail, (fa, fb), result.val, result.test)
