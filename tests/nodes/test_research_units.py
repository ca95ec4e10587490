"""The research units (issue #18): shapes, causality, streaming, function-preserving
insertion, finite gradients, each unit's own defining property against an independent
reference, batched (vmap) training, and a clear error for an out-of-range param in a file.

Real compiles, real forward and backward passes, real subprocesses for the command line.
Zero-initialised output projections would hide a lot (a unit that returns its input is
trivially causal and streams trivially), so most checks first *jolt* every weight.
"""

from __future__ import annotations

import math
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from openbrains.engine.checks import check_graph
from openbrains.engine.compile import Brain, compile_graph
from openbrains.engine.evolve.inherit import child_brain
from openbrains.engine.evolve.mutate import insert_unit
from openbrains.engine.evolve.net2net import Remap, widen_weights
from openbrains.engine.evolve.random import SizeBounds, hidden_units, sample_params
from openbrains.engine.format import GraphFile, dumps, load
from openbrains.engine.graph import Graph
from openbrains.engine.shapes import infer_specs
from openbrains.engine.signal import SignalSpec
from openbrains.engine.train.batched import CHECKED_UNITS
from openbrains.engine.units import REGISTRY, UnitContext
from openbrains.nodes.local_signal import LocalDense
from openbrains.nodes.rwkv import TimeMix
from openbrains.nodes.ssm import DiagonalSSM
from tests.engine.test_batched import chain, first_sibling_matches_alone, synthetic_task

NEW = ("ssm", "mamba", "rwkv", "moe", "kan", "cfc", "lif", "hopfield", "local_dense")
STATEFUL = tuple(n for n in NEW if REGISTRY.get(n).stateful)
C_IN, C_OUT, T = 4, 3, 11
BOUNDS = SizeBounds(max_width=12)
ROOT = Path(__file__).resolve().parents[2]


def one_unit_graph(unit: str, params: dict, causal: bool = True) -> Graph:
    g = Graph(causal=causal)
    x = g.add_node("input", {"name": "x", "channels": C_IN, "time": 0}, uid="x")
    node = g.add_node(unit, params, uid="n")
    y = g.add_node("output", {"name": "y", "channels": C_OUT, "time": 0}, uid="y")
    g.connect(x.uid, node.uid, uid="e1")
    g.connect(node.uid, y.uid, uid="e2")
    return g


def draws(unit: str, n: int = 4) -> list[dict]:
    """The defaults and ``n - 1`` random settings (causal-safe, small widths)."""
    rng = random.Random(unit)
    spec = REGISTRY.get(unit)
    return [{}] + [sample_params(spec, rng, BOUNDS, causal=True) for _ in range(n - 1)]


@torch.no_grad()
def jolt(brain: Brain, seed: int = 0, scale: float = 0.3) -> Brain:
    gen = torch.Generator().manual_seed(seed)
    for p in brain.parameters():
        p.add_(torch.randn(p.shape, generator=gen) * scale)
    return brain


def brain_for(unit: str, params: dict, causal: bool = True, seed: int = 0) -> Brain:
    return jolt(compile_graph(one_unit_graph(unit, params, causal), seed=seed), seed)


# ----- registration and the catalog ------------------------------------------------------------
def test_every_new_unit_is_registered_causal_and_drawn_by_evolution() -> None:
    causal_pool = {u.name for u in hidden_units(causal=True)}
    for name in NEW:
        unit = REGISTRY.get(name)
        assert unit.source and unit.tensors and unit.flops, name
        assert unit.supports_causal(unit.defaults()), name
        assert name in causal_pool, name
    docs = (ROOT / "docs" / "units.md").read_text()
    assert all(f"### `{name}` v1" in docs for name in NEW)


