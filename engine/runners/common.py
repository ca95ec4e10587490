"""Helpers every runner's worker side shares: build a candidate with what it inherits,
measure its pace and size, and turn a crash into a failed result instead of a dead run."""

from __future__ import annotations

import statistics
import time
import traceback
from collections.abc import Callable
from typing import Any

import torch

from openbrains.engine.compile import Brain, compile_graph
from openbrains.engine.graph import Graph
from openbrains.engine.jobs import JobResult, JobSpec
from openbrains.engine.weights import decode_weights

OnStep = Callable[[], None]


def inherit(brain: Brain, weights: dict[str, torch.Tensor]) -> dict[str, int]:
    """Copy every inherited tensor that fits; the rest of the brain keeps its fresh init.
    Returns how many tensors were copied, partly copied and fresh."""
    from openbrains.engine.evolve.inherit import inherit_weights

    report = inherit_weights(brain, weights)
    return {
        "copied": len(report.copied),
        "partial": len(report.partial),
        "fresh": len(report.fresh),
    }


def candidate(
    spec: JobSpec, graph: Graph | None = None, seed: int | None = None
) -> tuple[Brain, dict[str, int]]:
    """The job's brain (or a sibling's: ``graph``, ``seed``), compiled and given the
    tensors it inherits; with the inheritance report."""
    graph = graph if graph is not None else Graph.from_json(spec.graph)
    brain = compile_graph(graph, seed=spec.seed if seed is None else seed)
    report = inherit(brain, decode_weights(spec.weights)) if spec.weights else {}
    return brain, report


@torch.no_grad()
def forward_latency(brain: Brain, *xs: torch.Tensor, reps: int = 15) -> float:
    """Median milliseconds of a forward pass on ``xs``, in eval mode, after one warm-up."""
    was = brain.training
    brain.eval()
    brain(*xs)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        brain(*xs)
        times.append(time.perf_counter() - t0)
    brain.train(was)
    return statistics.median(times) * 1e3


@torch.no_grad()
def measure_latency(brain: Brain, task: Any, reps: int = 15) -> float:
    """Median milliseconds of one forward pass on one validation example (batch 1)."""
    example = task.val.take(slice(0, 1))
    return forward_latency(brain, *[example.inputs[n] for n in brain.input_names], reps=reps)


def data_info(task: Any) -> tuple[int, int]:
    """Which data a candidate trained on: the recorded-data version and the train size, so
    the archive can show that new recordings reached the workers."""
    from openbrains.engine.recorded import data_version

    train = getattr(task, "train", None)
    return data_version(task), (len(train) if train is not None else 0)


def guarded(spec: JobSpec, task: Any, work: Callable[[], JobResult]) -> JobResult:
    """Run one job's ``work``. A bad candidate comes back failed, with its error and a short
    trace, instead of raising: the run goes on. Any exception counts, since a user's game
    or environment may raise anything (an IndexError from a board): a worker that died of
    it would print a traceback per job and lose the error; the run's failure guard stops a
    run where every job fails. Every result says how long its job took and which data it
    trained on."""
    t0 = time.perf_counter()
    try:
        result = work()
    except Exception as exc:
        result = JobResult.failed(
            spec, f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=4)
        )
    result.data_version, result.train_size = data_info(task)
    result.wall_seconds = time.perf_counter() - t0
    return result
