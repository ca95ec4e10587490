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
from openbrains.engine.compile import Brain, compile_graph
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.graph import Graph
from openbrains.engine.tasks.base import DatasetTask
from openbrains.engine.train.trainer import Budget, train
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save


def encode_weights(weights: dict[str, torch.Tensor]) -> bytes:
    return st_save({k: v.detach().contiguous() for k, v in sorted(weights.items())})


def decode_weights(data: bytes) -> dict[str, torch.Tensor]:
    """Weights we wrote ourselves (archive, worker pipes): safetensors, never pickle."""
    return st_load(data) if data else {}


def inherit(brain: Brain, weights: dict[str, torch.Tensor]) -> dict[str, int]:
    """Copy every inherited tensor that fits; the rest of the brain keeps its fresh init."""
    from openbrains.engine.evolve.inherit import inherit_weights

    report = inherit_weights(brain, weights)
    return {
        "copied": len(report.copied),
        "partial": len(report.partial),
        "fresh": len(report.fresh),
    }


@torch.no_grad()
def measure_latency(brain: Brain, task: DatasetTask, reps: int = 15) -> float:
    """Median milliseconds of one forward pass on one validation example (batch 1)."""
    example = task.val.take(slice(0, 1))
    return forward_latency(brain, *[example.inputs[n] for n in brain.input_names], reps=reps)


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


def data_info(task: DatasetTask) -> dict[str, int]:
    """Which data a candidate trained on: the recorded-data version and the train size, so
    the archive can show that new recordings reached the workers."""
    from openbrains.engine.recorded import data_version

    return {"version": data_version(task), "train": len(task.train)}


def run_job(
    job: dict[str, Any],
    weights: bytes,
    task: DatasetTask,
    on_step: Callable[[], None] | None = None,
) -> tuple[dict[str, Any], bytes]:
    """Train one candidate (or a sibling group). Never raises for a bad candidate: it comes
    back as failed."""
    if getattr(task, "kind", "") == "game":
        from openbrains.engine.train.game_job import run_game_job

        return run_game_job(job, weights, task, on_step)
    if job.get("siblings"):
        return run_siblings(job, weights, task, on_step)
    result: dict[str, Any] = {"job": job["job"], "status": "failed", "data": data_info(task)}

    def work() -> bytes:
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
        return b"" if res.diverged else encode_weights(brain.weights())

    return guarded(result, work)


def guarded(result: dict[str, Any], work: Callable[[], bytes]) -> tuple[dict[str, Any], bytes]:
    """Run one job's ``work`` (it fills ``result`` and returns the weights). A bad candidate
    comes back failed, with its error and a short trace, instead of raising: the run goes
    on. Any exception counts, since a user's game or environment may raise anything (an
    IndexError from a board): a worker that died of it would print a traceback per job
    and lose the error; the run's failure guard stops a run where every job fails. Every
    result says how long its job took."""
    t0 = time.perf_counter()
    try:
        out = work()
    except Exception as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
        result["trace"] = traceback.format_exc(limit=4)
        out = b""
    result["wall_seconds"] = time.perf_counter() - t0
    return result, out


def sibling_graph(graph_json: str, hparams: dict[str, Any]) -> Graph:
    graph = Graph.from_json(graph_json)
    graph.hparams = {**graph.hparams, **hparams}
    return graph


def run_siblings(
    job: dict[str, Any],
    weights: bytes,
    task: DatasetTask,
    on_step: Callable[[], None] | None = None,
) -> tuple[dict[str, Any], bytes]:
    """K candidates with one topology and their own learning rates and seeds, trained
    together under vmap when that measures faster (engine.train.batched), else in turn.
    Weights come back packed as ``<member>/<key>``."""
    from openbrains.engine.train.batched import should_batch, train_siblings

    t0 = time.perf_counter()
    siblings = job["siblings"]
    result: dict[str, Any] = {
        "job": job["job"],
        "status": "group",
        "members": [],
        "data": data_info(task),
    }
    packed: dict[str, torch.Tensor] = {}
    try:
        inherited = decode_weights(weights) if weights else {}
        graphs = [sibling_graph(job["graph"], s["hparams"]) for s in siblings]
        brains = [compile_graph(g, seed=int(s["seed"])) for g, s in zip(graphs, siblings)]
        for b in brains:
            if inherited:
                inherit(b, inherited)
        budget = Budget(steps=job.get("steps"), seconds=job.get("seconds"))
        hparams = [g.hparams for g in graphs]
        seeds = [int(s["seed"]) for s in siblings]
        # soft targets (distillation) are a loss of their own: those siblings train in turn
        batched = (
            task.train.soft is None
            and getattr(task, "teacher", None) is None
            and should_batch(graphs[0], len(graphs), task, hparams[0])
        )
        if batched:
            outcomes = train_siblings(
                graphs[0],
                [b.weights() for b in brains],
                hparams,
                task,
                budget,
                seeds,
                on_step=on_step,
            )
            for b, (_res, w) in zip(brains, outcomes):
                b.load_weights(w)
            results = [r for r, _w in outcomes]
        else:  # in turn: the job's seconds (for the whole group) are shared out evenly
            each = Budget(
                steps=budget.steps,
                seconds=budget.seconds / len(brains) if budget.seconds else None,
            )
            results = [
                train(b, task, each, h, seed=sd, on_step=on_step)
                for b, h, sd in zip(brains, hparams, seeds)
            ]
        params, flops = brains[0].param_count(), brains[0].flops(time=16)
        latency = measure_latency(brains[0], task)
        for i, (b, res) in enumerate(zip(brains, results)):
            result["members"].append(
                {
                    "status": "diverged" if res.diverged else "done",
                    "error": res.reason,
                    "val": res.val,
                    "test": res.test,
                    "steps": res.steps,
                    "train_seconds": res.seconds,
                    "curve": res.curve,
                    "params": params,
                    "flops": flops,
                    "latency_ms": latency,
                }
            )
            if not res.diverged:
                packed.update({f"{i}/{k}": v for k, v in b.weights().items()})
        result["batched"] = batched
    except (OpenBrainsError, RuntimeError, ValueError) as exc:
        result["members"] = [
            {"status": "failed", "error": f"{type(exc).__name__}: {exc}"} for _ in siblings
        ]
        packed = {}
    result["wall_seconds"] = time.perf_counter() - t0
    return result, encode_weights(packed) if packed else b""


def unpack_members(data: bytes, count: int) -> list[bytes]:
    """Split a sibling group's packed weights back into one safetensors blob per member."""
    tensors = decode_weights(data)
    out = []
    for i in range(count):
        prefix = f"{i}/"
        mine = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        out.append(encode_weights(mine) if mine else b"")
    return out
