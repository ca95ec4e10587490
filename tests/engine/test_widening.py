"""A plugin unit widens as exactly as a built-in one: the weight-surgery facts live in the
unit's own declaration (``Unit.widening``), not in the engine. The units here are defined
in the test, registered like a third-party package's, and widened by real mutation."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
import torch
from torch import nn

from openbrains.engine.compile import compile_graph
from openbrains.engine.evolve.inherit import child_brain
from openbrains.engine.evolve.mutate import apply_operator
from openbrains.engine.evolve.net2net import Remap, widen_weights
from openbrains.engine.evolve.random import SizeBounds
from openbrains.engine.graph import Graph
from openbrains.engine.shapes import infer_specs
from openbrains.engine.units import REGISTRY, Int, Unit, UnitContext, width_from
from openbrains.engine.widening import Widening

TOL = 1e-6


class GainLinear(nn.Module):
    """A linear map stored the other way round ([in, out]) with a learned gain per output,
    so the surgery must follow the axes the unit declares, not a convention."""

    def __init__(self, c_in: int, width: int, seed: int) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.kernel = nn.Parameter(torch.randn(c_in, width, generator=gen) / c_in**0.5)
        self.gain = nn.Parameter(1 + torch.rand(width, generator=gen))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x @ self.kernel) * self.gain


class Shift(nn.Module):
    """Adds a learned offset per channel: acts on each channel alone."""

    def __init__(self, channels: int, seed: int) -> None:
        super().__init__()
        self.offset = nn.Parameter(
            torch.randn(channels, generator=torch.Generator().manual_seed(seed))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.offset


def gain_linear(widening: Widening | None) -> Unit:
    return Unit(
        name="test_gain_linear",
        version=1,
        category="learning",
        doc="plugin test unit",
        params=(Int("width", 5, 1, 64, "output channels"),),
        infer=width_from("width"),
        build=lambda ctx: GainLinear(ctx.in_channels, ctx.params["width"], ctx.seed),
        package="test-plugin",
        widening=widening,
    )


GAIN_FACTS = Widening(outputs={"kernel": 1, "gain": 0}, inputs={"kernel": 0})


def _shift_build(ctx: UnitContext) -> nn.Module:
    return Shift(ctx.in_channels, ctx.seed + 1)


SHIFT = Unit(
    name="test_shift",
    version=1,
    category="learning",
    doc="plugin test unit",
    build=_shift_build,
    package="test-plugin",
    widening=Widening(per_channel={"offset": 0}, carry="same"),
)


@pytest.fixture
def plugin() -> Iterator[None]:
    REGISTRY.names()  # built-ins first, as at start-up
    REGISTRY.register(gain_linear(GAIN_FACTS))
    REGISTRY.register(SHIFT)
    try:
        yield
    finally:
        for name in ("test_gain_linear", "test_shift"):
            REGISTRY._units.pop(name, None)


def stack(*units: tuple[str, dict]) -> Graph:
    """input(6) → units… → output(3), in a chain."""
    g = Graph()
    prev = g.add_node("input", {"name": "x", "channels": 6, "time": 4}, uid="in").uid
    for i, (unit, params) in enumerate(units):
        node = g.add_node(unit, params, uid=f"n{i}").uid
        g.connect(prev, node, uid=f"e{i}")
        prev = node
    out = g.add_node("output", {"name": "y", "channels": 3, "time": 4}, uid="out").uid
    g.connect(prev, out, uid="eo")
    return g


@torch.no_grad()
def gap(a: nn.Module, b: nn.Module, x: torch.Tensor) -> float:
    a.eval()
    b.eval()
    return float((a(x) - b(x)).abs().max())


def test_a_plugin_unit_is_widened_exactly_through_its_own_facts(plugin: None) -> None:
    g = stack(
        ("test_gain_linear", {"width": 5}),
        ("test_shift", {}),
        ("test_gain_linear", {"width": 4}),
    )
    parent = compile_graph(g, seed=0)
    x = torch.randn(7, 4, 6, generator=torch.Generator().manual_seed(1))
    for w1, seed in ((9, 1), (6, 2), (16, 3)):
        child = g.copy()
        child.nodes["n0"].params["width"] = w1
        rng = random.Random(seed)
        remap = Remap((*range(5), *(rng.randrange(5) for _ in range(w1 - 5))), 5)
        weights, exact = widen_weights(
            child, infer_specs(g), infer_specs(child), "n0", remap, parent.weights()
        )
        assert exact
        brain, report = child_brain(child, weights, seed=9)
        assert not report.partial and not report.fresh
        assert weights["node/n0/kernel"].shape == (6, w1)
        assert weights["node/n1/offset"].shape == (w1,)
        assert weights["node/n2/kernel"].shape == (w1, 4)
        assert gap(parent, brain, x) <= TOL


def test_mutation_widens_a_plugin_unit_and_says_it_preserves(plugin: None) -> None:
    g = stack(("test_gain_linear", {"width": 5}), ("test_shift", {}))
    parent = compile_graph(g, seed=0)
    x = torch.randn(5, 4, 6, generator=torch.Generator().manual_seed(2))
    for seed in range(5):
        m = apply_operator("widen", g, parent.weights(), random.Random(seed), SizeBounds())
        assert m is not None and m.name == "widen"
        assert m.graph.nodes["n0"].params["width"] > 5
        assert m.preserving, m.detail
        brain, _ = child_brain(m.graph, m.weights, seed=3)
        assert gap(parent, brain, x) <= TOL


def test_a_unit_that_declares_nothing_is_widened_but_not_exactly(plugin: None) -> None:
    REGISTRY.register(gain_linear(None), replace=True)
    g = stack(("test_gain_linear", {"width": 5}), ("test_shift", {}))
    parent = compile_graph(g, seed=0)
    m = apply_operator("widen", g, parent.weights(), random.Random(0), SizeBounds())
    assert m is not None and not m.preserving
    compile_graph(m.graph)  # still a valid child: its tensors that no longer fit start fresh


def test_facts_are_checked_when_declared() -> None:
    with pytest.raises(ValueError, match="carry"):
        Widening(carry="sideways")
    with pytest.raises(ValueError, match="feedback needs outputs"):
        Widening(feedback={"w": 1})
