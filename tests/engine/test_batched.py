"""Batched sibling training (torch.func + vmap) ends where training each alone ends.

Real training on digits and on synthetic data for every modality, no mocks. Tolerance for
"the same as ``train``": |Δ weight| ≤ 1e-4 and |Δ loss| ≤ 1e-4 (observed ≈ 1e-6: batched
matmuls sum in another order; Adam magnifies rounding only in gradients near its eps).
"""

from __future__ import annotations

import dataclasses
import math
import pathlib
import random

import pytest
import torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.errors import GraphError
from openbrains.engine.evolve.random import SizeBounds, random_graph
from openbrains.engine.graph import Graph
from openbrains.engine.shapes import infer_specs
from openbrains.engine.tasks.base import DatasetTask, Split
from openbrains.engine.tasks.builtin import digits_task
from openbrains.engine.train import batched
from openbrains.engine.train.batched import (
    CHECKED_UNITS,
    EXCLUDED_UNITS,
    NOT_UNDER_VJP,
    batchable,
    evaluate_siblings,
    measure_speedup,
    should_batch,
    stacked_loss,
    train_siblings,
    unbatchable_reasons,
)
from openbrains.engine.train.trainer import Budget, TrainResult, train
from openbrains.engine.units import REGISTRY
from tests.engine.specs import MODALITIES

ATOL = 1e-4

IMAGE = {"name": "image", "channels": 1, "time": 64, "grid_h": 8, "grid_w": 8}
IMAGE["modality"] = "image"
LABEL = {"name": "label", "channels": 10, "time": 1}


@pytest.fixture(scope="module")
def digits() -> DatasetTask:
    return digits_task()


def chain(units: list[tuple[str, dict]], inp: dict = IMAGE, out: dict = LABEL) -> Graph:
    g = Graph()
    prev = g.add_node("input", inp, uid="in")
    for i, (unit, params) in enumerate(units):
        node = g.add_node(unit, params, uid=f"n{i}")
        g.connect(prev.uid, node.uid, uid=f"e{i}")
        prev = node
    o = g.add_node("output", out, uid="out")
    g.connect(prev.uid, o.uid, uid="eo")
    return g


def dense_graph() -> Graph:
    return chain([("flatten", {}), ("dense", {"width": 32}), ("dense", {"width": 16})])


def alone(
    graph: Graph, start: dict, h: dict, task: DatasetTask, steps: int, seed: int
) -> tuple[TrainResult, dict[str, torch.Tensor]]:
    brain = compile_graph(graph, seed=0)
    brain.load_weights(start)
    result = train(brain, task, Budget(steps=steps), h, seed=seed)
    return result, brain.weights()


def first_sibling_matches_alone(
    graph: Graph, starts: list[dict], task: DatasetTask, steps: int = 3
) -> list[tuple[TrainResult, dict[str, torch.Tensor]]]:
    """Train two siblings together (lr 1e-3 and 3e-3, seeds 1 and 2) and check that the
    first ends where training it alone ends: the check each batched unit's tests share.
    Returns the siblings' results for further checks."""
    hs = [{"lr": 1e-3}, {"lr": 3e-3}]
    together = train_siblings(graph, starts, hs, task, Budget(steps=steps), [1, 2])
    result, weights = alone(graph, starts[0], hs[0], task, steps, 1)
    assert together[0][0].val["loss"] == pytest.approx(result.val["loss"], abs=1e-4)
    for key, tensor in weights.items():
        assert torch.allclose(together[0][1][key], tensor, atol=1e-4), key
    return together


def assert_same(
    a: tuple[TrainResult, dict[str, torch.Tensor]],
    b: tuple[TrainResult, dict[str, torch.Tensor]],
    adam_lr: float | None = None,
) -> None:
    """Same steps, weights, scores and curve. With ``adam_lr``, a weight may differ by up to
    2·lr per step: Adam divides eps-sized gradients (a bias behind a saturated unit) by their
    own magnitude, so summation-order rounding flips the sign of a full step there. The
    scores must still agree, so the two brains compute the same function."""
    (ra, wa), (rb, wb) = a, b
    assert (ra.steps, ra.diverged) == (rb.steps, rb.diverged)
    assert list(wa) == list(wb)
    for key in wa:
        bound = ATOL
        if adam_lr is not None and not torch.allclose(wa[key], wb[key], atol=ATOL, rtol=0):
            bound = max(ATOL, 2 * adam_lr * ra.steps)
        assert torch.allclose(wa[key], wb[key], atol=bound, rtol=0), (key, wa[key] - wb[key])
    for split in ("val", "test"):
        sa, sb = getattr(ra, split), getattr(rb, split)
        assert sa.keys() == sb.keys()
        for k in sa:
            assert sa[k] == pytest.approx(sb[k], abs=ATOL), (split, k)
    assert [s for s, _ in ra.curve] == [s for s, _ in rb.curve]
    assert [v for _, v in ra.curve] == pytest.approx([v for _, v in rb.curve], abs=ATOL)


