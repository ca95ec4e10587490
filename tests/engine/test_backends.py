"""Backends take JobSpecs and give back JobResults: real worker processes over real pipes
(``local``) and the coordinating process itself (``inline``); a job names its data, so a
worker reloads when the run's data changed; a worker lost mid-job is a failed result."""

from __future__ import annotations

import os
import random
import signal
import time

import pytest

from openbrains.engine.backends import BACKENDS, BackendConfig, open_backend
from openbrains.engine.backends.inline import InlineBackend
from openbrains.engine.backends.local import LocalBackend
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.evolve.random import SizeBounds
from openbrains.engine.evolve.templates import template_graph
from openbrains.engine.jobs import JobResult, JobSpec, TaskRef
from openbrains.engine.tasks.registry import load_task

XOR, DIGITS = TaskRef({"name": "xor"}), TaskRef({"name": "digits"})


def job(i: int, task: TaskRef, steps: int = 20) -> JobSpec:
    t = load_task(**task.spec)
    graph = template_graph(random.Random(i), t.inputs, t.outputs, SizeBounds())
    return JobSpec(i, task, graph.to_json().decode(), seed=i, steps=steps)


def collect(backend: object, n: int, timeout: float = 120.0) -> list[JobResult]:
    out: list[JobResult] = []
    deadline = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        out += backend.collect(timeout=0.2)
    assert len(out) == n, f"{len(out)} of {n} results in {timeout} s"
    return out


def ready(backend: LocalBackend, workers: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while backend.free() < workers and time.monotonic() < deadline:
        assert backend.collect(timeout=0.2) == []
    assert backend.free() == workers


def test_the_default_backends_are_found_by_name() -> None:
    assert {"local", "inline"} <= set(BACKENDS)
    config = BackendConfig(workers=0, cpu_share=None, task=XOR)
    assert isinstance(open_backend("local", config), InlineBackend)  # workers 0: in process
    with pytest.raises(OpenBrainsError, match="unknown backend 'moon'"):
        open_backend("moon", BackendConfig(workers=1, cpu_share=None, task=XOR))


def test_local_workers_train_jobs_and_reload_when_the_data_changes() -> None:
    backend = open_backend("local", BackendConfig(workers=1, cpu_share=None, task=XOR))
    try:
        assert isinstance(backend, LocalBackend)
        ready(backend, 1)
        backend.submit(job(1, XOR))
        assert backend.free() == 0 and backend.busy() == 1
        (first,) = collect(backend, 1)
        assert first.job == 1 and first.outcomes[0].status == "done"
        assert first.train_size == len(load_task("xor").train)
        backend.submit(job(2, DIGITS, steps=5))  # the job names other data: the worker reloads
        (second,) = collect(backend, 1)
        assert second.outcomes[0].status == "done", second.outcomes[0].error
        assert second.train_size == len(load_task("digits").train)
        assert "accuracy" in second.outcomes[0].val
    finally:
        backend.close()
    assert backend.workers == []


def test_a_worker_killed_mid_job_gives_a_failed_result_and_is_replaced() -> None:
    backend = LocalBackend(BackendConfig(workers=1, cpu_share=None, task=DIGITS))
    try:
        ready(backend, 1)
        backend.submit(job(5, DIGITS, steps=10**7))
        time.sleep(1.0)
        os.kill(backend.workers[0].process.pid, signal.SIGKILL)
        (lost,) = collect(backend, 1, timeout=30)
        assert lost.job == 5 and lost.outcomes[0].status == "failed"
        assert "worker process died" in lost.outcomes[0].error
        ready(backend, 1)  # a fresh worker took its place
        backend.submit(job(6, DIGITS, steps=5))
        assert collect(backend, 1)[0].outcomes[0].status == "done"
    finally:
        backend.close()


def test_inline_trains_in_this_process_on_the_task_it_was_given() -> None:
    task = load_task("xor")
    backend = InlineBackend(BackendConfig(workers=0, cpu_share=None, task=XOR, local_task=task))
    assert backend.free() == 1
    backend.submit(job(1, XOR))
    assert backend.free() == 0
    (result,) = backend.collect(timeout=0.0)
    assert result.outcomes[0].status == "done" and backend.busy() == 0
    backend.retask(DIGITS)  # no task object given: it loads what the next job names
    backend.submit(job(2, DIGITS, steps=5))
    (result,) = backend.collect(timeout=0.0)
    assert result.train_size == len(load_task("digits").train)
