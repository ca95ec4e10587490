"""Refits (engine.refits): each new champion of a dataset task trains on with its
validation examples added, is kept beside it and is what an export carries; it never
becomes an individual of the run. Real runs on digits, a real archive, real exports."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from openbrains.engine.export import export_individual
from openbrains.engine.format import load
from openbrains.engine.jobs import JobSpec, TaskRef
from openbrains.engine.refits import RefitStore
from openbrains.engine.run import Run, RunSettings, policy
from openbrains.engine.runners.dataset import refit_view
from openbrains.engine.store import Archive
from openbrains.engine.tasks.registry import load_task
from openbrains.engine.weights import decode_weights


def digits_run(tmp: Path, **kw) -> tuple[Run, list[tuple[str, dict]]]:
    events: list[tuple[str, dict]] = []
    settings = RunSettings(
        task={"name": "digits"},
        workers=0,
        population=4,
        budget_steps=40,
        max_params=3000,
        sibling_rate=0.0,
        template_fraction=1.0,
        **kw,
    )
    run = Run(tmp / "run", settings, on_event=lambda kind, data: events.append((kind, data)))
    return run, events


def test_the_champion_is_refitted_with_its_validation_data_and_stays_one_individual(
    tmp_path: Path,
) -> None:
    run, events = digits_run(tmp_path)
    try:
        run.run(max_individuals=6)
        best = run.best
        assert best is not None
        refits = [d for kind, d in events if kind == "refit"]
        assert refits, "no refit was made"
        assert run.archive.count() == run.births == 6  # a refit is no individual
        # the run ended on its own, so even a champion of its last birth has its refit
        last = refits[-1]
        assert last["of"] == best.id
        stored = RefitStore(run.archive).get(last["of"])
        assert stored is not None and stored.steps == run.budget(0) == 40
        assert last["test_score"] == stored.test_metric
        assert {r["of"] for r in refits} <= {r.id for r in run.archive.records()}
        own = decode_weights(run.archive.weights(last["of"]))
        refitted = decode_weights(stored.weights)
        assert own.keys() == refitted.keys()
        assert any(not torch.equal(own[k], refitted[k]) for k in own)
        # progress carries the champion's refit
        assert run.progress()["best"].get("refit") == stored.summary()
    finally:
        run.close()


def test_a_task_whose_validation_is_its_training_data_makes_no_refit(tmp_path: Path) -> None:
    events: list[tuple[str, dict]] = []
    settings = RunSettings(task={"name": "xor"}, workers=0)
    run = Run(tmp_path / "xor", settings, on_event=lambda kind, data: events.append((kind, data)))
    try:
        run.run(max_individuals=3)
        assert run.best is not None
        assert not [kind for kind, _ in events if kind in ("finishing", "refit")]
    finally:
        run.close()


def test_a_run_that_ends_refits_the_champion_it_crowned_last(tmp_path: Path) -> None:
    run, events = digits_run(tmp_path)
    try:
        run.run(max_individuals=1)  # the loop ends with the first champion, before any refit
        best = run.best
        assert best is not None and run.births == 1
        assert ("finishing", {"refit_of": best.id}) in events
        assert [d["of"] for kind, d in events if kind == "refit"] == [best.id]
        assert RefitStore(run.archive).get(best.id) is not None
    finally:
        run.close()


def test_a_stop_asked_for_does_not_wait_for_a_refit(tmp_path: Path) -> None:
    run, events = digits_run(tmp_path)

    def stop_at_the_first_champion(kind: str, data: dict) -> None:
        events.append((kind, data))
        if kind == "individual":
            run.stop_event.set()

    run.on_event = stop_at_the_first_champion
    try:
        run.run(max_individuals=1)
        assert run.best is not None
        assert not [kind for kind, _ in events if kind in ("finishing", "refit")]
        assert RefitStore(run.archive).get(run.best.id) is None
    finally:
        run.close()


def test_no_refit_when_the_run_says_so(tmp_path: Path) -> None:
    run, events = digits_run(tmp_path, refit=False)
    try:
        run.run(max_individuals=4)
        assert run.best is not None
        assert not [kind for kind, _ in events if kind.startswith("refit")]
        assert RefitStore(run.archive).get(run.best.id) is None
    finally:
        run.close()


def test_an_export_carries_the_refit_unless_asked_not_to(tmp_path: Path) -> None:
    run, events = digits_run(tmp_path)
    try:
        run.run(max_individuals=5)
        refitted_id = [d for kind, d in events if kind == "refit"][-1]["of"]
        refit = RefitStore(run.archive).get(refitted_id)
        own = run.archive.weights(refitted_id)
    finally:
        run.close()
    assert refit is not None and own is not None
    _, rec = export_individual(tmp_path / "run", refitted_id, tmp_path / "refit.graph")
    doc = load(tmp_path / "refit.graph")
    want = decode_weights(refit.weights)
    assert all(torch.equal(doc.weights[k], want[k]) for k in want)
    score = doc.graph.tasks["digits"].score
    assert score["refit"]["steps"] == refit.steps
    assert score["test"] == refit.test_metric and score["validation"] == rec.val_metric
    export_individual(tmp_path / "run", refitted_id, tmp_path / "own.graph", refit=False)
    plain = load(tmp_path / "own.graph")
    mine = decode_weights(own)
    assert all(torch.equal(plain.weights[k], mine[k]) for k in mine)
    assert "refit" not in plain.graph.tasks["digits"].score


def test_a_refit_trains_on_training_and_validation_examples() -> None:
    task = load_task(name="digits")
    view = refit_view(task)
    assert len(view.train) == len(task.train) + len(task.val)
    assert torch.equal(view.train.inputs["image"][len(task.train) :], task.val.inputs["image"])
    assert torch.equal(view.val.target, task.val.target)  # still measured where it was
    assert torch.equal(view.test.target, task.test.target)


def test_a_refit_job_says_so_on_the_wire() -> None:
    spec = JobSpec(1, TaskRef({"name": "digits"}), "{}", seed=3, steps=40, refit=True)
    header, blobs = spec.to_wire()
    assert JobSpec.from_wire(header, blobs).refit is True
    header.pop("refit")  # a job from before refits
    assert JobSpec.from_wire(header, blobs).refit is False


def test_an_archive_opened_read_only_without_refits_has_none(tmp_path: Path) -> None:
    Archive(tmp_path / "run").close()  # a run folder made before refits existed
    archive = Archive(tmp_path / "run", readonly=True)
    try:
        assert RefitStore(archive).get(1) is None
    finally:
        archive.close()


@pytest.mark.parametrize(("share", "half_life"), [(0.35, 200), (0.35, 0), (0.5, 20)])
def test_templates_are_spread_evenly_over_births(share: float, half_life: int) -> None:
    for offset in (random.Random(s).random() for s in range(20)):
        drawn = [policy.is_template(share, i, half_life, offset) for i in range(400)]
        for start in range(0, 400 - 40, 7):
            for length in (1, 5, 16, 40):
                got = sum(drawn[start : start + length])
                want = policy.template_total(share, start + length, half_life)
                want -= policy.template_total(share, start, half_life)
                assert abs(got - want) < 1 + 1e-9
    # the first 16 births of a run with the default share: 5 or 6 templates, never 2
    counts = {
        sum(policy.is_template(0.35, i, 200, random.Random(s).random()) for i in range(16))
        for s in range(200)
    }
    assert counts <= {5, 6}
