"""Crossover (DESIGN §3.3): children always validate and run; matching genes come from
either parent with their weights, disjoint genes only from the fitter; frozen nodes come
through unchanged. Parents are real lineages grown by mutation from a shared ancestor."""

from __future__ import annotations

import random

import pytest
import torch

from openbrains.engine.compile import Brain, compile_graph
from openbrains.engine.evolve.crossover import crossover
from openbrains.engine.evolve.inherit import child_brain
from openbrains.engine.evolve.mutate import mutate
from openbrains.engine.evolve.random import SizeBounds, random_graph
from openbrains.engine.graph import Graph
from tests.engine.specs import MODALITIES

BOUNDS = SizeBounds(max_nodes=8, max_width=32)
Weights = dict[str, torch.Tensor]


def ancestor(i: int, rng: random.Random) -> Graph:
    kind = list(MODALITIES)[i % len(MODALITIES)]
    ins, outs = MODALITIES[kind]
    return random_graph(rng, ins, outs, BOUNDS, causal=kind == "text" and rng.random() < 0.7)


def lineage(g: Graph, brain: Brain, steps: int, rng: random.Random) -> tuple[Graph, Weights]:
    """``steps`` mutations, each child compiled and given its inherited weights."""
    for step in range(steps):
        m = mutate(g, brain.weights(), rng, BOUNDS)
        g = m.graph
        brain, _ = child_brain(g, m.weights, seed=step)
    return g, brain.weights()


