"""Test-time views (engine.views): an image brain answers with the mean over its image and
the image's one-pixel shifts; training never sees them; every runtime (PyTorch, ONNX, C)
gives the same answer; a run turns them on where the task shifts its images."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.evolve.random import SizeBounds
from openbrains.engine.evolve.templates import template_graph
from openbrains.engine.graph import Graph
from openbrains.engine.signal import SignalMeta, SignalSpec
from openbrains.engine.tasks.registry import load_task
from openbrains.engine.views import OFFSETS, ImageLayout, image_views, task_views, with_views
from tests.engine.exporting import c_vs_torch

LIMIT = 1e-4


def digits_graph(views: bool) -> Graph:
    task = load_task("digits")
    graph = template_graph(
        random.Random(0), task.inputs, task.outputs, SizeBounds(max_params=5000), False
    )
    return with_views(graph, task_views(task) if views else {"image": 0})


def rgb_graph() -> Graph:
    """A colour image in 2×2 patches (12 numbers a step) beside a plain vector input."""
    inputs = {
        "image": SignalSpec(12, 16, SignalMeta("image", grid=(4, 4))),
        "extra": SignalSpec(3, 1),
    }
    outputs = {"label": SignalSpec(5, 1)}
    for seed in range(50):
        graph = template_graph(
            random.Random(seed), inputs, outputs, SizeBounds(max_params=5000), False
        )
        if len(graph.input_nodes()) == 2:
            return with_views(graph, {"image": 2})
    raise AssertionError("no template takes both inputs")


def moved_by_hand(img: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``img`` [H, W, ch] moved dy rows down and dx columns right, zeros shifted in."""
    out = np.zeros_like(img)
    h, w = img.shape[:2]
    for y in range(h):
        for x in range(w):
            if 0 <= y - dy < h and 0 <= x - dx < w:
                out[y, x] = img[y - dy, x - dx]
    return out


@pytest.mark.parametrize("patch, channels", [(1, 1), (2, 3)])
def test_an_image_moves_a_pixel_in_the_patch_layout(patch: int, channels: int) -> None:
    grid = (3, 4)
    layout = ImageLayout(0, grid, patch, channels)
    img = torch.randn(2, grid[0] * patch, grid[1] * patch, channels)
    patches = (
        img.reshape(2, grid[0], patch, grid[1], patch, channels)
        .permute(0, 1, 3, 2, 4, 5)
        .reshape(2, grid[0] * grid[1], patch * patch * channels)
    )
    for dy, dx in OFFSETS:
        got = layout.moved(patches, dy, dx)
        back = (
            got.reshape(2, grid[0], grid[1], patch, patch, channels)
            .permute(0, 1, 3, 2, 4, 5)
            .reshape(2, grid[0] * patch, grid[1] * patch, channels)
        )
        for k in range(2):
            assert np.array_equal(back[k].numpy(), moved_by_hand(img[k].numpy(), dy, dx))


def test_a_brain_with_views_answers_the_mean_over_the_shifted_images() -> None:
    plain, viewed = (
        compile_graph(digits_graph(False), seed=3),
        compile_graph(digits_graph(True), seed=3),
    )
    assert plain.views is None and viewed.views is not None
    assert viewed.param_count() == plain.param_count()
    x = load_task("digits").test.inputs["image"][:9]
    layout = viewed.views.images[0]
    with torch.no_grad():
        want = sum(plain.eval()(layout.moved(x, dy, dx)) for dy, dx in OFFSETS) / len(OFFSETS)
        got = viewed.eval()(x)
        assert float((got - want).abs().max()) < 1e-6
        assert float((got - plain(x)).abs().max()) > 1e-4  # the views change the answer
        step, _ = viewed.step([x])
        assert float((step["label"] - got).abs().max()) < 1e-6
    # training sees one image per example, as before
    torch.manual_seed(0)
    assert torch.allclose(viewed.train()(x), plain.train()(x))
    assert viewed.flops() == len(OFFSETS) * plain.flops()