# ----- equivalence with train() ----------------------------------------------------------------
def test_four_dense_siblings_match_training_each_alone(digits: DatasetTask) -> None:
    graph = dense_graph()
    starts = [compile_graph(graph, seed=s).weights() for s in range(4)]
    hs = [{"lr": lr, "optimizer": "adam"} for lr in (1e-3, 3e-3, 1e-2, 2e-2)]
    seeds = [5, 6, 7, 8]
    together = train_siblings(graph, starts, hs, digits, Budget(steps=60), seeds)
    for i in range(4):
        assert_same(together[i], alone(graph, starts[i], hs[i], digits, 60, seeds[i]))
    # the members really are different models that learned something
    losses = [r.val["loss"] for r, _ in together]
    assert len({round(x, 4) for x in losses}) == 4
    assert all(x < math.log(10) for x in losses)  # better than uniform guessing
    # and the starting tensors were not touched
    fresh = compile_graph(graph, seed=0).weights()
    assert all(torch.equal(fresh[k], starts[0][k]) for k in fresh)


def test_mixed_optimisers_batch_sizes_schedules_and_smoothing_are_grouped_and_still_match(
    digits: DatasetTask,
) -> None:
    graph = dense_graph()
    starts = [compile_graph(graph, seed=10 + s).weights() for s in range(4)]
    hs = [
        {"lr": 3e-3, "optimizer": "adam", "batch_size": 32, "label_smoothing": 0.1},
        {"lr": 1e-2, "optimizer": "adam", "batch_size": 32},  # differs from 0 in smoothing only
        {"lr": 3e-3, "optimizer": "adamw", "batch_size": 16},
        {"lr": 1e-2, "optimizer": "sgd", "batch_size": 32, "schedule": "constant"},
    ]
    seeds = [1, 2, 3, 4]
    together = train_siblings(graph, starts, hs, digits, Budget(steps=25), seeds)
    for i in range(4):
        assert_same(together[i], alone(graph, starts[i], hs[i], digits, 25, seeds[i]))


def test_distilling_siblings_match_training_each_alone(
    digits: DatasetTask, tmp_path: pathlib.Path
) -> None:
    """Soft targets batch too: stored ones (``Split.soft``, some rows unanswered) and a
    brain teacher's belief about each mix of views (the default) or each shifted view;
    siblings with other distillation genes form their own groups, and each ends where
    ``train`` leaves it alone."""
    from openbrains.engine.format import save_brain
    from openbrains.engine.taskrecord import record_of
    from openbrains.engine.teachers.roles.distill import OnlineTeacher

    graph = dense_graph()
    gen = torch.Generator().manual_seed(0)
    soft = torch.log_softmax(3 * torch.randn(len(digits.train), 10, generator=gen), -1)
    soft[::3] = math.nan  # examples the teacher did not answer learn from their label
    stored = dataclasses.replace(digits, train=dataclasses.replace(digits.train, soft=soft))
    teacher = compile_graph(graph, inputs=digits.inputs, outputs=digits.outputs, seed=9)
    saved = teacher.graph.copy()
    saved.tasks = {digits.name: record_of(digits.name, digits.describe(), saved)}
    save_brain(tmp_path / "t.graph", saved, teacher.weights())
    online = dataclasses.replace(
        digits, teacher=OnlineTeacher(f"graph:{tmp_path / 't.graph'}", digits.classes)
    )
    starts = [compile_graph(graph, seed=20 + s).weights() for s in range(4)]
    hs = [
        {"lr": 3e-3, "optimizer": "adam", "distill_alpha": 0.7, "distill_temperature": 2.0},
        {"lr": 1e-2, "optimizer": "adam", "distill_alpha": 0.7, "distill_temperature": 2.0},
        {
            "lr": 3e-3,
            "optimizer": "adam",
            "distill_alpha": 0.9,
            "distill_temperature": 4.0,
            "distill_inputs": "views",
        },
        {"lr": 3e-3, "optimizer": "adam", "distill_alpha": 1.0, "distill_temperature": 1.0},
    ]
    seeds = [1, 2, 3, 4]
    for task in (stored, online):
        together = train_siblings(graph, starts, hs, task, Budget(steps=20), seeds)
        for i in range(4):
            assert_same(together[i], alone(graph, starts[i], hs[i], task, 20, seeds[i]))
    # the soft term is really in the loss: without it the same sibling ends elsewhere
    plain = train_siblings(graph, starts[3:], hs[3:], digits, Budget(steps=20), seeds[3:])
    mine, other = plain[0][1], together[3][1]
    assert any(not torch.allclose(mine[k], other[k]) for k in mine)


