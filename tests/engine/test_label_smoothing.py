"""The label-smoothing gene: what it does to the loss, that training honours it, that only
classification graphs carry it, and that mutation moves it."""

from __future__ import annotations

import random
from pathlib import Path

import torch
import torch.nn.functional as F

from openbrains.engine.compile import compile_graph
from openbrains.engine.evolve.mutate import mutate
from openbrains.engine.evolve.random import SizeBounds
from openbrains.engine.evolve.templates import template_graph
from openbrains.engine.graph import Graph
from openbrains.engine.run import Run, RunSettings
from openbrains.engine.tasks.builtin import digits_task, xor_task
from openbrains.engine.train import genes
from openbrains.engine.train.trainer import Budget, train


def test_smoothing_spreads_the_target_for_classification_only() -> None:
    task = digits_task()
    out = torch.randn(6, 1, 10)
    target = torch.randint(0, 10, (6,))
    plain = F.cross_entropy(out[:, -1], target)
    assert torch.allclose(task.loss(out, target), plain)
    smoothed = F.cross_entropy(out[:, -1], target, label_smoothing=0.1)
    assert torch.allclose(task.loss(out, target, 0.1), smoothed)
    assert not torch.allclose(smoothed, plain)


def _trained(smoothing: float | None) -> dict[str, torch.Tensor]:
    task = digits_task()
    g = template_graph(random.Random(0), task.inputs, task.outputs, SizeBounds())
    g.hparams = {"lr": 1e-2} if smoothing is None else {"lr": 1e-2, "label_smoothing": smoothing}
    brain = compile_graph(g, seed=0)
    result = train(brain, task, Budget(steps=15), g.hparams, seed=3, measure_test=False)
    assert result.steps == 15 and not result.diverged
    return brain.weights()


def test_training_honours_the_gene_and_its_absence_means_none() -> None:
    absent, zero, smoothed = _trained(None), _trained(0.0), _trained(0.2)
    assert all(torch.equal(absent[k], zero[k]) for k in absent)
    assert any(not torch.allclose(absent[k], smoothed[k]) for k in absent)


def _first_graph(run: Run) -> Graph:
    return Graph.from_json(run.next_job().graph)


def test_classification_runs_start_smoothed_and_other_tasks_never_carry_the_gene(
    tmp_path: Path,
) -> None:
    run = Run(tmp_path / "xor", RunSettings(task={"name": "xor"}, workers=0))
    try:
        assert _first_graph(run).hparams["label_smoothing"] == 0.1
    finally:
        run.close()
    run = Run(tmp_path / "denoise", RunSettings(task={"name": "denoise"}, workers=0))
    try:
        assert "label_smoothing" not in _first_graph(run).hparams
    finally:
        run.close()


def test_a_seed_graph_keeps_training_unsmoothed(tmp_path: Path) -> None:
    task = xor_task()
    seed = template_graph(random.Random(1), task.inputs, task.outputs, SizeBounds())
    settings = RunSettings(task={"name": "xor"}, workers=0, seeds=[seed.to_json().decode()])
    run = Run(tmp_path / "run", settings)
    try:
        assert _first_graph(run).hparams["label_smoothing"] == 0.0
    finally:
        run.close()


def _changes(hparams: dict, tries: int = 200) -> dict[str, set]:
    task = xor_task()
    g = template_graph(random.Random(2), task.inputs, task.outputs, SizeBounds())
    g.hparams = dict(hparams)
    rng = random.Random(0)
    weights = compile_graph(g, seed=0).weights()
    seen: dict[str, set] = {}
    for _ in range(tries):
        m = mutate(g, weights, rng, SizeBounds(), ops=["change_hparams"])
        for k, v in m.graph.hparams.items():
            if v != hparams.get(k):
                seen.setdefault(k, set()).add(v)
    return seen


def test_mutation_moves_the_gene_only_where_a_graph_carries_it() -> None:
    base = {"lr": 3e-3, "batch_size": 32, "optimizer": "adam", "schedule": "cosine"}
    assert "label_smoothing" not in _changes(base)
    moved = _changes({**base, "label_smoothing": 0.1})
    assert moved["label_smoothing"] and moved["label_smoothing"] <= set(
        genes.gene("label_smoothing").evolves.choices
    ) - {0.1}
