"""Mutation always yields a valid, runnable graph; growth is function-preserving where it
says so (DESIGN §3.2); frozen nodes never change. Real compiles, real forward passes."""

from __future__ import annotations

import math
import multiprocessing
import os
import random
import zlib
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
import torch

from openbrains.engine.compile import Brain, compile_graph
from openbrains.engine.evolve.inherit import child_brain, inherit_weights
from openbrains.engine.evolve.mutate import (
    DEFAULT_WEIGHTS,
    OPERATORS,
    apply_operator,
    mutate,
)
from openbrains.engine.evolve.net2net import Remap, widen_weights
from openbrains.engine.evolve.random import SizeBounds, random_graph
from openbrains.engine.graph import Graph
from openbrains.engine.shapes import infer_specs
from openbrains.engine.train import genes
from openbrains.engine.units import REGISTRY
from tests.engine.specs import MODALITIES, TEXT_IN, TEXT_OUT

BOUNDS = SizeBounds(max_nodes=8, max_width=32)
PER_OPERATOR = 1000
TOL = 1e-5


def draw(i: int) -> Graph:
    """Random graph ``i``: all modalities in turn, text graphs mostly causal."""
    rng = random.Random(i)
    kind = list(MODALITIES)[i % len(MODALITIES)]
    causal = kind == "text" and rng.random() < 0.7
    ins, outs = MODALITIES[kind]
    return random_graph(rng, ins, outs, BOUNDS, causal=causal)