def test_a_diverging_member_does_not_touch_the_others(digits: DatasetTask) -> None:
    graph = dense_graph()
    starts = [compile_graph(graph, seed=20 + s).weights() for s in range(4)]
    starts[2] = {k: torch.full_like(v, math.nan) for k, v in starts[2].items()}
    hs = [{"lr": 3e-3}, {"lr": 1e7}, {"lr": 3e-3}, {"lr": 1e-2}]
    seeds = [1, 2, 3, 4]
    together = train_siblings(graph, starts, hs, digits, Budget(steps=30), seeds)
    for i in range(4):
        ref = alone(graph, starts[i], hs[i], digits, 30, seeds[i])
        if i in (1, 2):
            r, w = together[i]
            assert r.diverged and ref[0].diverged
            assert r.steps == ref[0].steps
            assert r.reason.split(" at ")[1] == ref[0].reason.split(" at ")[1]
            assert r.val["loss"] == math.inf and r.val["accuracy"] == 0.0
            assert r.test == r.val
            for k in w:  # frozen where it diverged, as train() leaves the brain
                assert torch.allclose(w[k], ref[1][k], rtol=1e-5, equal_nan=True), k
        else:
            assert_same(together[i], ref)
    assert together[1][0].steps >= 1 and together[2][0].steps == 0


def test_all_members_diverging_ends_cleanly(digits: DatasetTask) -> None:
    graph = dense_graph()
    starts = [compile_graph(graph, seed=s).weights() for s in range(2)]
    together = train_siblings(
        graph, starts, [{"lr": 1e8}, {"lr": 1e9}], digits, Budget(steps=50), [0, 1]
    )
    assert all(r.diverged and r.steps < 50 for r, _ in together)


# ----- every unit of the catalog ---------------------------------------------------------------
def test_every_catalog_unit_is_either_checked_or_excluded_with_a_reason() -> None:
    names = set(REGISTRY.names())
    assert names <= CHECKED_UNITS | set(EXCLUDED_UNITS), names - CHECKED_UNITS
    assert not CHECKED_UNITS & set(EXCLUDED_UNITS)
    assert "hebbian" in EXCLUDED_UNITS


def test_batchable_refuses_hebbian_graphs(digits: DatasetTask) -> None:
    graph = chain([("flatten", {}), ("hebbian", {"width": 8}), ("dense", {"width": 8})])
    assert not batchable(graph)
    assert "hebbian" in unbatchable_reasons(graph)["n1"]
    assert batchable(dense_graph())
    starts = [compile_graph(graph, seed=s).weights() for s in range(2)]
    with pytest.raises(GraphError, match="hebbian"):
        train_siblings(graph, starts, [{}, {}], digits, Budget(steps=1), [0, 1])
    assert not should_batch(graph, 8, digits)


def synthetic_task(kind: str, n: int = 40) -> DatasetTask:
    """Random data shaped like MODALITIES[kind]; the first output decides the task kind."""
    ins, outs = MODALITIES[kind]
    gen = torch.Generator().manual_seed(len(kind))
    total = n + 32
    inputs, codecs = {}, {}
    for name, spec in ins.items():
        t = spec.time or 8
        if spec.meta.vocab:
            inputs[name] = torch.randint(0, spec.meta.vocab, (total, t, 1), generator=gen).float()
        else:
            inputs[name] = torch.rand(total, t, spec.channels, generator=gen)
        if spec.meta.grid is not None:  # so that shift augmentation runs in these graphs too
            codecs[name] = {"kind": "image", "patch": 1, "channels": spec.channels}
    out_name, out = next(iter(outs.items()))
    if kind == "text":
        task_kind, target = "completion", torch.randint(0, out.channels, (total, 8), generator=gen)
    elif kind == "vector":
        task_kind, target = "regression", torch.randn(total, out.channels, generator=gen)
    else:
        task_kind, target = (
            "classification",
            torch.randint(0, out.channels, (total,), generator=gen),
        )
    whole = Split(inputs, target)
    return DatasetTask(
        name=f"synthetic-{kind}",
        kind=task_kind,
        inputs=dict(ins),
        outputs={out_name: out},
        train=whole.take(slice(0, n)),
        val=whole.take(slice(n, n + 16)),
        test=whole.take(slice(n + 16, total)),
        codecs=codecs,
    )


