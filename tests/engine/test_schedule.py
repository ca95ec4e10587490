"""The learning-rate schedule gene: cosine annealing over each job's own budget, and the
grid template and digits split that the digits benchmark rests on."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.evolve.random import SizeBounds
from openbrains.engine.evolve.templates import template_graph
from openbrains.engine.tasks.builtin import digits_task
from openbrains.engine.train import genes
from openbrains.engine.train.trainer import Budget, lr_factor, train


def test_cosine_anneals_over_steps_or_seconds_and_constant_does_not() -> None:
    steps = Budget(steps=100)
    assert lr_factor("cosine", steps, 0, 0.0) == 1.0
    assert lr_factor("cosine", steps, 50, 0.0) == pytest.approx(0.5)
    assert lr_factor("cosine", steps, 100, 0.0) == pytest.approx(0.0)
    assert lr_factor("cosine", steps, 250, 0.0) == pytest.approx(0.0)  # never negative
    seconds = Budget(seconds=2.0)
    assert lr_factor("cosine", seconds, 999, 1.0) == pytest.approx(0.5)
    assert lr_factor("constant", steps, 99, 0.0) == 1.0


def _step_sizes(schedule: str) -> list[float]:
    """How far the weights move at each step (Adam moves each weight by about the rate)."""
    task = digits_task()
    g = template_graph(random.Random(0), task.inputs, task.outputs, SizeBounds())
    g.hparams = {"lr": 1e-2, "schedule": schedule}
    brain = compile_graph(g, seed=0)

    def flat() -> torch.Tensor:  # parameters only: running statistics are not steps
        return torch.cat([p.detach().flatten() for p in brain.parameters()])

    last = flat()
    moves: list[float] = []

    def measure() -> None:
        nonlocal last
        now = flat()
        moves.append(float((now - last).abs().max()))
        last = now

    result = train(brain, task, Budget(steps=20), g.hparams, on_step=measure, measure_test=False)
    assert result.steps == 20 and not result.diverged
    return moves


def test_cosine_steps_shrink_to_nothing_while_constant_steps_do_not() -> None:
    cosine, constant = _step_sizes("cosine"), _step_sizes("constant")
    assert cosine[0] == pytest.approx(1e-2, rel=0.05)  # Adam's first step is the rate
    assert cosine[-1] < 0.02 * cosine[0]  # factor 0.006 at step 20 of 20
    assert constant[-1] > 0.3 * constant[0]


def test_schedule_is_a_gene_mutation_flips() -> None:
    rng = random.Random(0)
    schedule = genes.gene("schedule")
    assert {schedule.mutate("cosine", rng) for _ in range(5)} == {"constant"}
    assert set(schedule.param.choices) == {"cosine", "constant"}


def test_digits_validation_is_the_last_block_of_the_train_half() -> None:
    task = digits_task()
    assert (len(task.train), len(task.val), len(task.test)) == (718, 180, 899)
    from sklearn.datasets import load_digits

    images = load_digits().images.astype(np.float32) / 16.0
    val_first = torch.from_numpy(images[718].reshape(64, 1))
    assert torch.equal(task.val.inputs["image"][0], val_first)
    assert torch.equal(task.test.inputs["image"][0], torch.from_numpy(images[898].reshape(64, 1)))


def test_grid_template_stacks_conv_blocks_that_widen() -> None:
    task = digits_task()
    for seed in range(20):
        g = template_graph(random.Random(seed), task.inputs, task.outputs, SizeBounds())
        convs = [n.params["width"] for n in g.nodes.values() if n.unit == "conv2d"]
        assert len(convs) == 2 and convs[1] >= convs[0] >= 8
        compile_graph(g, seed=0)