# ----- shapes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NEW)
def test_shapes(name: str) -> None:
    for params in draws(name):
        brain = brain_for(name, params, causal=False)
        node = brain.plan.nodes["n"]
        width = node.params.get("width", C_IN)
        assert node.out.channels == width, (name, params)
        for batch, time in ((3, T), (1, 1)):
            y = brain(torch.randn(batch, time, C_IN))
            assert y.shape == (batch, time, C_OUT), (name, params)
            assert torch.isfinite(y).all()


# ----- causality --------------------------------------------------------------------------------
def future_leak(brain: Brain, x: torch.Tensor) -> float:
    """Largest |d y[t] / d x[s]| over s > t."""
    x = x.clone().requires_grad_(True)
    y = brain.eval()(x)
    worst = 0.0
    for t in range(x.shape[1] - 1):
        (g,) = torch.autograd.grad(y[:, t].sum(), x, retain_graph=True)
        worst = max(worst, g[:, t + 1 :].abs().max().item())
    return worst


@pytest.mark.parametrize("name", NEW)
def test_causal_no_output_depends_on_a_later_input(name: str) -> None:
    for i, params in enumerate(draws(name)):
        brain = brain_for(name, params, seed=i)
        x = torch.randn(2, T, C_IN) * 2
        assert future_leak(brain, x) == 0.0, (name, params)
        with torch.no_grad():  # and to the bit: a changed future leaves the past alone
            base = brain(x)
            for t in (0, 4, T - 2):
                changed = x.clone()
                changed[:, t + 1 :] = torch.randn(2, T - t - 1, C_IN) * 3
                assert torch.equal(brain(changed)[:, : t + 1], base[:, : t + 1]), (name, t)
        # the dependence on the past is real (not an identity or a constant)
        (g,) = torch.autograd.grad(brain(x.requires_grad_(True))[:, -1].sum(), x)
        assert g[:, :-1].abs().sum() > 0 or not REGISTRY.get(name).stateful, (name, params)


# ----- streaming ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", STATEFUL)
def test_streaming_in_chunks_equals_the_whole_sequence(name: str) -> None:
    for i, params in enumerate(draws(name)):
        # in float64: the check is that a chunked stream computes the same function, and a
        # recurrence such as cfc's can grow float32 rounding (different matmul shapes per
        # chunk) to 1e-3 over 40 steps for some inputs
        brain = brain_for(name, params, seed=i).eval().double()
        x = torch.randn(
            2, 40, C_IN, generator=torch.Generator().manual_seed(i), dtype=torch.float64
        )
        with torch.no_grad():
            whole = brain(x)
            state, parts, start = None, [], 0
            for size in (1, 3, 17, 1, 18):  # single steps, and cuts inside the conv's context
                out, state = brain.step([x[:, start : start + size]], state)
                parts.append(out["y"])
                start += size
        gap = (torch.cat(parts, dim=1) - whole).abs().max().item()
        assert gap < 1e-5, (name, params, gap)


# ----- function-preserving insertion ---------------------------------------------------------
def parent_graph() -> Graph:
    g = Graph(causal=True)
    x = g.add_node("input", {"name": "x", "channels": C_IN, "time": 0}, uid="x")
    a = g.add_node("dense", {"width": 6, "activation": "tanh"}, uid="a")
    b = g.add_node("dense", {"width": 5}, uid="b")
    y = g.add_node("output", {"name": "y", "channels": C_OUT, "time": 0}, uid="y")
    g.connect(x.uid, a.uid, uid="xa")
    g.connect(a.uid, b.uid, uid="ab")
    g.connect(b.uid, y.uid, uid="by")
    return g


