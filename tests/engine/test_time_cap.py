"""The per-job time cap: a candidate far slower per step than its peers is stopped at a
multiple of the recent median pace, trained as far as it got, and scored like any other."""

from __future__ import annotations

import random
import statistics
from pathlib import Path

import pytest

from engine.evolve.random import SizeBounds
from engine.evolve.templates import template_graph
from engine.run import TIME_CAP, TIME_CAP_MIN_JOBS, Run, RunSettings
from engine.tasks.builtin import xor_task
from engine.train.job import run_job
from engine.train.trainer import Budget, lr_factor


def test_cosine_follows_whichever_budget_runs_out_first() -> None:
    both = Budget(steps=100, seconds=10.0)
    assert lr_factor("cosine", both, 10, 5.0) == pytest.approx(0.5)  # time is half gone
    assert lr_factor("cosine", both, 50, 1.0) == pytest.approx(0.5)  # steps are half done
    assert lr_factor("cosine", both, 10, 10.0) == pytest.approx(0.0)


def test_a_job_stops_at_its_seconds_and_is_scored() -> None:
    task = xor_task()
    graph = template_graph(random.Random(0), task.inputs, task.outputs, SizeBounds())
    job = {"job": 1, "graph": graph.to_json().decode(), "seed": 0, "steps": 10**9, "seconds": 0.3}
    result, weights = run_job(job, b"", task)
    assert result["status"] == "done", result.get("error")
    assert 0 < result["steps"] < 10**9
    assert "accuracy" in result["val"] and weights


def test_jobs_carry_a_cap_once_enough_have_finished(tmp_path: Path) -> None:
    settings = RunSettings(task={"name": "xor"}, workers=0, population=6, sibling_rate=0.0)
    run = Run(tmp_path / "run", settings)
    try:
        first, _ = run.next_job()
        assert "seconds" not in first
        run.run(max_individuals=TIME_CAP_MIN_JOBS + 2)
        assert len(run.step_seconds) >= TIME_CAP_MIN_JOBS
        job, _ = run.next_job()
        pace = statistics.median(run.step_seconds)
        candidates = max(1, len(job.get("siblings") or ()))
        assert job["seconds"] == pytest.approx(TIME_CAP * pace * job["steps"] * candidates)
    finally:
        run.close()