def _norms_one_channel(graph: Graph) -> bool:
    """A norm over a single channel outputs its shift plus rounding noise divided by eps-sized
    deviations: its scale's gradient is that noise, amplified, so summation order decides
    the scores' fourth decimal. No comparison with training alone is meaningful there."""
    plan = infer_specs(graph)
    return any(
        graph.nodes[uid].unit in ("layernorm", "rmsnorm") and node.out.channels == 1
        for uid, node in plan.nodes.items()
    )


# Units that draw random numbers while training (dropout masks, forward-forward negatives):
# under vmap they come from another stream, so a member cannot equal training it alone.
RANDOM_IN_TRAINING = {"dropout", "local_dense"}


def test_random_batchable_graphs_train_under_vmap_like_alone() -> None:
    """30 or more random graphs over the whole catalog (hebbian ones skipped)
    until every checked unit has been seen, K=3, a few steps:
    finite results, and member 0 equal to training it alone (unless it draws random numbers
    in training, which come from another stream, or has a norm over one channel)."""
    bounds = SizeBounds(max_nodes=6, max_width=16)
    kinds = list(MODALITIES)
    tasks = {kind: synthetic_task(kind) for kind in kinds}
    seen: set[str] = set()
    trained = skipped = 0
    i = 0
    while (trained < 30 or seen != CHECKED_UNITS) and i < 120:
        rng = random.Random(1000 + i)
        kind = kinds[i % len(kinds)]
        i += 1
        ins, outs = MODALITIES[kind]
        graph = random_graph(rng, ins, outs, bounds, causal=kind == "text")
        units = {n.unit for n in graph.nodes.values()}
        if not batchable(graph):
            assert units & {*EXCLUDED_UNITS, *NOT_UNDER_VJP}
            skipped += 1
            continue
        task = tasks[kind]
        starts = [compile_graph(graph, seed=s).weights() for s in range(3)]
        hs = [{"lr": 1e-3}, {"lr": 3e-3, "batch_size": 8}, {"lr": 1e-2}]
        together = train_siblings(graph, starts, hs, task, Budget(steps=3), [1, 2, 3])
        for r, w in together:
            assert not r.diverged, (i, kind, r.reason)
            assert r.steps == 3
            assert math.isfinite(r.val["loss"]) and math.isfinite(r.test["loss"])
            assert all(torch.isfinite(t).all() for t in w.values() if t.is_floating_point())
        if not units & RANDOM_IN_TRAINING and not _norms_one_channel(graph):
            assert_same(together[0], alone(graph, starts[0], hs[0], task, 3, 1), adam_lr=1e-3)
        seen |= units
        trained += 1
    assert seen == CHECKED_UNITS, CHECKED_UNITS - seen
    assert skipped >= 1  # the generator does place hebbian units, and they are refused


# ----- pieces -----------------------------------------------------------------------------------
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("kind", ["text", "vector", "image"])
def test_stacked_loss_is_each_models_task_loss(kind: str, smoothing: float) -> None:
    task = synthetic_task(kind)
    out_spec = next(iter(task.outputs.values()))
    t = 8 if task.kind == "completion" else 3
    out = torch.randn(4, 5, t, out_spec.channels)
    idx = torch.arange(20).view(4, 5)
    target = task.train.target[idx]
    expected = torch.stack([task.loss(out[k], target[k], smoothing) for k in range(4)])
    assert torch.allclose(stacked_loss(task, out, target, smoothing), expected, atol=1e-6)


def test_stacked_distill_loss_is_each_models_distill_loss() -> None:
    from openbrains.engine.teachers.roles.distill import distill_loss

    torch.manual_seed(0)
    logits = torch.randn(3, 6, 5)
    teacher = torch.log_softmax(torch.randn(3, 6, 5), -1)
    teacher[0, 2:] = math.nan  # model 0: two of six rows answered
    teacher[2] = math.nan  # model 2: none (its task loss alone)
    task = torch.tensor([1.0, 2.0, 3.0])
    got = batched.stacked_distill_loss(logits, teacher, task, 0.7, 3.0)
    want = torch.stack([distill_loss(logits[k], teacher[k], task[k], 0.7, 3.0) for k in range(3)])
    assert torch.allclose(got, want, atol=1e-6)
    assert got[2] == 3.0