@pytest.mark.parametrize("name", NEW)
def test_inserting_the_unit_leaves_the_function_unchanged(name: str) -> None:
    parent_g = parent_graph()
    parent = jolt(compile_graph(parent_g, seed=0)).eval()
    x = torch.randn(3, T, C_IN)
    with torch.no_grad():
        before = parent(x)
    for i, params in enumerate(draws(name, 3)):
        m = insert_unit(parent_g, parent.weights(), "ab", name, params, random.Random(i))
        assert m is not None and m.preserving, (name, params)
        child, _ = child_brain(m.graph, m.weights, seed=i + 1)
        with torch.no_grad():
            after = child.eval()(x)
        assert (after - before).abs().max().item() <= 1e-5, (name, params)
        new = [n for n in m.graph.nodes.values() if n.unit == name]
        assert len(new) == 1
        direct = REGISTRY.get(name).starts_as_identity
        assert ("residual" in m.graph.units_used()) != direct, m.detail
        if direct:  # straight on the wire: a → new → b, the wire into b keeps its uid
            assert m.graph.edges["ab"].src == new[0].uid
        # and the new unit can learn from there: gradients reach its weights
        child.train()
        child(x).pow(2).mean().backward()
        grads = [p.grad for k, p in child.core.named_parameters() if new[0].uid in k]
        if name != "local_dense":  # a local learner's weights move by its own loss
            assert any(g is not None and g.abs().sum() > 0 for g in grads) or not direct, name


@pytest.mark.parametrize("name", [n for n in NEW if REGISTRY.get(n).starts_as_identity])
def test_units_that_start_as_the_identity_return_their_input_exactly(name: str) -> None:
    unit = REGISTRY.get(name)
    for params in draws(name):
        full = unit.defaults() | params
        module = unit.build(UnitContext(params=full, inputs=(SignalSpec(C_IN, None),)))
        x = torch.randn(2, T, C_IN) * 5
        y = module(x, None)[0] if unit.stateful else module(x)
        assert torch.equal(y, x), (name, params)


def test_units_that_do_not_say_so_do_not_start_as_the_identity() -> None:
    for name in NEW:
        unit = REGISTRY.get(name)
        if unit.starts_as_identity:
            continue
        params = unit.defaults() | ({"width": C_IN} if "width" in unit.param_map else {})
        module = unit.build(UnitContext(params=params, inputs=(SignalSpec(C_IN, None),)))
        x = torch.randn(2, T, C_IN)
        y = module(x, None)[0] if unit.stateful else module(x)
        assert not torch.allclose(y, x), name


# ----- Net2Net widening through and of the new units -------------------------------------------
# exact as readers (mamba's inner width and cfc's concat of input and state follow a wider
# input only approximately: they declare no reading, and widening before them says so)
WIDEN_READERS = ("ssm", "rwkv", "hopfield", "lif", "local_dense", "kan", "moe")
WIDEN_PRODUCERS = ("kan", "lif", "moe")  # exact when their own width grows


def _widened_gap(g: Graph, uid: str, new_width: int) -> tuple[bool, float]:
    parent = jolt(compile_graph(g, seed=0)).eval()
    old_width = g.nodes[uid].params["width"]
    child = g.copy()
    child.nodes[uid].params["width"] = new_width
    rng = random.Random(new_width)
    remap = Remap(
        (*range(old_width), *(rng.randrange(old_width) for _ in range(new_width - old_width))),
        old_width,
    )
    weights, exact = widen_weights(
        child, infer_specs(g), infer_specs(child), uid, remap, parent.weights()
    )
    brain, _ = child_brain(child, weights, seed=5)
    x = torch.randn(3, T, C_IN)
    with torch.no_grad():
        return exact, (parent(x) - brain.eval()(x)).abs().max().item()


@pytest.mark.parametrize("name", WIDEN_READERS)
def test_widening_the_layer_before_the_unit_is_exact(name: str) -> None:
    g = parent_graph()
    g.nodes["b"].unit, g.nodes["b"].params = name, {}
    exact, gap = _widened_gap(g, "a", 10)
    assert exact and gap <= 1e-5, (name, gap)


@pytest.mark.parametrize("name", [n for n in NEW if n not in WIDEN_READERS])
def test_widening_before_a_unit_that_declares_no_reading_is_not_called_exact(name: str) -> None:
    g = parent_graph()
    g.nodes["b"].unit, g.nodes["b"].params = name, {}
    exact, gap = _widened_gap(g, "a", 10)
    assert not exact, name
    assert math.isfinite(gap)


