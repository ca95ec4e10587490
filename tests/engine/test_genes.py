"""Training genes, declared once (engine.train.genes): the breeder's first draws, mutation
and the trainer's defaults come from one table, and a bad gene is a clear error."""

from __future__ import annotations

import math
import random

import pytest

from openbrains.engine.errors import ParamError
from openbrains.engine.train import genes


def test_a_graph_carries_the_genes_of_its_task_kind() -> None:
    assert genes.defaults("regression") == {
        "lr": 3e-3,
        "batch_size": 32,
        "optimizer": "adam",
        "schedule": "cosine",
    }
    assert genes.defaults("classification")["label_smoothing"] == 0.0
    assert genes.resolve({"lr": 0.01, "unknown": 1})["lr"] == 0.01
    assert "unknown" not in genes.resolve({"unknown": 1})


def test_first_graphs_draw_from_the_safe_start() -> None:
    rng = random.Random(0)
    draws = [genes.first(rng, "classification") for _ in range(300)]
    assert all(1e-3 <= d["lr"] <= 2e-2 for d in draws)
    assert {d["batch_size"] for d in draws} == {16, 32, 64}
    assert {d["optimizer"] for d in draws} == {"adam"}
    assert {d["label_smoothing"] for d in draws} == {0.1}
    assert "label_smoothing" not in genes.first(rng, "completion")


def test_mutation_stays_in_range_and_batch_size_moves_one_step() -> None:
    rng = random.Random(1)
    batch, lr = genes.gene("batch_size"), genes.gene("lr")
    assert lr.evolves.low == 1e-4 and lr.evolves.high == 0.1
    moves = {batch.mutate(32, rng) for _ in range(100)}
    assert moves == {16, 64}
    assert {batch.mutate(256, rng) for _ in range(20)} == {128}
    assert {batch.mutate(8, rng) for _ in range(20)} == {16}
    value = 3e-3
    for _ in range(500):
        value = lr.mutate(value, rng)
        assert 1e-4 <= value <= 0.1  # evolution stays where training works
    assert genes.evolvable({"lr": 1}) == ["lr", "batch_size", "optimizer", "schedule"]
    assert genes.evolvable({"label_smoothing": 0.1})[-1] == "label_smoothing"


@pytest.mark.parametrize(
    ("hparams", "says"),
    [
        ({"lr": math.nan}, "gene 'lr': expected a finite number"),
        ({"lr": "fast"}, "gene 'lr': expected a number"),
        ({"lr": 0}, "gene 'lr': 0.0 is not above 0"),
        ({"lr": -0.1}, "gene 'lr': -0.1 is not above 0"),
        ({"batch_size": 0}, "gene 'batch_size': 0 is below the minimum 1"),
        ({"batch_size": 2.5}, "gene 'batch_size': expected an integer"),
        ({"optimizer": "lbfgs"}, "gene 'optimizer': 'lbfgs' is not one of"),
        ({"label_smoothing": 1.0}, "gene 'label_smoothing': 1.0 is not below 1"),
    ],
)
def test_a_bad_gene_is_one_clear_line(hparams: dict, says: str) -> None:
    with pytest.raises(ParamError, match=says.replace("(", r"\(")):
        genes.check(hparams)


def test_checked_genes_keep_what_they_do_not_know() -> None:
    assert genes.check({"lr": 1e-3, "batch_size": 100, "future_gene": [1]}) == {
        "lr": 1e-3,
        "batch_size": 100,  # valid anywhere in range, not only where mutation steps
        "future_gene": [1],
    }
    with pytest.raises(ParamError, match="the training genes must be an object, not list"):
        genes.check([1, 2])
    assert genes.problem({"lr": 1e6}) is None  # any finite rate above 0: a huge one diverges
    assert genes.problem({"lr": "fast"}) == "gene 'lr': expected a number, got 'fast'"
    with pytest.raises(ParamError, match="gene 'batch_size'"):
        genes.resolve({"batch_size": 0})  # checked again before training
