"""Species (DESIGN §3.4): a NEAT compatibility distance on genes and a speciator whose
threshold adapts toward a target number of species, with stable ids."""

from __future__ import annotations

import random
import statistics

import orjson

from openbrains.engine.compile import compile_graph
from openbrains.engine.evolve.mutate import mutate
from openbrains.engine.evolve.random import SizeBounds, random_graph
from openbrains.engine.evolve.species import Coefficients, Speciator, distance, node_difference
from openbrains.engine.graph import Graph
from tests.engine.specs import MODALITIES

BOUNDS = SizeBounds(max_nodes=8, max_width=32)
STRUCTURAL = {
    "add_unit": 3.0,
    "remove_unit": 1.0,
    "add_edge": 2.0,
    "remove_edge": 1.0,
    "change_unit": 1.0,
    "widen": 1.0,
    "change_param": 1.0,
}


def graph(i: int) -> Graph:
    rng = random.Random(i)
    ins, outs = MODALITIES[list(MODALITIES)[i % len(MODALITIES)]]
    return random_graph(rng, ins, outs, BOUNDS)


def descendants(g: Graph, steps: int, rng: random.Random) -> list[Graph]:
    """``g`` after 1..steps mutations that change genes."""
    weights = compile_graph(g, seed=0).weights()
    out = []
    for _ in range(steps):
        m = mutate(g, weights, rng, BOUNDS, ops=STRUCTURAL)
        g, weights = m.graph, m.weights
        out.append(g)
    return out


def test_identical_graphs_are_at_distance_zero() -> None:
    for i in range(12):
        g = graph(i)
        assert distance(g, g) == 0.0
        assert distance(g, g.copy()) == 0.0
        twin = g.copy()
        twin.hparams["lr"] = 0.05  # training genes and weights are not structure
        assert distance(g, twin) == 0.0


def test_distance_is_symmetric_and_counts_unit_changes_as_different() -> None:
    g = Graph()
    x = g.add_node("input", {"name": "x", "channels": 4, "time": 1}).uid
    y = g.add_node("output", {"name": "y", "channels": 2, "time": 1}).uid
    d = g.add_node("dense", {"width": 8}).uid
    g.connect(x, d)
    g.connect(d, y)
    changed = g.copy()
    changed.nodes[d].unit, changed.nodes[d].params = "gru", {"width": 8}
    c = Coefficients(disjoint=1.0, params=0.5)
    assert node_difference(g.nodes[d], changed.nodes[d]) == 1.0
    assert distance(g, changed, c) == distance(changed, g, c) == 0.5 * 1 / 3
    wider = g.copy()
    wider.nodes[d].params["width"] = 16
    assert 0 < distance(g, wider, c) < distance(g, changed, c)


def test_distance_grows_with_mutations() -> None:
    near, mid, far = [], [], []
    for i in range(30):
        g = graph(i)
        line = descendants(g, 12, random.Random(i))
        assert distance(g, line[0]) > 0, line[0].lineage
        near.append(distance(g, line[0]))
        mid.append(distance(g, line[3]))
        far.append(distance(g, line[11]))
    assert statistics.mean(near) < statistics.mean(mid) < statistics.mean(far)
    unrelated = [distance(graph(i), graph(i + 100)) for i in range(10)]
    assert min(unrelated) > statistics.mean(far)


def test_speciator_groups_relatives_and_keeps_ids_stable() -> None:
    sp = Speciator(threshold=0.3, target=3, step=0.0)
    roots = [graph(i) for i in range(3)]
    ids = [sp.assign(r) for r in roots]
    assert len(set(ids)) == 3
    for i, r in enumerate(roots):
        for child in descendants(r, 2, random.Random(i))[:1]:
            if distance(r, child) <= 0.3:
                assert sp.assign(child) == ids[i]
    assert [sp.assign(r) for r in roots] == ids  # the same graph, the same species
    assert sp.threshold == 0.3


def test_threshold_adapts_toward_the_target() -> None:
    many = Speciator(threshold=0.2, target=2)
    for i in range(40):
        many.assign(graph(i))  # unrelated graphs: far too many species at first
    assert many.threshold > 0.2
    few = Speciator(threshold=1.0, target=5)
    g = graph(0)
    for _ in range(40):
        few.assign(g)  # one species where five are wanted
    assert few.threshold < 1.0
    lo, hi = few.bounds
    assert lo <= few.threshold <= hi


def test_expired_species_ids_are_never_reused() -> None:
    sp = Speciator(threshold=0.1, target=2, step=0.0, expire_after=5)
    first = sp.assign(graph(0))
    for i in range(1, 8):
        sp.assign(graph(i))
    assert first not in sp.species
    again = sp.assign(graph(0))
    assert again != first and again == max(s for s in sp.species)


def test_speciator_state_round_trips() -> None:
    sp = Speciator(threshold=0.4, target=3)
    for i in range(6):
        sp.assign(graph(i))
    state = orjson.loads(orjson.dumps(sp.to_dict()))
    back = Speciator(target=3)
    back.load(state)
    assert back.threshold == sp.threshold and back.clock == sp.clock
    assert [back.assign(graph(i)) for i in range(6)] == [sp.assign(graph(i)) for i in range(6)]