@pytest.mark.parametrize("name", WIDEN_PRODUCERS)
def test_widening_the_unit_itself_is_exact(name: str) -> None:
    g = parent_graph()
    g.nodes["a"].unit, g.nodes["a"].params = name, {"width": 6}
    exact, gap = _widened_gap(g, "a", 11)
    assert exact and gap <= 1e-5, (name, gap)


# ----- gradients ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", NEW)
def test_gradients_are_finite_on_random_inputs(name: str) -> None:
    for i, params in enumerate(draws(name)):
        brain = brain_for(name, params, causal=False, seed=i).train()
        for scale in (0.1, 1.0, 10.0):
            brain.zero_grad()
            x = (torch.randn(4, T, C_IN) * scale).requires_grad_(True)
            brain(x).pow(2).mean().backward()
            assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0, (name, scale)
            grads = [p.grad for p in brain.parameters() if p.grad is not None]
            assert grads and all(torch.isfinite(g).all() for g in grads), (name, params, scale)


# ----- each unit's own property, against an independent reference -----------------------------
def test_ssm_parallel_form_equals_its_recurrence() -> None:
    torch.manual_seed(0)
    m = DiagonalSSM(3, 5)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    x = torch.randn(2, 30, 3)
    a = -torch.exp(m.log_a)
    dta = torch.exp(m.log_dt)[:, None] * a
    decay, b_bar = torch.exp(dta), (torch.exp(dta) - 1) / a * m.b
    h, ys = torch.zeros(2, 3, 5), []
    for t in range(30):  # h_t = Ā h_{t-1} + B̄ x_t;  y_t = C h_t + D x_t
        h = decay * h + b_bar * x[:, t, :, None]
        ys.append((m.c * h).sum(-1) + m.d * x[:, t])
    expected = x + m.out(torch.nn.functional.gelu(torch.stack(ys, dim=1)))
    with torch.no_grad():
        y, state = m(x, None)
    assert (y - expected).abs().max() < 1e-5
    assert (state - h).abs().max() < 1e-5


def test_rwkv_recurrence_equals_the_parallel_softmax_form() -> None:
    """wkv_t is a weighted mean of the values so far with weights e^{logit}: a softmax per
    channel over a masked matrix of logits (t-1-i)·(-w) + k_i, and u + k_t on the diagonal.
    Computed that way, independently of the unit's running sums, over 40 steps."""
    torch.manual_seed(1)
    m = TimeMix(5, 6)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p))
    x = torch.randn(2, 40, 5)
    prev = torch.cat([torch.zeros(2, 1, 5), x[:, :-1]], dim=1)
    k = m.key(x * m.mix_k + prev * (1 - m.mix_k)).transpose(1, 2)  # [B, A, T]
    v = m.value(x * m.mix_v + prev * (1 - m.mix_v)).transpose(1, 2)
    r = torch.sigmoid(m.receptance(x * m.mix_r + prev * (1 - m.mix_r)))
    pos = torch.arange(40)
    lag = (pos[:, None] - 1 - pos[None, :]).float()  # t-1-i
    w = -torch.exp(m.time_decay)[:, None, None]
    logits = torch.where(lag >= 0, lag * w, m.time_first[:, None, None]) + k[:, :, None, :]
    logits = logits.masked_fill(lag < -1, float("-inf"))  # [B, A, T, T]
    wkv = (torch.softmax(logits, dim=-1) @ v[..., None])[..., 0].transpose(1, 2)
    expected = x + m.output(r * wkv)
    with torch.no_grad():
        y, _ = m(x, None)
    assert (y - expected).abs().max() < 1e-4


