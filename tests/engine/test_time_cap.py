"""The per-job time cap: a candidate far slower per step than its peers is stopped at a
multiple of the recent median pace, trained as far as it got, and scored like any other."""

from __future__ import annotations

import random
import statistics
from pathlib import Path

import pytest

from openbrains.engine.evolve.random import SizeBounds
from openbrains.engine.evolve.templates import template_graph
from openbrains.engine.jobs import JobSpec, Sibling, TaskRef
from openbrains.engine.run import TIME_CAP, TIME_CAP_MIN_JOBS, Run, RunSettings
from openbrains.engine.runners import train_job
from openbrains.engine.tasks.builtin import digits_task, xor_task
from openbrains.engine.train.trainer import Budget, lr_factor
from tests.engine.test_batched import chain

XOR = TaskRef({"name": "xor"})


def test_cosine_follows_whichever_budget_runs_out_first() -> None:
    both = Budget(steps=100, seconds=10.0)
    assert lr_factor("cosine", both, 10, 5.0) == pytest.approx(0.5)  # time is half gone
    assert lr_factor("cosine", both, 50, 1.0) == pytest.approx(0.5)  # steps are half done
    assert lr_factor("cosine", both, 10, 10.0) == pytest.approx(0.0)


def test_a_job_stops_at_its_seconds_and_is_scored() -> None:
    task = xor_task()
    graph = template_graph(random.Random(0), task.inputs, task.outputs, SizeBounds())
    job = JobSpec(1, XOR, graph.to_json().decode(), seed=0, steps=10**9, seconds=0.3)
    (out,) = train_job(job, task).outcomes
    assert out.status == "done", out.error
    assert 0 < out.steps < 10**9
    assert "accuracy" in out.val and out.weights


def test_jobs_carry_a_cap_once_enough_have_finished(tmp_path: Path) -> None:
    settings = RunSettings(task={"name": "xor"}, workers=0, population=6, sibling_rate=0.0)
    run = Run(tmp_path / "run", settings)
    try:
        assert run.next_job().seconds is None
        run.inflight.clear()
        run.run(max_individuals=TIME_CAP_MIN_JOBS + 2)
        assert len(run.pace.seconds) >= TIME_CAP_MIN_JOBS
        job = run.next_job()
        pace = statistics.median(run.pace.seconds)
        assert job.seconds == pytest.approx(TIME_CAP * pace * job.steps * job.candidates)
    finally:
        run.close()


def test_each_candidate_of_a_sibling_group_counts_its_own_pace(tmp_path: Path) -> None:
    settings = RunSettings(
        task={"name": "xor"},
        workers=0,
        population=4,
        sibling_rate=1.0,
        siblings=3,
        template_fraction=1.0,
    )
    run = Run(tmp_path / "run", settings)
    try:
        for _ in range(60):
            job = run.next_job()
            result = train_job(job, run.task)
            run.absorb(result)
            if job.siblings and result.outcomes[0].done:
                break
        else:
            pytest.fail("no sibling group was made")
        share = len(job.siblings) if result.batched else 1
        expected = [o.train_seconds / o.steps / share for o in result.outcomes if o.done]
        assert expected and list(run.pace.seconds)[-len(expected) :] == pytest.approx(expected)
    finally:
        run.close()


def test_siblings_trained_in_turn_share_the_jobs_seconds() -> None:
    task = digits_task()
    graph = chain([("flatten", {}), ("hebbian", {"width": 8}), ("dense", {"width": 8})])
    siblings = tuple(Sibling(s, {"lr": 3e-3}) for s in range(3))
    job = JobSpec(
        1,
        TaskRef({"name": "digits"}),
        graph.to_json().decode(),
        seed=0,
        steps=10**9,
        seconds=0.9,
        siblings=siblings,
    )
    result = train_job(job, task)
    assert result.batched is False  # hebbian units are never batched
    members = result.outcomes
    assert [m.status for m in members] == ["done"] * 3
    # each gets about a third of the group's 0.9 s, never the whole of it
    assert all(0 < m.steps < 10**9 and m.train_seconds < 0.6 for m in members)
