"""A small shared brain for continual tests: a digits classifier (conv + batch norm),
trained for real, saved with its task record and a probe, as an export makes it.

``tests/fixtures/continual/digits_seed.graph`` was made by this (about 1.5 minutes on a
busy machine, so the tests load the committed file instead):

    .venv/bin/python -c "from pathlib import Path; from tests.continual_kit import digits_seed; \
        print(digits_seed(Path('tests/fixtures/continual/digits_seed.graph')))"
"""

from __future__ import annotations

import random
from pathlib import Path

from openbrains.engine.compile import compile_graph
from openbrains.engine.evolve.random import SizeBounds
from openbrains.engine.evolve.templates import template_graph
from openbrains.engine.format import GraphFile, save
from openbrains.engine.multitask import compile_tasks, make_probe
from openbrains.engine.taskrecord import record_of
from openbrains.engine.tasks.registry import load_task
from openbrains.engine.train import genes
from openbrains.engine.train.trainer import Budget, evaluate, train

SEED = Path(__file__).parent / "fixtures" / "continual" / "digits_seed.graph"
BOUNDS = SizeBounds(max_nodes=6, min_width=8, max_width=12)


def digits_seed(path: Path, steps: int = 400, probe: int = 128) -> float:
    """Write the seed to ``path``; returns its digits test accuracy."""
    task = load_task(name="digits")
    rng = random.Random(3)
    graph = template_graph(rng, task.inputs, task.outputs, BOUNDS, task.causal)
    graph.hparams = genes.first(rng, task.kind)
    graph.hparams["lr"] = 0.003
    brain = compile_graph(graph, seed=0)
    train(brain, task, Budget(steps=steps), graph.hparams, seed=0)
    accuracy = float(evaluate(brain, task, task.test)["accuracy"])
    rec = record_of("digits", task.describe(), graph)
    rec.score = {"metric": "accuracy", "test": accuracy}
    graph.tasks = {"digits": rec}
    brains = compile_tasks(graph)
    brains.load_weights(brain.weights())
    inputs = {"image": task.val.take(slice(0, probe)).inputs["image"]}
    rec.probe, probes = make_probe(brains, "digits", inputs)
    save(path, GraphFile(graph=graph, weights=brain.weights(), probes=probes))
    return accuracy