def test_views_move_every_image_input_and_repeat_the_others() -> None:
    brain = compile_graph(rgb_graph(), seed=1).eval()
    assert brain.views is not None and brain.views.images[0].patch == 2
    assert brain.views.images[0].channels == 3
    image, extra = brain.example_inputs(4)
    layout = brain.views.images[0]
    plain = compile_graph(with_views(rgb_graph(), {"image": 0}), seed=1).eval()
    order = brain.input_names
    with torch.no_grad():
        views = []
        for dy, dx in OFFSETS:
            moved = layout.moved(image, dy, dx)
            args = {"image": moved, "extra": extra}
            views.append(plain(*[args[n] for n in order]))
        args = {"image": image, "extra": extra}
        got = brain(*[args[n] for n in order])
    assert float((got - sum(views) / len(views)).abs().max()) < 1e-6


def test_a_brain_with_recurrent_state_takes_no_views() -> None:
    params = [n.params for n in digits_graph(True).input_nodes()]
    assert image_views(params, stateful=False) is not None
    assert image_views(params, stateful=True) is None  # a stream's state sees a frame once


def test_a_run_turns_views_on_where_its_task_shifts_images() -> None:
    assert task_views(load_task("digits")) == {"image": 1}
    assert task_views(load_task("digits", views=False)) == {"image": 0}
    unshifted = replace(load_task("digits"), settings={"augment": "none"})
    assert task_views(unshifted) == {"image": 0}  # views only where training moves images
    assert task_views(load_task("xor")) == {"x": 0}
    assert task_views(load_task("connect4")) == {}  # a board is no picture to move
    graph = digits_graph(True)
    assert with_views(graph, {"image": 1}) is graph  # nothing to change: the same graph
    assert with_views(graph, {}) is graph  # an input it does not name keeps its views
    assert with_views(graph, {"other": 0}) is graph
    off = with_views(graph, {"image": 0})
    assert off is not graph and compile_graph(off).views is None
    assert graph.input_nodes()[0].params["views"] == 1  # the original is left alone
    # a file from before views (no such params) has none
    old = Graph.from_json(digits_graph(False).to_json())
    for node in old.input_nodes():
        assert "views" not in node.params
    assert compile_graph(old).views is None


def test_the_c_export_of_a_brain_with_views_matches_pytorch(tmp_path: Path) -> None:
    graph = digits_graph(True)
    brain = compile_graph(graph, seed=2)
    assert c_vs_torch(graph, brain, tmp_path / "digits") <= LIMIT
    graph = rgb_graph()
    assert c_vs_torch(graph, compile_graph(graph, seed=2), tmp_path / "rgb") <= LIMIT


def test_the_onnx_export_of_a_brain_with_views_matches_pytorch() -> None:
    import onnxruntime as ort

    from openbrains.engine.exporters.meta import describe
    from openbrains.engine.exporters.onnx import export_onnx

    graph = digits_graph(True)
    brain = compile_graph(graph, seed=4).eval()
    ex = export_onnx(brain, describe(brain, graph))
    sess = ort.InferenceSession(ex.model, providers=["CPUExecutionProvider"])
    x = load_task("digits").test.inputs["image"][:6]
    for batch in (x[:1], x):
        with torch.no_grad():
            want = brain(batch).numpy()
        (got,) = sess.run(None, {ex.meta.inputs[0].name: batch.numpy()})
        assert float(np.abs(got - want).max()) <= LIMIT


def test_inspect_says_a_brain_answers_with_views() -> None:
    from openbrains.app.describe import describe_graph
    from openbrains.engine.exporters.meta import VIEWED, describe

    for views in (True, False):
        graph = digits_graph(views)
        (image,) = describe(compile_graph(graph), graph).inputs
        assert image.meaning.endswith(VIEWED) == views  # ONNX metadata, C header, web page
    said = "\n".join(describe_graph(digits_graph(True)))
    assert "answers with views" in said
    assert "answers with views" not in "\n".join(describe_graph(digits_graph(False)))
