"""The depthwise-separable convolution (``sepconv2d``): the same function as the full
convolution its two factors multiply out to, its declared cost, causality over time,
batched training and a clear C-export refusal (tests/engine/test_templates.py has the
template that uses it under a tight bound). Real compiles, forward and backward passes."""

from __future__ import annotations

import random
import re

import pytest
import torch
import torch.nn.functional as F

from openbrains.engine.compile import compile_graph
from openbrains.engine.evolve.inherit import child_brain
from openbrains.engine.evolve.net2net import Remap, widen_weights
from openbrains.engine.exporters.c import refusal
from openbrains.engine.graph import Graph
from openbrains.engine.shapes import infer_specs
from openbrains.engine.train.batched import CHECKED_UNITS
from tests.engine.test_batched import (  # noqa: F401 (digits: a fixture)
    chain,
    digits,
    first_sibling_matches_alone,
)
from tests.nodes.test_research_units import future_leak, jolt

GRID = {"name": "image", "channels": 3, "time": 36, "grid_h": 6, "grid_w": 6}
GRID["modality"] = "image"
LABEL = {"name": "label", "channels": 10, "time": 1}


def image_graph(params: dict) -> Graph:
    out = {"name": "y", "channels": 5, "time": 0}
    return chain([("sepconv2d", params)], inp=GRID, out=out)


@pytest.mark.parametrize(
    "params",
    [
        {"width": 4, "kernel": 3, "stride": 1, "multiplier": 1},
        {"width": 7, "kernel": 5, "stride": 2, "multiplier": 2},
        {"width": 2, "kernel": 1, "stride": 1, "multiplier": 3, "activation": "tanh"},
    ],
)
def test_it_is_the_full_convolution_its_two_factors_multiply_out_to(params: dict) -> None:
    brain = jolt(compile_graph(image_graph(params), seed=1))
    module = brain.core.nodes.n_n0
    m, c = params["multiplier"], GRID["channels"]
    dw = module.dw.weight.detach()  # [C·m, 1, k, k]
    pw = module.pw.weight.detach()[:, :, 0, 0]  # [W, C·m]
    full = torch.einsum("wcm,cmhk->wchk", pw.view(-1, c, m), dw.view(c, m, *dw.shape[2:]))
    x = torch.randn(2, 36, c)
    img = x.reshape(2, 6, 6, c).permute(0, 3, 1, 2)
    k, s = params["kernel"], params["stride"]
    ref = F.conv2d(img, full, module.pw.bias.detach(), stride=s, padding=k // 2)
    act = torch.tanh if params.get("activation") == "tanh" else torch.relu
    expected = act(ref).permute(0, 2, 3, 1).reshape(2, -1, params["width"])
    got = module(x)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5)
    side = (6 + 2 * (k // 2) - k) // s + 1
    assert brain.plan.nodes["n0"].out.meta.grid == (side, side)


def test_it_costs_what_it_declares_and_far_less_than_a_full_convolution() -> None:
    sep = compile_graph(image_graph({"width": 24, "kernel": 3}), seed=0)
    full = compile_graph(chain([("conv2d", {"width": 24, "kernel": 3})], inp=GRID), seed=0)
    declared = 3 * 1 * (3 * 3 + 24) + 24  # C·m·(k² + W) + W
    own = sum(p.numel() for p in sep.core.nodes.n_n0.parameters())
    assert own == declared
    assert own * 4 < sum(p.numel() for p in full.core.nodes.n_n0.parameters())


def test_over_time_in_a_causal_graph_no_output_sees_a_later_input() -> None:
    g = Graph(causal=True)
    g.add_node("input", {"name": "x", "channels": 4, "time": 0}, uid="x")
    g.add_node("sepconv2d", {"width": 6, "kernel": 5, "multiplier": 2}, uid="n")
    g.add_node("output", {"name": "y", "channels": 3, "time": 0}, uid="y")
    g.connect("x", "n", uid="e1")
    g.connect("n", "y", uid="e2")
    brain = jolt(compile_graph(g, seed=0))
    x = torch.randn(2, 9, 4)
    assert future_leak(brain, x) == 0.0
    assert brain(x).shape == (2, 9, 3)


def test_gradients_are_finite_and_reach_both_factors() -> None:
    brain = jolt(compile_graph(image_graph({"width": 5, "multiplier": 2}), seed=2))
    loss = brain(torch.randn(4, 36, 3) * 3).pow(2).mean()
    loss.backward()
    module = brain.core.nodes.n_n0
    for p in (module.dw.weight, module.pw.weight, module.pw.bias):
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0


def test_siblings_trained_together_match_training_alone(digits) -> None:  # noqa: F811
    assert "sepconv2d" in CHECKED_UNITS
    graph = chain(
        [
            ("conv2d", {"width": 4}),
            ("sepconv2d", {"width": 6, "multiplier": 2}),
            ("pool", {"kind": "avg", "scope": "global"}),
        ]
    )
    first_sibling_matches_alone(
        graph, [compile_graph(graph, seed=s).weights() for s in range(2)], digits
    )


def test_the_c_export_refuses_it_in_one_line_naming_the_unit() -> None:
    graph = chain([("sepconv2d", {"width": 4}), ("flatten", {})], inp=GRID, out=LABEL)
    why = refusal(compile_graph(graph, seed=0))
    assert why is not None and "\n" not in why
    assert re.search(r"node 'n0' \(unit 'sepconv2d'\) has no C form", why)


# ----- Net2Net: widening the layer before it, and widening it -------------------------------
def _widened_gap(g: Graph, uid: str, new_width: int, x: torch.Tensor) -> tuple[bool, float]:
    parent = jolt(compile_graph(g, seed=0)).eval()
    old = g.nodes[uid].params["width"]
    child = g.copy()
    child.nodes[uid].params["width"] = new_width
    rng = random.Random(new_width)
    extra = (rng.randrange(old) for _ in range(new_width - old))
    remap = Remap((*range(old), *extra), old)
    weights, exact = widen_weights(
        child, infer_specs(g), infer_specs(child), uid, remap, parent.weights()
    )
    brain, _ = child_brain(child, weights, seed=5)
    with torch.no_grad():
        return exact, (parent(x) - brain.eval()(x)).abs().max().item()


@pytest.mark.parametrize("multiplier", [1, 3])
@pytest.mark.parametrize("over", ["grid", "time"])
def test_widening_before_it_and_widening_it_keep_the_function(multiplier: int, over: str) -> None:
    """A copied input channel copies its per-channel filters and the 1×1 mix splits their
    columns (exact); its own width grows by copying rows of the mix (exact)."""
    sep = {"width": 5, "kernel": 3, "multiplier": multiplier}
    units = [("conv2d", {"width": 4, "kernel": 3}), ("sepconv2d", sep), ("dense", {"width": 6})]
    if over == "grid":
        g, x = chain(units, inp=GRID, out=LABEL), torch.randn(2, 36, 3)
    else:
        inp = {"name": "x", "channels": 3, "time": 0}
        g, x = (
            chain(units, inp=inp, out={"name": "y", "channels": 3, "time": 0}),
            torch.randn(2, 9, 3),
        )
    for uid, width in (("n0", 9), ("n1", 12)):
        exact, gap = _widened_gap(g, uid, width, x)
        assert exact and gap <= 1e-5, (uid, gap)
