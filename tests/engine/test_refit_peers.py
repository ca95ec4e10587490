"""A refit learns from its run's best brains (engine.teachers.peers): their averaged
beliefs about every shifted training image are its soft targets. Real brains trained on
digits, a real run, the job over the wire."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.evolve.random import SizeBounds
from openbrains.engine.evolve.templates import template_graph
from openbrains.engine.graph import Graph
from openbrains.engine.jobs import JobSpec, Peer, TaskRef
from openbrains.engine.refits import RefitStore
from openbrains.engine.run import Run, RunSettings, refitting
from openbrains.engine.runners.dataset import DatasetRunner, refit_view
from openbrains.engine.tasks.registry import load_task
from openbrains.engine.teachers.peers import MIN_PEERS, REFIT_GENES, can_teach, taught_by_peers
from openbrains.engine.train.augment import shift_by, shift_specs
from openbrains.engine.train.trainer import Budget, train
from openbrains.engine.weights import decode_weights, encode_weights


@pytest.fixture(scope="module")
def digits():
    return load_task(name="digits")


@pytest.fixture(scope="module")
def peers(digits) -> list[Peer]:
    """Three small conv nets trained briefly on digits."""
    out = []
    for seed in range(3):
        rng = random.Random(seed)
        graph = template_graph(rng, digits.inputs, digits.outputs, SizeBounds(max_params=3000))
        graph.hparams = {"lr": 0.01, "batch_size": 32, "optimizer": "adam"}
        brain = compile_graph(graph)
        train(brain, digits, Budget(steps=60), graph.hparams, seed=seed, measure_test=False)
        out.append(Peer(graph.to_json().decode(), encode_weights(brain.weights())))
    return out


def test_a_refit_job_carries_its_peers_over_the_wire(peers: list[Peer]) -> None:
    spec = JobSpec(1, TaskRef({"name": "digits"}), peers[0].graph, 3, 40, refit=True)
    taught = spec.with_(peers=tuple(peers), weights=peers[0].weights)
    assert JobSpec.from_wire(*taught.to_wire()) == taught
    header, blobs = spec.to_wire()
    header.pop("peers")  # a refit without peers reads as one
    assert JobSpec.from_wire(header, blobs).peers == ()


def test_the_targets_are_the_peers_averaged_beliefs_about_each_shifted_view(
    digits, peers: list[Peer]
) -> None:
    view = refit_view(digits)
    taught = taught_by_peers(view, peers)
    assert taught is not None and len(taught.teacher.brains) == 3
    spec = shift_specs(view)["image"]
    index = torch.tensor([0, 5, len(view.train) - 1])  # the last is a validation image
    oy, ox = torch.tensor([0, 2, 1]), torch.tensor([1, 0, 2])
    views = {"image": oy * (2 * spec.pixels + 1) + ox}
    got = taught.teacher.targets(view.train, index, views, {"image": spec}, {})
    x = shift_by(view.train.inputs["image"][index], spec, oy, ox)
    probs = []
    for peer in peers:
        brain = compile_graph(Graph.from_json(peer.graph))
        brain.load_weights(decode_weights(peer.weights))
        with torch.no_grad():
            probs.append(torch.softmax(brain.eval()(x)[:, -1, :], dim=-1))
    want = torch.log(sum(probs) / 3)
    assert torch.allclose(got, want, atol=1e-5)
    assert torch.allclose(got.exp().sum(-1), torch.ones(3), atol=1e-5)


def test_peers_teach_only_what_they_can(digits, peers: list[Peer]) -> None:
    view = refit_view(digits)
    assert taught_by_peers(view, peers[: MIN_PEERS - 1]) is None  # too few for an ensemble
    broken = [Peer("{not json", b""), *peers[1:]]
    assert taught_by_peers(view, broken) is None  # one fails to load: two are too few
    assert taught_by_peers(view, [*peers, broken[0]]) is not None  # the others still teach
    assert can_teach(view, len(view.train))
    assert not can_teach(replace(view, teacher=object()), len(view.train))  # it has one
    assert not can_teach(view, 10**9)  # a table that large is not made: a plain refit


def test_a_taught_refit_trains_with_the_distillation_genes(digits, peers: list[Peer]) -> None:
    spec = JobSpec(
        1,
        TaskRef({"name": "digits"}),
        peers[0].graph,
        seed=5,
        steps=30,
        weights=peers[0].weights,
        refit=True,
        peers=tuple(peers),
    )
    (taught,) = DatasetRunner().train(spec, digits).outcomes
    (plain,) = DatasetRunner().train(spec.with_(peers=()), digits).outcomes
    assert taught.done and plain.done
    assert taught.details["peers"] == 3 and "peers" not in plain.details
    assert taught.weights != plain.weights  # same seed and start: only the targets differ
    assert set(REFIT_GENES) == {"distill_alpha", "distill_temperature"}


def test_a_run_sends_its_best_members_to_the_refit(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(refitting, "PEER_MARGIN", 1.0)  # every member is near enough
    events: list[tuple[str, dict]] = []
    settings = RunSettings(
        task={"name": "digits"},
        workers=0,
        population=4,
        budget_steps=40,
        max_params=3000,
        sibling_rate=0.0,
        template_fraction=1.0,
    )
    run = Run(tmp_path / "run", settings, on_event=lambda kind, data: events.append((kind, data)))
    try:
        run.run(max_individuals=5)
        best = run.best
        assert best is not None
        chosen = run.refitting.peers()
        assert len(chosen) == min(len(run.members), refitting.PEERS) >= MIN_PEERS
        champion = next(m for m in run.members if m.record.id == best.id)
        assert chosen[0].weights == champion.weights  # the champion leads
        last = [d for kind, d in events if kind == "refit"][-1]
        assert last["peers"] >= MIN_PEERS
        stored = RefitStore(run.archive).get(last["of"])
        assert stored is not None and stored.steps == refitting.PEER_BUDGET * run.budget(0)
        monkeypatch.setattr(refitting, "PEER_MARGIN", -1.0)  # none near: a plain refit
        assert run.refitting.peers() == ()
    finally:
        run.close()
