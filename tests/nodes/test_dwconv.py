"""The depthwise convolution (``dwconv2d``): each channel filtered alone, ``valid`` as a
learned pooling head over a small grid, causality over time, exact widening through it,
batched training and a clear C-export refusal. Real compiles, forward and backward passes."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F

from openbrains.engine.compile import compile_graph
from openbrains.engine.exporters.c import refusal
from openbrains.engine.graph import Graph
from openbrains.engine.train.batched import CHECKED_UNITS
from tests.engine.test_batched import (  # noqa: F401 (digits: a fixture)
    chain,
    digits,
    first_sibling_matches_alone,
)
from tests.nodes.test_research_units import future_leak, jolt
from tests.nodes.test_sepconv import GRID, LABEL, _widened_gap

SMALL = {**GRID, "time": 9, "grid_h": 3, "grid_w": 3}


def test_each_output_channel_is_one_input_channel_filtered_alone() -> None:
    brain = jolt(compile_graph(chain([("dwconv2d", {"multiplier": 2})], inp=GRID), seed=1))
    module = brain.core.nodes.n_n0
    x = torch.randn(2, 36, 3)
    img = x.reshape(2, 6, 6, 3).permute(0, 3, 1, 2)
    w, b = module.conv.weight.detach(), module.conv.bias.detach()
    for c in range(3):
        for q in range(2):
            j = c * 2 + q
            ref = F.conv2d(img[:, c : c + 1], w[j : j + 1], b[j : j + 1], padding=1)
            got = module(x)[:, :, j].reshape(2, 6, 6)
            assert torch.allclose(got, ref[:, 0], atol=1e-5)
    assert brain.plan.nodes["n0"].out.channels == 6
    assert brain.plan.nodes["n0"].out.meta.grid == (6, 6)


def test_valid_over_a_grid_no_larger_than_the_kernel_weighs_every_cell_into_one() -> None:
    """The head of a small image brain: a 3×3 grid becomes one step, each channel a
    learned weighted sum of its nine cells; a kernel larger than the grid uses the grid."""
    for kernel in (3, 5):
        params = {"kernel": kernel, "padding": "valid"}
        brain = jolt(compile_graph(chain([("dwconv2d", params)], inp=SMALL), seed=0))
        module = brain.core.nodes.n_n0
        x = torch.randn(4, 9, 3)
        w = module.conv.weight.detach().reshape(3, 9)
        expected = torch.einsum("btc,ct->bc", x, w) + module.conv.bias.detach()
        assert brain.plan.nodes["n0"].out.time == 1
        assert torch.allclose(module(x)[:, 0], expected, atol=1e-5)
        assert sum(p.numel() for p in module.parameters()) == 3 * 9 + 3


def test_over_time_in_a_causal_graph_no_output_sees_a_later_input() -> None:
    g = Graph(causal=True)
    g.add_node("input", {"name": "x", "channels": 4, "time": 0}, uid="x")
    g.add_node("dwconv2d", {"kernel": 5, "multiplier": 2}, uid="n")
    g.add_node("output", {"name": "y", "channels": 3, "time": 0}, uid="y")
    g.connect("x", "n", uid="e1")
    g.connect("n", "y", uid="e2")
    brain = jolt(compile_graph(g, seed=0))
    x = torch.randn(2, 9, 4)
    assert future_leak(brain, x) == 0.0
    assert brain(x).shape == (2, 9, 3)


def test_gradients_are_finite_and_reach_every_filter() -> None:
    graph = chain([("dwconv2d", {"multiplier": 2, "activation": "tanh"})], inp=GRID, out=LABEL)
    brain = jolt(compile_graph(graph, seed=2))
    brain(torch.randn(4, 36, 3) * 3).pow(2).mean().backward()
    for p in brain.core.nodes.n_n0.parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all()
        assert (p.grad.flatten(1) if p.dim() > 1 else p.grad[:, None]).abs().sum(1).min() > 0


@pytest.mark.parametrize("multiplier", [1, 2])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_widening_the_layer_before_it_keeps_the_function(multiplier: int, padding: str) -> None:
    """A copied input channel copies its filters, and their outputs stay copies for the
    layer after it to split."""
    units = [
        ("conv2d", {"width": 4, "kernel": 3}),
        ("dwconv2d", {"multiplier": multiplier, "padding": padding}),
        ("flatten", {}),
    ]
    exact, gap = _widened_gap(chain(units, inp=GRID, out=LABEL), "n0", 9, torch.randn(2, 36, 3))
    assert exact and gap <= 1e-5, gap


def test_siblings_trained_together_match_training_alone(digits) -> None:  # noqa: F811
    assert "dwconv2d" in CHECKED_UNITS
    graph = chain(
        [
            ("conv2d", {"width": 4}),
            ("dwconv2d", {"multiplier": 2, "padding": "valid"}),
            ("pool", {"kind": "avg", "scope": "global"}),
        ]
    )
    first_sibling_matches_alone(
        graph, [compile_graph(graph, seed=s).weights() for s in range(2)], digits
    )


def test_the_c_export_refuses_it_in_one_line_naming_the_unit() -> None:
    graph = chain([("dwconv2d", {}), ("flatten", {})], inp=GRID, out=LABEL)
    why = refusal(compile_graph(graph, seed=0))
    assert why is not None and "\n" not in why
    assert re.search(r"node 'n0' \(unit 'dwconv2d'\) has no C form", why)
