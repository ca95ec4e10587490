"""Causal graphs never look ahead: d output[t] / d input[s > t] == 0, per unit and per
random graph (DESIGN §3.1). Without this, next-token scores would be fake."""

from __future__ import annotations

import random

import pytest
import torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.errors import GraphError
from openbrains.engine.evolve.random import SizeBounds, hidden_units, random_graph, sample_params
from openbrains.engine.graph import Graph
from openbrains.engine.signal import SignalSpec
from openbrains.engine.units import REGISTRY
from tests.engine.specs import TEXT_IN, TEXT_OUT

FLOAT_IN = {"x": SignalSpec(4, None)}
FLOAT_OUT = {"y": SignalSpec(3, None)}
T = 9


def future_leak(brain: torch.nn.Module) -> float:
    """Largest |d y[t] / d x[s]| over s > t (0 for a causal brain)."""
    brain.eval()
    x = torch.randn(2, T, 4, requires_grad=True)
    y = brain(x)
    worst = 0.0
    for t in range(T - 1):
        (g,) = torch.autograd.grad(y[:, t].sum(), x, retain_graph=True, allow_unused=True)
        if g is not None:
            worst = max(worst, g[:, t + 1 :].abs().max().item())
    return worst


def single_unit_graph(unit_name: str, params: dict, fan_in: int = 1) -> Graph:
    g = Graph(causal=True)
    x = g.add_node("input", {"name": "x", "channels": 4, "time": 0})
    y = g.add_node("output", {"name": "y", "channels": 3, "time": 0})
    node = g.add_node(unit_name, params)
    g.connect(x.uid, node.uid)
    for _ in range(fan_in - 1):
        pre = g.add_node("dense", {"width": 5})
        g.connect(x.uid, pre.uid)
        g.connect(pre.uid, node.uid)
    g.connect(node.uid, y.uid)
    return g


@pytest.mark.parametrize("unit", [u.name for u in hidden_units(causal=True)])
def test_each_unit_is_causal_in_a_causal_graph(unit: str) -> None:
    rng = random.Random(0)
    spec = REGISTRY.get(unit)
    fan_in = 3 if spec.category == "merge" else 1
    tried = 0
    for _ in range(12):
        params = sample_params(spec, rng, SizeBounds(max_width=16), causal=True)
        if not spec.supports_causal(spec.defaults() | params):
            continue
        brain = compile_graph(single_unit_graph(unit, params, fan_in), seed=0)
        assert future_leak(brain) == 0.0, (unit, params)
        tried += 1
    assert tried > 0


def test_non_causal_settings_are_refused_in_causal_graphs() -> None:
    with pytest.raises(GraphError, match="causal"):
        compile_graph(single_unit_graph("conv1d", {"stride": 2}))
    # and a non-causal graph really does look ahead with a wide conv
    g = single_unit_graph("conv1d", {"kernel": 5})
    g.causal = False
    assert future_leak(compile_graph(g, seed=0)) > 0.0


def test_random_causal_graphs_never_look_ahead() -> None:
    for i in range(150):
        rng = random.Random(10_000 + i)
        g = random_graph(
            rng, FLOAT_IN, FLOAT_OUT, SizeBounds(max_nodes=7, max_width=16), causal=True
        )
        assert future_leak(compile_graph(g, seed=i)) == 0.0, g.to_dict()


def test_random_causal_text_graphs_ignore_future_tokens() -> None:
    for i in range(100):
        rng = random.Random(20_000 + i)
        g = random_graph(rng, TEXT_IN, TEXT_OUT, SizeBounds(max_nodes=6, max_width=16), causal=True)
        brain = compile_graph(g, seed=i).eval()
        ids = torch.randint(0, 256, (2, T, 1)).float()
        base = brain(ids)
        for t in range(T - 1):
            changed = ids.clone()
            changed[:, t + 1 :] = torch.randint(0, 256, (2, T - t - 1, 1)).float()
            assert torch.equal(brain(changed)[:, : t + 1], base[:, : t + 1]), (i, t)