def test_moe_uses_exactly_the_top_k_experts_of_each_step() -> None:
    unit = REGISTRY.get("moe")
    params = unit.defaults() | {"experts": 5, "top_k": 2, "hidden": 3, "width": 4}
    m = unit.build(UnitContext(params=params, inputs=(SignalSpec(C_IN, None),))).eval()
    x = torch.randn(2, 6, C_IN)
    with torch.no_grad():
        y = m(x)
        for b in range(2):
            for t in range(6):
                logits = m.gate.weight @ x[b, t]
                top = torch.topk(logits, 2).indices.tolist()
                weights = torch.softmax(logits[top], dim=0)
                expected = sum(
                    wt * (m.w2[e] @ torch.relu(m.w1[e] @ x[b, t] + m.b1[e]) + m.b2[e])
                    for wt, e in zip(weights, top)
                )
                assert torch.allclose(y[b, t], expected, atol=1e-5)


def test_moe_balancing_loss_trains_the_gate_alone() -> None:
    unit = REGISTRY.get("moe")
    params = unit.defaults() | {"balance": 0.1}
    m = unit.build(UnitContext(params=params, inputs=(SignalSpec(C_IN, None),))).train()
    x = torch.randn(8, 5, C_IN, requires_grad=True)
    (m(x) * 0.0).sum().backward()  # no task signal at all: only the local loss flows
    assert m.gate.weight.grad.abs().sum() > 0
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in (m.w1, m.b1, m.w2, m.b2))
    assert x.grad.abs().sum() == 0


def test_kan_output_is_a_sum_of_one_dimensional_functions() -> None:
    """y(a) + y(b) = y(a with b's second half) + y(b with a's second half), exactly what
    a sum over edges of functions of one input each must satisfy."""
    unit = REGISTRY.get("kan")
    m = unit.build(UnitContext(params=unit.defaults(), inputs=(SignalSpec(6, None),)))
    a, b = torch.randn(4, 1, 6) * 2, torch.randn(4, 1, 6) * 2
    ab, ba = a.clone(), b.clone()
    ab[..., 3:], ba[..., 3:] = b[..., 3:], a[..., 3:]
    with torch.no_grad():
        gap = (m(a) + m(b) - m(ab) - m(ba)).abs().max().item()
    assert gap < 1e-5
    # and it is not linear: the edge functions bend
    with torch.no_grad():
        assert (
            m(2 * a) - m(torch.zeros_like(a)) - 2 * (m(a) - m(torch.zeros_like(a)))
        ).abs().max() > 1e-3


def test_lif_spikes_are_exactly_binary_and_learn_through_the_surrogate() -> None:
    unit = REGISTRY.get("lif")
    m = unit.build(UnitContext(params=unit.defaults(), inputs=(SignalSpec(C_IN, None),)))
    x = torch.randn(3, 30, C_IN) * 2
    spikes, (_v, s) = m(x, None)
    assert set(spikes.unique().tolist()) <= {0.0, 1.0} and spikes.sum() > 0
    assert torch.equal(s, spikes[:, -1])
    spikes.sum().backward()
    assert m.input.weight.grad.abs().sum() > 0  # the step function alone would give zero
    # a neuron driven by a constant current above threshold fires, one below stays silent
    with torch.no_grad():
        m.input.weight.zero_()
        m.input.bias.copy_(torch.linspace(-1.0, 1.0, m.input.bias.shape[0]))
        quiet = m(torch.zeros(1, 50, C_IN), None)[0][0].sum(0)
    leak = unit.defaults()["beta"]
    threshold_current = 1.0 * (1 - leak)  # v settles at I / (1 - beta)
    assert (quiet[m.input.bias < threshold_current * 0.9] == 0).all()
    assert (quiet[m.input.bias > threshold_current * 1.1] > 0).all()