@torch.no_grad()
def outputs(brain: Brain, xs: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    """Outputs by name (the order of a brain's outputs follows its topology)."""
    brain.eval()
    y = brain(*xs)
    return dict(zip(brain.output_names, y if isinstance(y, tuple) else (y,)))


def max_gap(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    return max((a[k] - b[k]).abs().max().item() for k in a)


def width_ok(graph: Graph, uid: str) -> bool:
    p = REGISTRY.get(graph.nodes[uid].unit).param_map["width"]
    w = graph.nodes[uid].params["width"]
    lo, hi = max(p.low, BOUNDS.min_width), min(p.high, BOUNDS.max_width)
    return lo <= w <= hi


# ----- the property sweep (two processes: it compiles ~14,000 brains) ----------------------
def _apply_and_check(name: str, i: int, g: Graph, parent: Brain, xs, y0) -> dict[str, Any]:
    rng = random.Random(i * 7919 + zlib.crc32(name.encode()))
    m = apply_operator(name, g, parent.weights(), rng, BOUNDS)
    if m is None:
        return {"applied": False}
    where = f"graph {i} {name}: {m.detail}"
    problems: list[str] = []
    m.graph.validate()
    if m.graph.lineage.get("mutation") != name:
        problems.append(f"{where}: lineage not recorded")
    if name in ("widen", "narrow"):
        uid = m.detail.split()[2]
        if not width_ok(m.graph, uid):
            problems.append(f"{where}: width outside the bounds")
    child, _ = child_brain(m.graph, m.weights, seed=i + 1)
    y1 = outputs(child, xs)
    if not all(torch.isfinite(y).all() for y in y1.values()):
        problems.append(f"{where}: non-finite output")
    gap = max_gap(y0, y1) if m.preserving else 0.0
    if gap > TOL:
        problems.append(f"{where}: preserving mutation moved outputs by {gap:.3g}")
    return {"applied": True, "preserving": m.preserving, "problems": problems}


def sweep(worker: int, workers: int, per_operator: int, max_graphs: int = 20_000) -> dict:
    """Apply each operator to random graphs until it has been applied ``per_operator`` times."""
    applied: Counter[str] = Counter()
    preserving: Counter[str] = Counter()
    problems: list[str] = []
    i = worker
    while i < max_graphs and min(applied[n] for n in OPERATORS) < per_operator:
        g = draw(i)
        parent = compile_graph(g, seed=i)
        xs = parent.example_inputs(batch=2, time=6)
        y0 = outputs(parent, xs)
        for name in OPERATORS:
            if applied[name] >= per_operator:
                continue
            r = _apply_and_check(name, i, g, parent, xs, y0)
            if r["applied"]:
                applied[name] += 1
                preserving[name] += r["preserving"]
                problems.extend(r["problems"])
        i += workers
    return {"applied": applied, "preserving": preserving, "problems": problems}


@pytest.fixture(scope="module")
def swept() -> dict:
    workers = 2 if (os.cpu_count() or 1) >= 2 else 1
    share = math.ceil(PER_OPERATOR / workers)
    if workers == 1:
        parts = [sweep(0, 1, share)]
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            parts = list(pool.map(sweep, range(workers), [workers] * workers, [share] * workers))
    total: dict[str, Any] = {"applied": Counter(), "preserving": Counter(), "problems": []}
    for part in parts:
        total["applied"].update(part["applied"])
        total["preserving"].update(part["preserving"])
        total["problems"].extend(part["problems"])
    print("\napplied", dict(total["applied"]), "\npreserving", dict(total["preserving"]))
    return total


@pytest.mark.slow
def test_every_operator_on_a_thousand_graphs_gives_valid_runnable_children(swept: dict) -> None:
    for name in OPERATORS:
        assert swept["applied"][name] >= PER_OPERATOR, (name, swept["applied"][name])
    assert not swept["problems"], swept["problems"][:10]


@pytest.mark.slow
def test_preserving_mutations_are_common_enough_to_mean_something(swept: dict) -> None:
    applied, kept = swept["applied"], swept["preserving"]
    for name in ("add_unit", "change_hparams"):
        assert kept[name] == applied[name], name  # always function-preserving
    assert kept["widen"] / applied["widen"] > 0.6, kept["widen"] / applied["widen"]
    assert kept["add_edge"] / applied["add_edge"] > 0.35, kept["add_edge"] / applied["add_edge"]
    for name in ("remove_unit", "change_unit", "narrow", "reset_weights"):
        assert kept[name] == 0, name


# ----- focused behaviour -------------------------------------------------------------------
def test_mutate_always_returns_a_valid_graph_with_default_operators() -> None:
    seen: Counter[str] = Counter()
    for i in range(150):
        g = draw(i)
        brain = compile_graph(g, seed=0)
        m = mutate(g, brain.weights(), random.Random(i), BOUNDS)
        m.graph.validate()
        assert m.graph.lineage == {"mutation": m.name, "detail": m.detail}
        assert m.detail
        seen[m.name] += 1
    assert set(seen) == set(DEFAULT_WEIGHTS), seen


def test_operator_weights_are_configurable_and_fall_back_to_training_genes() -> None:
    g = draw(3)
    w = compile_graph(g, seed=0).weights()
    for i in range(10):
        assert mutate(g, w, random.Random(i), BOUNDS, ops={"widen": 1.0}).name in (
            "widen",
            "change_hparams",
        )
    frozen = g.copy()
    for node in frozen.nodes.values():
        node.frozen = True
    m = mutate(frozen, w, random.Random(0), BOUNDS, ops=["remove_unit", "change_unit"])
    assert m.name == "change_hparams" and m.preserving
    with pytest.raises(KeyError):
        mutate(g, w, random.Random(0), BOUNDS, ops={"grow_wings": 1.0})


def test_add_unit_repoints_the_existing_edge_in_place() -> None:
    for i in range(40):
        g = draw(i)
        brain = compile_graph(g, seed=0)
        m = apply_operator("add_unit", g, brain.weights(), random.Random(i), BOUNDS)
        if m is None:
            continue
        moved = [u for u, e in g.edges.items() if m.graph.edges[u].src != e.src]
        assert len(moved) == 1
        edge = m.graph.edges[moved[0]]
        assert list(m.graph.edges)[: len(g.edges)] == list(g.edges)  # same uid, same place
        gate = m.graph.nodes[edge.src]
        assert gate.uid not in g.nodes and m.preserving
        if REGISTRY.get(gate.unit).starts_as_identity:  # straight on the wire: A → N → B
            (only,) = m.graph.in_edges(gate.uid)
            assert only.src == g.edges[moved[0]].src
            continue
        assert gate.unit == "residual"
        first, second = m.graph.in_edges(gate.uid)
        assert first.src == g.edges[moved[0]].src  # A first: the gate starts as A itself
        assert m.graph.nodes[second.src].uid not in g.nodes


def test_hparam_genes_stay_in_their_ranges() -> None:
    g = draw(4)
    w = compile_graph(g, seed=0).weights()
    for i in range(200):
        m = apply_operator("change_hparams", g, w, random.Random(i), BOUNDS)
        assert m is not None and m.preserving
        h = m.graph.hparams
        lr, batch, optimizer = (genes.gene(n).evolves for n in ("lr", "batch_size", "optimizer"))
        assert lr.low <= h.get("lr", 3e-3) <= lr.high
        assert h.get("batch_size", 32) in batch.choices
        assert h.get("optimizer", "adam") in optimizer.choices
        assert genes.check(h) == h  # mutation never leaves a gene's declared range
        g = m.graph


def test_net2net_widening_through_every_kind_of_reader_is_exact() -> None:
    """A dense layer read by attention, flatten, gru, a summing port (as first and as later
    wire), a concat and the output's adapter: widened, the brain computes the same."""
    g = Graph()
    x = g.add_node("input", {"name": "x", "channels": 6, "time": 4}).uid
    y = g.add_node("output", {"name": "y", "channels": 3, "time": 1}).uid
    p = g.add_node("dense", {"width": 8, "activation": "tanh"}).uid
    other = g.add_node("dense", {"width": 5}).uid
    chain = [
        g.add_node(u, prm).uid
        for u, prm in [
            ("activation", {"kind": "gelu"}),
            ("attention", {"heads": 2, "head_dim": 4}),
            ("pool", {"kind": "max", "size": 2}),
            ("flatten", {}),
            ("dense", {"width": 7}),
        ]
    ]
    first_sum = g.add_node("sum").uid
    later_sum = g.add_node("dense", {"width": 4}).uid
    cat = g.add_node("concat").uid
    gru = g.add_node("gru", {"width": 6}).uid
    g.connect(x, p)
    g.connect(x, other)
    for a, b in zip([p, *chain], chain):
        g.connect(a, b)
    g.connect(p, first_sum)
    g.connect(other, first_sum)
    g.connect(other, later_sum)
    g.connect(p, later_sum)
    g.connect(other, cat)
    g.connect(p, cat)
    g.connect(cat, gru)
    for src in (chain[-1], first_sum, later_sum, gru, p):
        g.connect(src, y)
    parent = compile_graph(g, seed=0)
    xs = parent.example_inputs(batch=3)
    for w1, seed in ((13, 1), (16, 2), (9, 3)):
        child = g.copy()
        child.nodes[p].params["width"] = w1
        rng = random.Random(seed)
        remap = Remap((*range(8), *(rng.randrange(8) for _ in range(w1 - 8))), 8)
        weights, exact = widen_weights(
            child, infer_specs(g), infer_specs(child), p, remap, parent.weights()
        )
        assert exact
        brain, report = child_brain(child, weights, seed=5)
        assert not report.partial and not report.fresh
        assert max_gap(outputs(parent, xs), outputs(brain, xs)) <= TOL


def test_widening_before_a_norm_is_flagged_not_preserving() -> None:
    g = Graph()
    x = g.add_node("input", {"name": "x", "channels": 6, "time": 1}).uid
    y = g.add_node("output", {"name": "y", "channels": 3, "time": 1}).uid
    p = g.add_node("dense", {"width": 8}).uid
    n = g.add_node("layernorm").uid
    g.connect(x, p)
    g.connect(p, n)
    g.connect(n, y)
    w = compile_graph(g, seed=0).weights()
    m = apply_operator("widen", g, w, random.Random(0), BOUNDS)
    assert m is not None and m.name == "widen" and not m.preserving
    compile_graph(m.graph)


def test_narrow_respects_the_lower_bound() -> None:
    g = Graph()
    x = g.add_node("input", {"name": "x", "channels": 6, "time": 1}).uid
    y = g.add_node("output", {"name": "y", "channels": 3, "time": 1}).uid
    p = g.add_node("dense", {"width": 4}).uid
    g.connect(x, p)
    g.connect(p, y)
    w = compile_graph(g, seed=0).weights()
    assert apply_operator("narrow", g, w, random.Random(0), BOUNDS) is None
    m = apply_operator("widen", g, w, random.Random(0), SizeBounds(max_width=5))
    assert m is not None and m.graph.nodes[p].params["width"] == 5
    assert apply_operator("widen", m.graph, w, random.Random(0), SizeBounds(max_width=5)) is None


def freeze_some(g: Graph, rng: random.Random) -> list[str]:
    hidden = [n for n in g.nodes.values() if n.unit not in ("input", "output")]
    chosen = rng.sample(hidden, max(1, len(hidden) // 3))
    if rng.random() < 0.3:
        chosen.append(rng.choice(g.output_nodes()))
    for n in chosen:
        n.frozen = True
    return [n.uid for n in chosen]


def frozen_weights(brain: Brain, uids: list[str]) -> dict[str, torch.Tensor]:
    prefixes = tuple(f"node/{u}/" for u in uids)
    return {k: v.clone() for k, v in brain.weights().items() if k.startswith(prefixes)}


def test_frozen_nodes_survive_many_mutations_unchanged() -> None:
    for i in range(30):
        rng = random.Random(i)
        g = draw(i)
        frozen = freeze_some(g, rng)
        before = {u: g.nodes[u].to_dict() for u in frozen}
        brain = compile_graph(g, seed=i)
        live = set(brain.plan.nodes)
        reference = frozen_weights(brain, frozen)
        for step in range(20):
            m = mutate(g, brain.weights(), rng, BOUNDS)
            brain, _ = child_brain(m.graph, m.weights, seed=step)
            g = m.graph
            for u in frozen:
                assert g.nodes[u].to_dict() == before[u], (i, step, m.detail)
                assert (u in brain.plan.nodes) == (u in live), (i, step, m.detail)
            now = frozen_weights(brain, frozen)
            assert now.keys() == reference.keys(), (i, step, m.detail)
            for k, t in reference.items():
                assert torch.equal(now[k], t), (i, step, k, m.detail)


def test_mutated_causal_graphs_stay_causal() -> None:
    t_cut = 4
    for i in range(40):
        rng = random.Random(i)
        g = random_graph(rng, TEXT_IN, TEXT_OUT, BOUNDS, causal=True)
        brain = compile_graph(g, seed=i)
        for step in range(3):
            m = mutate(g, brain.weights(), rng, BOUNDS)
            g = m.graph
            brain, _ = child_brain(g, m.weights, seed=step)
        x = torch.randint(0, 256, (2, 9, 1)).float()
        x2 = x.clone()
        x2[:, t_cut + 1 :] = torch.randint(0, 256, (2, 9 - t_cut - 1, 1)).float()
        a, b = outputs(brain, [x])["next"], outputs(brain, [x2])["next"]
        assert torch.allclose(a[:, : t_cut + 1], b[:, : t_cut + 1], atol=1e-6), (i, m.detail)


# ----- inheritance -------------------------------------------------------------------------
def test_inherit_copies_same_shapes_and_leading_slices() -> None:
    g = Graph()
    x = g.add_node("input", {"name": "x", "channels": 6, "time": 1}).uid
    y = g.add_node("output", {"name": "y", "channels": 3, "time": 1}).uid
    dense = g.add_node("dense", {"width": 8}).uid
    g.connect(x, dense)
    g.connect(dense, y)
    parent = compile_graph(g, seed=0)
    same, report = child_brain(g, parent.weights(), seed=1)
    assert not report.partial and not report.fresh and report.fraction == 1.0
    for k, t in parent.weights().items():
        assert torch.equal(same.weights()[k], t)
    wide = g.copy()
    wide.nodes[dense].params["width"] = 11
    wide.add_node("layernorm", uid="fresh")  # a dead node: compiled out, nothing to inherit
    brain = compile_graph(wide, seed=1)
    report = inherit_weights(brain, parent.weights())
    key = f"node/{dense}/linear.weight"
    assert key in report.partial and f"node/{y}/adapter.weight" in report.partial
    old = parent.weights()[key]
    assert torch.equal(brain.weights()[key][:8], old)
    exact = inherit_weights(compile_graph(wide, seed=1), parent.weights(), exact_only=True)
    assert key in exact.fresh and not exact.partial
    assert report.summary() == "1 copied, 3 partial, 0 fresh"  # adapter.bias fits
