"""Templates under a size bound: one drawn too big is made smaller (narrower layers, then a
global-average head for images) instead of being given up for random wiring."""

from __future__ import annotations

import random

import pytest

from openbrains.engine.compile import compile_graph
from openbrains.engine.evolve.novelty import template_like
from openbrains.engine.evolve.random import SizeBounds
from openbrains.engine.evolve.sizing import bounds_for
from openbrains.engine.evolve.templates import template_graph
from openbrains.engine.graph import Graph
from openbrains.engine.signal import SignalMeta, SignalSpec
from openbrains.engine.tasks.registry import load_task
from tests.engine.specs import MODALITIES

# an MNIST-sized image as the codec gives it: 4×4 patches as 16 channels on a 7×7 grid
PATCHES = (
    {"image": SignalSpec(16, 49, SignalMeta("image", grid=(7, 7)))},
    {"label": SignalSpec(10, 1)},
)


def params(graph: Graph) -> int:
    return compile_graph(graph).param_count()


def under(limit: int):
    return lambda graph: params(graph) <= limit


def units(graph: Graph) -> list[str]:
    return [n.unit for n in graph.nodes.values() if n.unit not in ("input", "output")]


@pytest.mark.parametrize("limit", [400, 1000])
def test_digits_under_a_tight_bound_start_from_a_fitted_conv_net(limit: int) -> None:
    task = load_task("digits")
    bounds = bounds_for(task, limit)
    sizes = []
    for seed in range(6):
        drawn = template_graph(random.Random(seed), task.inputs, task.outputs, bounds)
        assert params(drawn) > limit  # as drawn, no digits template fits
        graph = template_graph(
            random.Random(seed), task.inputs, task.outputs, bounds, fits=under(limit)
        )
        sizes.append(params(graph))
        assert units(graph)[:2] == ["conv2d", "batchnorm"]  # plain or separable after it
        assert template_like(graph)
    assert max(sizes) <= limit
    assert min(sizes) >= limit // 2  # widest first: the bound is used, not wasted


def test_a_template_that_fits_as_drawn_is_left_as_it_is() -> None:
    task = load_task("digits")
    bounds = bounds_for(task, 5000)
    left = 0
    for seed in range(8):
        drawn = template_graph(random.Random(seed), task.inputs, task.outputs, bounds)
        fitted = template_graph(
            random.Random(seed), task.inputs, task.outputs, bounds, fits=under(5000)
        )
        if params(drawn) <= 5000:
            left += 1
            assert fitted.to_json() == drawn.to_json()
        else:
            assert params(fitted) <= 5000
    assert left >= 3


def test_a_tiny_image_net_ends_in_a_global_average_when_a_flat_head_cannot_fit() -> None:
    ins, outs = PATCHES
    bounds = SizeBounds(max_nodes=9, max_width=16, max_params=1000)
    heads = set()
    for seed in range(6):
        graph = template_graph(random.Random(seed), ins, outs, bounds, fits=under(1000))
        assert params(graph) <= 1000
        heads |= {"flatten", "global"} & {
            "global" if n.unit == "pool" and n.params.get("scope") == "global" else n.unit
            for n in graph.nodes.values()
        }
    assert "global" in heads


@pytest.mark.parametrize("kind", ["text_classify", "audio", "vector"])
def test_other_modalities_shrink_their_widths_to_fit(kind: str) -> None:
    ins, outs = MODALITIES[kind]
    bounds = SizeBounds(max_nodes=8, max_width=64)
    for seed in range(4):
        drawn = template_graph(random.Random(seed), ins, outs, bounds)
        limit = params(drawn) // 2
        graph = template_graph(random.Random(seed), ins, outs, bounds, fits=under(limit))
        assert units(graph) == units(drawn)  # the same architecture, narrower
        assert limit // 2 < params(graph) <= limit


def test_a_run_under_a_tight_bound_starts_from_a_shrunk_template(tmp_path) -> None:
    from openbrains.engine.run import RunSettings
    from openbrains.engine.run.breeder import Breeder

    task = load_task("digits")
    settings = RunSettings(task={"name": "digits"}, max_params=1000)
    for seed in range(3):
        rng = random.Random(seed)
        breeder = Breeder(settings, task, bounds_for(task, 1000), rng, None, tmp_path, len)
        first = breeder.fresh(0)  # no digits template fits as drawn: redrawn, then shrunk
        assert first.origin == "template"
        assert params(first.graph) <= 1000
        assert units(first.graph)[:2] == ["conv2d", "batchnorm"]


# MNIST at patch 2 (bench/mnist.py): 2×2 patches as 4 channels on a 14×14 grid
PATCH2 = (
    {"image": SignalSpec(4, 196, SignalMeta("image", grid=(14, 14)))},
    {"label": SignalSpec(10, 1)},
)


def patch2_templates(limit: int) -> list[Graph]:
    ins, outs = PATCH2
    bounds = SizeBounds(max_params=limit)
    return [
        template_graph(random.Random(s), ins, outs, bounds, fits=under(limit)) for s in range(4)
    ]


def widths(graph: Graph, unit: str) -> list[int]:
    return [n.params["width"] for n in graph.nodes.values() if n.unit == unit]


def test_a_tight_bound_makes_the_later_convolutions_separable_and_keeps_channels() -> None:
    for graph in patch2_templates(1000):
        assert params(graph) <= 1000
        chain = units(graph)
        assert chain.index("sepconv2d") < chain.index("pool"), "one at the full grid"
        assert chain[-2:] == ["dwconv2d", "flatten"], "a learned pooling as the head"
        assert widths(graph, "sepconv2d")[-1] >= 12
        assert len(widths(graph, "conv2d")) == 1, "the first convolution stays full"
        assert widths(graph, "sepconv2d"), "the later ones become separable"
        assert not widths(graph, "dense"), "no hidden layer takes half the bound"
        assert min(widths(graph, "conv2d")) >= 7  # a plain conv net keeps 4–5 here
        assert template_like(graph)


def test_a_bound_the_plain_template_fits_keeps_full_convolutions() -> None:
    for graph in patch2_templates(10_000):
        assert not widths(graph, "sepconv2d")
        assert len(widths(graph, "conv2d")) == 2


@pytest.mark.parametrize("game", ["connect4", "tictactoe", "maze"])
def test_a_game_board_is_never_pooled(game: str) -> None:
    """A board's every cell matters: two convolutions at full resolution, no pool; an image
    with as small a grid (MNIST's 7×7 patches) is still pooled."""
    from openbrains.engine.evolve.templates import is_board

    task = load_task(game)
    assert is_board(task) and not is_board(load_task("digits"))
    for seed in range(4):
        graph = template_graph(
            random.Random(seed), task.inputs, task.outputs, SizeBounds(), board=True
        )
        assert units(graph)[:5] == ["conv2d", "batchnorm", "conv2d", "batchnorm", "flatten"]
        assert "pool" not in units(graph) and template_like(graph)
        brain = compile_graph(graph)
        assert brain.param_count() > 0
    image = template_graph(random.Random(0), *PATCHES, SizeBounds())
    assert "pool" in units(image)