def test_hopfield_read_retrieves_the_stored_pattern_nearest_the_query() -> None:
    unit = REGISTRY.get("hopfield")
    params = unit.defaults() | {"dim": 8, "patterns": 5, "beta": 10.0, "steps": 2}
    m = unit.build(UnitContext(params=params, inputs=(SignalSpec(8, None),)))
    torch.manual_seed(3)
    stored = torch.nn.functional.normalize(torch.randn(5, 8), dim=-1) * 4
    with torch.no_grad():
        m.query.weight.copy_(torch.eye(8))
        m.memory.copy_(stored)
        m.out.weight.copy_(torch.eye(8))
        noisy = stored + 0.3 * torch.randn(5, 8)
        read = m(noisy[None]) - noisy[None]  # the block adds its input back
    assert torch.allclose(read[0], stored, atol=1e-3)


# ----- the local learning signal ------------------------------------------------------------------
def test_local_dense_weights_move_by_their_local_loss_only() -> None:
    torch.manual_seed(0)
    m = LocalDense(C_IN, 6, "predictive_coding", rate=1.0).train()
    x = torch.randn(5, 7, C_IN, requires_grad=True)
    task_weights = torch.randn(5, 7, 6)
    (m(x) * task_weights).sum().backward()  # a task loss that would pull hard on W
    local = m._predictive(x.detach().reshape(-1, C_IN))
    expected = torch.autograd.grad(local, [m.linear.weight, m.predict.weight])
    assert torch.allclose(m.linear.weight.grad, expected[0], atol=1e-6)
    assert torch.allclose(m.predict.weight.grad, expected[1], atol=1e-6)
    assert x.grad.abs().sum() > 0  # the task's gradient still reaches upstream units


@pytest.mark.parametrize("signal", ["forward_forward", "predictive_coding"])
def test_local_signal_learns_its_objective_inside_the_ordinary_training_loop(signal: str) -> None:
    """Data on a 2-D subspace of 6 channels. Trained by the task loop with a task that
    ignores the unit (zero task gradient), the local objective improves by itself:
    forward-forward separates real from shuffled inputs; predictive coding reconstructs."""
    gen = torch.Generator().manual_seed(0)
    basis = torch.randn(2, 6, generator=gen)
    data = (torch.randn(512, 1, 2, generator=gen) @ basis) + 0.05 * torch.randn(512, 1, 6)
    torch.manual_seed(0)
    m = LocalDense(6, 16, signal, rate=1.0).train()
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)

    def objective() -> float:
        rows = data.reshape(-1, 6)
        if signal == "predictive_coding":
            return m._predictive(rows).item()
        torch.manual_seed(9)
        return m._forward_forward(rows).item()

    before = objective()
    for step in range(150):
        batch = data[(step * 32) % 512 :][:32]
        opt.zero_grad()
        (m(batch) * 0.0).sum().backward()
        opt.step()
    after = objective()
    assert after < 0.6 * before, (before, after)


# ----- tracing (what ONNX export through dynamo will need) ------------------------------------
PARALLEL_IN_TIME = ("ssm", "moe", "kan", "hopfield", "local_dense")  # no loop over steps


class _Step(torch.nn.Module):
    """A unit as an exported step model: explicit state in, explicit state out."""

    def __init__(self, unit: str, module: torch.nn.Module) -> None:
        super().__init__()
        self.stateful, self.module = REGISTRY.get(unit).stateful, module

    def forward(self, x: torch.Tensor, *state: torch.Tensor):
        if not self.stateful:
            return self.module(x)
        return self.module(x, (state[0] if len(state) == 1 else state) if state else None)


