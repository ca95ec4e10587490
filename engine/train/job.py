"""One unit of work: compile a child, give it its inherited weights, train it for its
budget, measure it. The same function runs in a worker process or, for tiny tasks, in
the coordinating process."""

from __future__ import annotations

import statistics
import time
import traceback
from collections.abc import Callable
from typing import Any

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from engine.compile import Brain, compile_graph
from engine.errors import OpenBrainsError
from engine.graph import Graph
from engine.tasks.base import DatasetTask
from engine.train.trainer import Budget, train


def encode_weights(weights: dict[str, torch.Tensor]) -> bytes:
    return st_save({k: v.detach().contiguous() for k, v in sorted(weights.items())})


def decode_weights(data: bytes) -> dict[str, torch.Tensor]:
    """Weights we wrote ourselves (archive, worker pipes): safetensors, never pickle."""
    return st_load(data) if data else {}


def inherit(brain: Brain, weights: dict[str, torch.Tensor]) -> dict[str, int]:
    """Copy every inherited tensor that fits; the rest of the brain keeps its fresh init."""
    from engine.evolve.inherit import inherit_weights

    report = inherit_weights(brain, weights)
    return {
        "copied": len(report.copied),
        "partial": len(report.partial),
        "fresh": len(report.fresh),
    }


@torch.no_grad()
def measure_latency(brain: Brain, task: DatasetTask, reps: int = 15) -> float:
    """Median milliseconds of one forward pass on one validation example (batch 1)."""
    was = brain.training
    brain.eval()
    example = task.val.take(slice(0, 1))
    xs = [example.inputs[n] for n in brain.input_names]
    brain(*xs)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        brain(*xs)
        times.append(time.perf_counter() - t0)
    brain.train(was)
    return statistics.median(times) * 1e3


def run_job(
    job: dict[str, Any],
    weights: bytes,
    task: DatasetTask,
    on_step: Callable[[], None] | None = None,
) -> tuple[dict[str, Any], bytes]:
    """Train one candidate. Never raises for a bad candidate: it comes back as failed."""
    t0 = time.perf_counter()
    result: dict[str, Any] = {"job": job["job"], "status": "failed"}
    try:
        graph = Graph.from_json(job["graph"])
        brain = compile_graph(graph, seed=int(job["seed"]))
        result["inherit"] = inherit(brain, decode_weights(weights)) if weights else {}
        budget = Budget(steps=job.get("steps"), seconds=job.get("seconds"))
        res = train(brain, task, budget, graph.hparams, seed=int(job["seed"]), on_step=on_step)
        result.update(
            status="diverged" if res.diverged else "done",
            error=res.reason,
            val=res.val,
            test=res.test,
            steps=res.steps,
            train_seconds=res.seconds,
            curve=res.curve,
            params=brain.param_count(),
            flops=brain.flops(time=16),
            latency_ms=measure_latency(brain, task),
        )
        out = b"" if res.diverged else encode_weights(brain.weights())
    except (OpenBrainsError, RuntimeError, ValueError) as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
        result["trace"] = traceback.format_exc(limit=4)
        out = b""
    result["wall_seconds"] = time.perf_counter() - t0
    return result, out