def parents(i: int, freeze: bool = False) -> tuple[Graph, Weights, Graph, Weights, list[str]]:
    rng = random.Random(i)
    g = ancestor(i, rng)
    frozen: list[str] = []
    if freeze:
        hidden = [n for n in g.nodes.values() if n.unit not in ("input", "output")]
        for n in rng.sample(hidden, max(1, len(hidden) // 3)):
            n.frozen = True
            frozen.append(n.uid)
    brain = compile_graph(g, seed=i)
    a, wa = lineage(g, brain, rng.randint(1, 6), rng)
    b, wb = lineage(g, brain, rng.randint(1, 6), rng)
    return a, wa, b, wb, frozen


def gene(g: Graph, uid: str) -> dict | None:
    if uid in g.nodes:
        d = g.nodes[uid].to_dict()
        d.pop("pos")
        return d
    if uid in g.edges:
        return g.edges[uid].to_dict()
    return None


def run(graph: Graph, weights: Weights) -> None:
    brain, _ = child_brain(graph, weights, seed=0)
    brain.eval()
    with torch.no_grad():
        y = brain(*brain.example_inputs(batch=2, time=6))
    for t in y if isinstance(y, tuple) else (y,):
        assert torch.isfinite(t).all()


def check_genes(
    a: Graph, wa: Weights, b: Graph, wb: Weights, fitter: str, child: Graph, weights: Weights
) -> None:
    best, other = (a, b) if fitter == "a" else (b, a)
    w_best, w_other = (wa, wb) if fitter == "a" else (wb, wa)
    for uid in child.uids():
        mine = gene(child, uid)
        in_best, in_other = gene(best, uid), gene(other, uid)
        if in_best is None and in_other is None:
            assert uid in child.edges, uid  # only repair makes genes: new wires
            continue
        assert in_best is not None, f"gene {uid} comes only from the less fit parent"
        if in_other is None:
            assert mine == in_best, f"disjoint gene {uid} differs from the fitter parent's"
        else:
            assert mine in (in_best, in_other), f"matching gene {uid} is from neither parent"
        # a gene's weights travel with it: from the parent whose version the child has
        for key, t in weights.items():
            if key.split("/")[1] != uid:
                continue
            sources = [w for w, g in ((w_best, best), (w_other, other)) if gene(g, uid) == mine]
            assert any(key in w and w[key] is t for w in sources), key
    for uid in other.uids() - best.uids():
        assert uid not in child.uids()


@pytest.mark.slow
def test_children_of_many_lineages_validate_run_and_take_genes_from_parents() -> None:
    swapped = fallbacks = 0
    for i in range(300):
        a, wa, b, wb, _ = parents(i)
        rng = random.Random(i)
        fit_a, fit_b = rng.random(), rng.random()
        child, weights, detail = crossover(a, wa, fit_a, b, wb, fit_b, rng)
        child.validate()
        run(child, weights)
        check_genes(a, wa, b, wb, "a" if fit_a > fit_b else "b", child, weights)
        assert child.lineage["mutation"] == "crossover" and child.lineage["detail"] == detail
        fallbacks += "fell back" in detail
        swapped += "(0 from" not in detail
    assert fallbacks < 10, fallbacks
    assert swapped > 150, swapped  # children really mix their parents


def test_unrelated_parents_give_the_fitter_topology() -> None:
    rng = random.Random(0)
    ins, outs = MODALITIES["vector"]
    a = random_graph(rng, ins, outs, BOUNDS)
    b = random_graph(rng, ins, outs, BOUNDS)
    wa, wb = compile_graph(a, seed=0).weights(), compile_graph(b, seed=1).weights()
    child, weights, _ = crossover(a, wa, 0.1, b, wb, 0.9, random.Random(0))
    assert child.structure_hash() == b.structure_hash()
    assert weights.keys() == wb.keys()
    child, _, _ = crossover(a, wa, None, b, wb, float("nan"), random.Random(0))
    assert child.structure_hash() in (a.structure_hash(), b.structure_hash())


def test_crossover_is_reproducible_from_the_rng() -> None:
    a, wa, b, wb, _ = parents(11)
    one = crossover(a, wa, 1.0, b, wb, 0.5, random.Random(3))
    two = crossover(a, wa, 1.0, b, wb, 0.5, random.Random(3))
    assert one[0].to_dict() == two[0].to_dict() and one[2] == two[2]


def test_swapped_in_rewiring_is_repaired() -> None:
    """One parent re-routes a wire through a node the other does not have; taking that
    wire's version leaves a dangling edge, which repair must fix."""
    g = Graph()
    x = g.add_node("input", {"name": "x", "channels": 4, "time": 1}).uid
    y = g.add_node("output", {"name": "y", "channels": 2, "time": 1}).uid
    d = g.add_node("dense", {"width": 8}).uid
    g.connect(x, d)
    wire = g.connect(d, y).uid
    other = g.copy()
    extra = other.add_node("dense", {"width": 6}).uid
    other.connect(d, extra)
    other.edges[wire].src = extra  # the shared wire now leaves from a gene g lacks
    other.edges[wire] = other.edges.pop(wire)  # after extra's input wire
    wg, wo = compile_graph(g, seed=0).weights(), compile_graph(other, seed=1).weights()
    for seed in range(20):
        child, weights, detail = crossover(g, wg, 1.0, other, wo, 0.0, random.Random(seed))
        child.validate()
        assert set(child.nodes) == set(g.nodes)
        assert "fell back" not in detail
        run(child, weights)


def test_frozen_nodes_come_through_crossover_unchanged() -> None:
    checked = 0
    for i in range(40):
        a, wa, b, wb, frozen = parents(i, freeze=True)
        rng = random.Random(i)
        for _ in range(3):
            child, weights, _ = crossover(a, wa, rng.random(), b, wb, rng.random(), rng)
            brain, _ = child_brain(child, weights, seed=0)
            now = brain.weights()
            for uid in frozen:
                if uid not in child.nodes:
                    continue
                assert gene(child, uid) in (gene(a, uid), gene(b, uid))
                parent_w = wa if gene(child, uid) == gene(a, uid) else wb
                for key, t in parent_w.items():
                    if key.startswith(f"node/{uid}/"):
                        assert torch.equal(now[key], t), (i, key)
                        checked += 1
            a, wa, b, wb = child, now, a, wa  # keep breeding the lineage
    assert checked > 100, checked