@pytest.mark.parametrize("name", NEW)
def test_the_unit_traces_with_torch_export(name: str) -> None:
    unit = REGISTRY.get(name)
    module = unit.build(UnitContext(params=unit.defaults(), inputs=(SignalSpec(C_IN, None),)))
    step = _Step(name, jolt_module(module)).eval()
    x = torch.randn(2, 5, C_IN)
    with torch.no_grad():
        args = (x,)
        if unit.stateful:  # a step that carries a real state, not the empty one
            _, state = step(x)
            args = (x[:, :1], *(state if isinstance(state, tuple) else (state,)))
        exported = torch.export.export(step, args).module()
        expected, got = step(*args), exported(*args)
    expected = expected if isinstance(expected, tuple) else (expected,)
    got = got if isinstance(got, tuple) else (got,)
    for a, b in zip(
        torch.utils._pytree.tree_leaves(expected), torch.utils._pytree.tree_leaves(got)
    ):
        assert torch.allclose(a, b, atol=1e-6), name
    if name in PARALLEL_IN_TIME:  # one exported graph serves any length
        time = torch.export.Dim("T", min=2, max=4096)
        exported = torch.export.export(step, (x,), dynamic_shapes=({1: time},)).module()
        longer = torch.randn(2, 23, C_IN)
        with torch.no_grad():
            first = step(longer)
            first = first if isinstance(first, torch.Tensor) else first[0]
            again = exported(longer)
            again = again if isinstance(again, torch.Tensor) else again[0]
        assert torch.allclose(first, again, atol=1e-6), name


@torch.no_grad()
def jolt_module(module: torch.nn.Module, scale: float = 0.3) -> torch.nn.Module:
    gen = torch.Generator().manual_seed(0)
    for p in module.parameters():
        p.add_(torch.randn(p.shape, generator=gen) * scale)
    return module


# ----- batched siblings (vmap) --------------------------------------------------------------
AUDIO = {"name": "audio", "channels": 20, "time": 12, "modality": "audio", "rate": 100.0}
LABEL = {"name": "label", "channels": 5, "time": 1}


@pytest.mark.parametrize("name", NEW)
def test_siblings_trained_together_match_training_alone(name: str) -> None:
    assert name in CHECKED_UNITS
    task = synthetic_task("audio")
    params = {"signal": "predictive_coding"} if name == "local_dense" else {}
    graph = chain([("dense", {"width": 6}), (name, params)], inp=AUDIO, out=LABEL)
    starts = []
    for s in range(2):
        w = compile_graph(graph, seed=s).weights()
        gen = torch.Generator().manual_seed(s)
        starts.append({k: v + 0.1 * torch.randn(v.shape, generator=gen) for k, v in w.items()})
    together = first_sibling_matches_alone(graph, starts, task)
    key = list(together[0][1])[-1]
    assert not torch.equal(together[0][1][key], together[1][1][key])


# ----- a param out of range in a file ---------------------------------------------------------------
def test_a_file_with_a_unit_param_out_of_range_gets_one_clear_line(tmp_path: Path) -> None:
    g = Graph()
    x = g.add_node("input", {"name": "x", "channels": 2, "time": 1}, uid="x")
    node = g.add_node("ssm", {"state": 8}, uid="memory")
    y = g.add_node("output", {"name": "y", "channels": 2, "time": 1}, uid="y")
    g.connect(x.uid, node.uid)
    g.connect(node.uid, y.uid)
    data = dumps(GraphFile(kind="graph", graph=g, weights=compile_graph(g).weights()))
    good = tmp_path / "good.graph"
    good.write_bytes(data)
    g.nodes["memory"].params["state"] = 1000  # what a stranger's (or a newer) file may say
    bad = tmp_path / "bad.graph"
    bad.write_bytes(dumps(GraphFile(kind="graph", graph=g, weights={})))
    run = subprocess.run(
        [sys.executable, "-m", "openbrains", "eval", str(bad), "--task", "xor"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and run.stdout == "", run.stdout + run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr, run.stderr
    assert "'memory' (ssm): param 'state': 1000 is above the maximum 64" in run.stderr
    # the window's editor shows the same line on the node and in its status
    checked = check_graph(load(bad).graph)
    assert not checked["compiles"] and "1000 is above the maximum 64" in checked["error"]
    assert checked["nodes"]["memory"]["error"] == checked["error"]
    ok = subprocess.run(
        [sys.executable, "-m", "openbrains", "eval", str(good), "--task", "xor"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert math.isfinite(float(ok.stdout.split("=")[1].split()[0]))
