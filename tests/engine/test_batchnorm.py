"""The ``batchnorm`` unit: batch statistics in training, running ones when evaluating, kept
in the weights, carried through Net2Net widening, kept out of causal graphs, batched under vmap."""

from __future__ import annotations

import random

import pytest
import torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.evolve.inherit import child_brain
from openbrains.engine.evolve.net2net import Remap, widen_weights
from openbrains.engine.evolve.random import SizeBounds, hidden_units
from openbrains.engine.evolve.templates import template_graph
from openbrains.engine.format.document import load_brain, save_brain
from openbrains.engine.graph import Graph
from openbrains.engine.shapes import infer_specs
from openbrains.engine.tasks.builtin import digits_task
from openbrains.engine.train.batched import batchable, train_siblings, unbatchable_reasons
from openbrains.engine.train.trainer import Budget, evaluate, train
from openbrains.engine.units import REGISTRY
from openbrains.nodes.norm import ChannelBatchNorm


def test_training_normalises_each_channel_over_batch_and_steps() -> None:
    bn = ChannelBatchNorm(3).train()
    x = torch.randn(4, 5, 3) * torch.tensor([1.0, 10.0, 0.5]) + torch.tensor([5.0, -2.0, 0.0])
    y = bn(x)
    flat = y.reshape(-1, 3)
    assert torch.allclose(flat.mean(0), torch.zeros(3), atol=1e-5)
    assert torch.allclose(flat.var(0, unbiased=False), torch.ones(3), atol=1e-3)
    # The running statistics moved a tenth of the way towards the batch's.
    assert torch.allclose(bn.running_mean, 0.1 * x.reshape(-1, 3).mean(0), atol=1e-5)


def test_evaluation_uses_the_running_statistics_one_example_at_a_time() -> None:
    bn = ChannelBatchNorm(2)
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor([1.0, -1.0]))
        bn.running_var.copy_(torch.tensor([4.0, 0.25]))
    bn.eval()
    x = torch.tensor([[3.0, 0.0]])
    expected = (x - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps)
    assert torch.allclose(bn(x), expected, atol=1e-6)
    batch = torch.cat([x, torch.randn(7, 2)])
    assert torch.allclose(bn(batch)[:1], expected, atol=1e-6), "batch-independent"


def test_a_training_batch_of_one_falls_back_to_the_running_statistics() -> None:
    bn = ChannelBatchNorm(4).train()
    before = bn.running_mean.clone()
    x = torch.randn(1, 4)
    assert torch.allclose(bn(x), bn.eval()(x))
    assert torch.equal(bn.running_mean, before)
    bn.train()
    y = bn(torch.randn(1, 6, 4))  # one example but six steps: real statistics
    assert torch.allclose(y.reshape(-1, 4).mean(0), torch.zeros(4), atol=1e-5)


def test_the_unit_is_a_norm_that_causal_graphs_never_draw() -> None:
    unit = REGISTRY.get("batchnorm")
    assert unit.category == "norm"
    assert not unit.supports_causal({})
    assert "batchnorm" in {u.name for u in hidden_units(causal=False)}
    assert "batchnorm" not in {u.name for u in hidden_units(causal=True)}


def _dense_bn_graph(width: int = 8) -> tuple[Graph, str]:
    g = Graph()
    x = g.add_node("input", {"name": "x", "channels": 6, "time": 1}).uid
    y = g.add_node("output", {"name": "y", "channels": 3, "time": 1}).uid
    p = g.add_node("dense", {"width": width}).uid
    n = g.add_node("batchnorm").uid
    q = g.add_node("dense", {"width": 5}).uid
    for a, b in ((x, p), (p, n), (n, q), (q, y)):
        g.connect(a, b)
    return g, p


def test_widening_before_a_batchnorm_is_function_preserving() -> None:
    g, p = _dense_bn_graph()
    parent = compile_graph(g, seed=0)
    parent.train()
    with torch.no_grad():  # give the running statistics something other than their start
        for _ in range(5):
            parent(torch.randn(16, 1, 6) * 3 + 1)
    parent.eval()
    child = g.copy()
    child.nodes[p].params["width"] = 12
    remap = Remap((*range(8), 2, 5, 5, 0), 8)
    weights, exact = widen_weights(
        child, infer_specs(g), infer_specs(child), p, remap, parent.weights()
    )
    assert exact
    brain, report = child_brain(child, weights, seed=3)
    assert not report.partial and not report.fresh
    xs = torch.randn(9, 1, 6)
    with torch.no_grad():
        assert (parent(xs) - brain.eval()(xs)).abs().max().item() <= 1e-5


def test_a_trained_batchnorm_brain_round_trips_through_a_graph_file(tmp_path) -> None:
    task = digits_task()
    bounds = SizeBounds(max_nodes=10, max_width=16, max_params=5000)
    g = template_graph(random.Random(1), task.inputs, task.outputs, bounds)
    assert [n.unit for n in g.nodes.values()].count("batchnorm") == 2
    brain = compile_graph(g, seed=1)
    hp = {"lr": 1e-2, "batch_size": 32, "optimizer": "adam"}
    result = train(brain, task, Budget(steps=150), hp, seed=1)
    assert result.val["accuracy"] > 0.8
    running = [k for k in brain.weights() if k.endswith("running_var")]
    assert len(running) == 2 and not torch.allclose(brain.weights()[running[0]], torch.ones(1))
    save_brain(tmp_path / "bn.graph", brain)
    _, loaded = load_brain(tmp_path / "bn.graph")
    assert evaluate(loaded, task, task.test) == evaluate(brain, task, task.test)


@pytest.mark.parametrize("gradients", ["autograd", "vmap_grad"])
def test_siblings_with_batchnorm_train_under_vmap_like_alone(gradients: str) -> None:
    """Each model's running statistics are its own slice of a stacked buffer."""
    task = digits_task()
    bounds = SizeBounds(max_nodes=10, max_width=16, max_params=5000)
    g = template_graph(random.Random(2), task.inputs, task.outputs, bounds)
    assert batchable(g)
    starts = [compile_graph(g, seed=s).weights() for s in range(3)]
    hs = [{"lr": 1e-2}, {"lr": 3e-3}, {"lr": 6e-3}]
    together = train_siblings(g, starts, hs, task, Budget(steps=30), [1, 2, 3], gradients=gradients)
    for i in range(3):
        brain = compile_graph(g, seed=0)
        brain.load_weights(starts[i])
        result = train(brain, task, Budget(steps=30), hs[i], seed=i + 1)
        mine, theirs = together[i][1], brain.weights()
        running = [k for k in mine if "running" in k]
        assert len(running) == 4
        for key in running:
            assert torch.allclose(mine[key], theirs[key], atol=1e-4), key
        assert together[i][0].val["accuracy"] == pytest.approx(result.val["accuracy"], abs=0.006)
    assert not torch.allclose(together[0][1][running[0]], together[1][1][running[0]])


def test_batchnorm_beside_a_gru_keeps_the_graph_out_of_vmap() -> None:
    g = Graph()
    x = g.add_node("input", {"name": "x", "channels": 4, "time": 6}).uid
    y = g.add_node("output", {"name": "y", "channels": 2, "time": 1}).uid
    n = g.add_node("batchnorm").uid
    r = g.add_node("gru", {"width": 8}).uid
    for a, b in ((x, n), (n, r), (r, y)):
        g.connect(a, b)
    reasons = unbatchable_reasons(g)
    assert list(reasons) == [n] and "vjp" in reasons[n]
    g.remove_node(r)
    g.connect(n, y)
    assert batchable(g)