def test_vmapped_evaluation_gives_evaluates_numbers(digits: DatasetTask) -> None:
    graph = chain([("conv2d", {"width": 4}), ("pool", {"kind": "max"}), ("flatten", {})])
    weights = [compile_graph(graph, seed=s).weights() for s in range(3)]
    one = evaluate_siblings(graph, weights, digits, digits.val)
    many = evaluate_siblings(graph, weights, digits, digits.val, vmapped=True)
    for a, b in zip(one, many):
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-5)
        assert a["accuracy"] == pytest.approx(b["accuracy"], abs=1.5 / len(digits.val))


def test_should_batch_measures_once_per_structure(digits: DatasetTask) -> None:
    graph = dense_graph()
    assert not should_batch(graph, 1, digits)
    before = len(batched._DECISIONS)
    first = should_batch(graph, 4, digits)
    assert len(batched._DECISIONS) == before + 1
    assert should_batch(graph, 4, digits) == first
    assert len(batched._DECISIONS) == before + 1
    assert measure_speedup(graph, 4, digits, steps=2) > 0


def test_bad_arguments_are_refused(digits: DatasetTask) -> None:
    graph = dense_graph()
    start = compile_graph(graph, seed=0).weights()
    with pytest.raises(ValueError, match="one hparams dict and one seed"):
        train_siblings(graph, [start, start], [{}], digits, Budget(steps=1), [0, 1])
    broken = dict(start)
    broken.pop(next(iter(broken)))
    with pytest.raises(GraphError, match="missing"):
        train_siblings(graph, [start, broken], [{}, {}], digits, Budget(steps=1), [0, 1])
    assert train_siblings(graph, [], [], digits, Budget(steps=1), []) == []


def test_seconds_budget_and_on_step(digits: DatasetTask) -> None:
    graph = dense_graph()
    starts = [compile_graph(graph, seed=s).weights() for s in range(3)]
    calls = []
    together = train_siblings(
        graph,
        starts,
        [{}, {}, {}],
        digits,
        Budget(seconds=0.2),
        [0, 1, 2],
        on_step=lambda: calls.append(1),
    )
    steps = {r.steps for r, _ in together}
    assert len(steps) == 1 and steps.pop() == len(calls) > 0
    assert all(0.2 <= r.seconds < 2.0 for r, _ in together)


def test_vector_task_without_trainable_weights_is_only_evaluated() -> None:
    task = synthetic_task("vector")
    spec = next(iter(task.inputs.values()))
    inp = {"name": "x", "channels": spec.channels, "time": 1}
    out = {"name": "y", "channels": 2, "time": 1}
    graph = chain([("dense", {"width": 2})], inp, out)
    graph.nodes["n0"].trainable = False
    starts = [compile_graph(graph, seed=s).weights() for s in range(2)]
    together = train_siblings(graph, starts, [{}, {}], task, Budget(steps=5), [0, 1])
    for (r, w), start in zip(together, starts):
        assert r.steps == 0 and math.isfinite(r.val["loss"])
        assert all(torch.equal(w[k], start[k]) for k in start)


@pytest.mark.parametrize("gradients", ["autograd", "vmap_grad"])
def test_recurrent_graphs_match_in_both_gradient_modes(gradients: str) -> None:
    """GRU/LSTM ops have no batching rule: they run decomposed (under vjp / grad)."""
    task = synthetic_task("audio")
    spec = task.inputs["audio"]
    inp = {"name": "audio", "channels": spec.channels, "time": spec.time, "modality": "audio"}
    out = {"name": "label", "channels": 5, "time": 1}
    graph = chain(
        [("lstm", {"width": 8}), ("gru", {"width": 6}), ("pool", {"scope": "global"})], inp, out
    )
    starts = [compile_graph(graph, seed=s).weights() for s in range(2)]
    hs = [{"lr": 1e-2}, {"lr": 3e-3}]
    together = train_siblings(graph, starts, hs, task, Budget(steps=5), [3, 4], gradients=gradients)
    for i in range(2):
        assert_same(together[i], alone(graph, starts[i], hs[i], task, 5, 3 + i))
