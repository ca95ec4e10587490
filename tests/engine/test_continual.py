"""Continuing a shared brain on a new task: what each --keep mode freezes, the 2 % retention
rule, protect keeping the old heads bit-identical and share keeping them within 2 % through
real training, and the clashes that refuse to continue."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from openbrains.engine.continual.retention import PENALTY, baseline, forgot, kept_fitness
from openbrains.engine.continual.seeding import continue_seed, data_fingerprint
from openbrains.engine.continual.train import OldTask, train_continued
from openbrains.engine.errors import GraphError
from openbrains.engine.format import GraphFile, load
from openbrains.engine.multitask import compile_tasks, probe_inputs, probe_score
from openbrains.engine.tasks.registry import load_task
from openbrains.engine.train.trainer import Budget
from tests.continual_kit import SEED


@pytest.fixture(scope="module")
def seed_file() -> Path:
    return SEED  # a digits brain at 0.91 test accuracy, with a probe (tests/continual_kit.py)


def _old_outputs(graph, weights, probes):  # type: ignore[no-untyped-def]
    brains = compile_tasks(graph, ["digits"])
    brains.load_weights(weights, strict=False)
    brains.eval()
    rec = graph.tasks["digits"]
    with torch.no_grad():
        return brains.run("digits", probe_inputs(probes, "digits", rec.probe))["label"]


def test_each_mode_freezes_what_it_says(seed_file: Path) -> None:
    doc, xor = load(seed_file), load_task(name="xor")
    old = set(doc.graph.nodes)
    for keep, frozen, trainable in (
        ("protect", True, False),
        ("share", True, True),
        ("off", False, True),
    ):
        done = continue_seed(doc, "seed", xor, keep, 0)
        g = done.graph
        assert list(g.tasks) == ["digits", "xor"] and done.old_tasks == ["digits"]
        assert {(g.nodes[u].frozen, g.nodes[u].trainable) for u in old} == {(frozen, trainable)}
        new = set(g.nodes) - old
        assert new and all(g.nodes[u].owner == ("xor",) and not g.nodes[u].frozen for u in new)
        # xor's 2-channel vector cannot feed the image input: it gets an input of its own
        assert g.tasks["xor"].inputs["x"].node in new
        assert g.lineage["parents"][0]["relation"] == "continue"
        wired_in = {e.dst for e in g.edges.values() if e.src in new and e.dst in old}
        assert bool(wired_in) == (keep != "protect")


def test_protect_keeps_the_old_head_bit_identical_through_training(seed_file: Path) -> None:
    doc = load(seed_file)
    done = continue_seed(doc, "seed", load_task(name="xor"), "protect", 0)
    before = _old_outputs(doc.graph, doc.weights, doc.probes)
    out = train_continued(
        done.graph,
        done.weights,
        load_task(name="xor"),
        [OldTask("digits")],
        done.probes,
        "protect",
        Budget(steps=60),
        seed=1,
    )
    assert out.tasks["digits"]["probe"] == 1.0
    for key, value in doc.weights.items():
        assert torch.equal(out.weights[key], value), key
    assert torch.equal(_old_outputs(done.graph, out.weights, done.probes), before)


def test_share_trains_the_old_body_and_keeps_the_old_task(seed_file: Path) -> None:
    doc = load(seed_file)
    done = continue_seed(doc, "seed", load_task(name="xor"), "share", 0)
    out = train_continued(
        done.graph,
        done.weights,
        load_task(name="xor"),
        [OldTask("digits")],
        done.probes,
        "share",
        Budget(steps=80),
        seed=1,
    )
    assert any(not torch.equal(out.weights[k], v) for k, v in doc.weights.items())
    assert out.tasks["digits"]["probe"] >= 0.98
    brains = compile_tasks(done.graph)
    brains.load_weights(out.weights)
    assert probe_score(brains, "digits", done.probes) == pytest.approx(out.tasks["digits"]["probe"])


def test_retention_rule() -> None:
    base = baseline({"digits": "accuracy", "text": "bpc"})
    assert forgot({"digits": {"probe": 0.981}, "text": {"probe": 0.99}}, base) == []
    assert forgot({"digits": {"probe": 0.979}, "text": {"probe": 1.0}}, base) == ["digits"]
    assert forgot({"digits": {"probe": 1.0}}, base) == ["text"]  # not measured: forgot
    assert kept_fitness(0.5, {"digits": {"probe": 0.9}, "text": {"probe": 1}}, base) == (
        0.5 - PENALTY
    )
    assert kept_fitness(0.5, {"digits": {"probe": 0.99}, "text": {"probe": 1}}, base) == 0.5
    assert kept_fitness(None, {}, base) is None


def test_clashes_and_seeds_without_a_task_are_refused(seed_file: Path) -> None:
    doc = load(seed_file)
    digits = load_task(name="digits")
    elsewhere = GraphFile(graph=doc.graph.copy(), weights=doc.weights, probes=doc.probes)
    elsewhere.graph.tasks["digits"].settings = {"validation": 0.5, "seed": 7}
    with pytest.raises(GraphError, match="already has a task 'digits' trained on other data"):
        continue_seed(elsewhere, "seed", digits, "protect", 0)
    with pytest.raises(GraphError, match="knows only task 'digits'"):
        continue_seed(doc, "seed", digits, "protect", 0)
    # a data fingerprint, where the file has one, decides over the settings
    elsewhere.graph.tasks["digits"].data_id = data_fingerprint(digits)
    with pytest.raises(GraphError, match="knows only task 'digits'"):
        continue_seed(elsewhere, "seed", digits, "protect", 0)
    elsewhere.graph.tasks["digits"].data_id = "0" * 32
    elsewhere.graph.tasks["digits"].settings = dict(digits.settings)
    with pytest.raises(GraphError, match="trained on other data"):
        continue_seed(elsewhere, "seed", digits, "protect", 0)
    bare = GraphFile(graph=doc.graph.copy(), weights=doc.weights)
    bare.graph.tasks = {}
    with pytest.raises(GraphError, match="records no task"):
        continue_seed(bare, "seed", load_task(name="xor"), "protect", 0)
    no_probe = GraphFile(graph=doc.graph.copy(), weights=doc.weights)
    no_probe.graph.tasks["digits"].probe = None
    with pytest.raises(GraphError, match="carries no probe"):
        continue_seed(no_probe, "seed", load_task(name="xor"), "share", 0)
