"""Dataset tasks (pairs and a loss): train a candidate for its budget and score it, or K
siblings at once — one topology with their own learning rates and seeds, trained together
under vmap when that measures faster (engine.train.batched), else one after another."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch

from openbrains.engine.graph import Graph
from openbrains.engine.jobs import Birth, JobResult, JobSpec, Outcome, Sibling
from openbrains.engine.runners.base import Coordinator, OnStep
from openbrains.engine.runners.common import candidate, guarded, measure_latency
from openbrains.engine.train import genes
from openbrains.engine.train.trainer import Budget, TrainResult, train
from openbrains.engine.weights import decode_weights, encode_weights


def base_steps(task: Any) -> int:
    """Rung-0 budget: about 20 epochs of a small data set, 100 to 400 steps.

    Ten epochs (224 steps on digits) was too short for conv nets to show their lead over
    MLPs and too short for promotions to reach long budgets within a minute; 400 lifted
    digits' 60 s champion from 0.960 to 0.968–0.977 test (docs/benchmarks.md).
    """
    return int(max(100, min(400, 20 * len(task.train) // 32)))


def refit_view(task: Any) -> Any:
    """``task`` with its validation examples added to its training ones (engine.refits).
    A distilling brain teacher stays: it answers for the refit's training examples as
    for any others (its table of answers follows the training split it is given)."""
    return replace(task, train=task.train.append(task.val))


def _outcome(res: TrainResult, brain: Any, params: int, flops: int, latency: float) -> Outcome:
    return Outcome(
        status="diverged" if res.diverged else "done",
        error=res.reason,
        val=res.val,
        test=res.test,
        steps=res.steps,
        train_seconds=res.seconds,
        curve=[list(p) for p in res.curve],
        params=params,
        flops=flops,
        latency_ms=latency,
        weights=b"" if res.diverged else encode_weights(brain.weights()),
    )


class DatasetRunner:
    name = "dataset"

    def base_steps(self, task: Any) -> int:
        return base_steps(task)

    # ----- coordinator side -------------------------------------------------------------
    def prepare(self, spec: JobSpec, birth: Birth, run: Coordinator) -> JobSpec:
        """Children of mutation and crossover sometimes become a learning-rate sweep of
        siblings; every job carries the time cap once the run knows its pace."""
        settings = run.settings
        if (
            not spec.keep  # a continued brain trains with its old tasks: one at a time
            and birth.origin in ("mutation", "crossover")
            and run.rng.random() < settings.sibling_rate
        ):
            spec = spec.with_(siblings=self._siblings(birth.graph, run))
        cap = run.time_cap(spec.steps)
        if cap is not None:
            spec = spec.with_(seconds=cap * spec.candidates)
        return spec

    def _siblings(self, graph: Graph, run: Coordinator) -> tuple[Sibling, ...]:
        """A child trained K times with its own learning rates and seeds: a learning-rate
        sweep that the worker trains in one vmapped program when that is faster."""
        from openbrains.engine.train.batched import batchable

        if run.settings.siblings < 2 or not batchable(graph):
            return ()
        lr = genes.gene("lr")
        base = float(graph.hparams.get("lr", lr.param.default))
        k = run.settings.siblings
        lrs = [base] + [lr.evolves.perturb(base, run.rng, 0.7) for _ in range(k - 1)]
        return tuple(Sibling(run.rng.getrandbits(31), {"lr": x}) for x in lrs)

    def absorb(
        self, spec: JobSpec, result: JobResult, outcome: Outcome, run: Coordinator
    ) -> Outcome:
        """Trained while recordings arrived: score it on the validation data the living are
        scored on now, or its number would not compare with theirs."""
        if not outcome.done or result.data_version == run.data_version:
            return outcome
        fresh = run.validate(spec.graph, outcome.weights)
        if fresh is not None:
            outcome.val = fresh
        return outcome

    # ----- worker side ------------------------------------------------------------------
    def train(self, spec: JobSpec, task: Any, on_step: OnStep | None = None) -> JobResult:
        if spec.refit:
            return guarded(spec, task, lambda: self._one(spec, refit_view(task), on_step))
        if spec.keep:
            return guarded(spec, task, lambda: self._continued(spec, task, on_step))
        if spec.siblings:
            return guarded(spec, task, lambda: self._siblings_work(spec, task, on_step))
        return guarded(spec, task, lambda: self._one(spec, task, on_step))

    def _continued(self, spec: JobSpec, task: Any, on_step: OnStep | None) -> JobResult:
        """A brain continued from a shared one: the new task trains through its view, the
        old tasks are kept as ``spec.keep`` says, and every task is measured."""
        from openbrains.engine.continual.train import OldTask, train_continued

        graph = Graph.from_json(spec.graph)
        olds = [OldTask(name) for name in graph.tasks if name != task.name]
        done = train_continued(
            graph,
            decode_weights(spec.weights) if spec.weights else {},
            task,
            olds,
            decode_weights(spec.probes) if spec.probes else {},
            spec.keep,
            Budget(steps=spec.steps, seconds=spec.seconds),
            spec.seed,
            on_step=on_step,
        )
        brain = done.brains.brains[task.name]
        params = sum(p.numel() for p in done.brains.parameters())
        out = _outcome(done.result, brain, params, brain.flops(time=16), 0.0)
        out.latency_ms = measure_latency(brain, task)
        if not done.result.diverged:
            out.weights = encode_weights(done.weights)
        out.details["tasks"] = {k: v for k, v in done.tasks.items() if k != task.name}
        return JobResult(spec.job, [out])

    def _one(self, spec: JobSpec, task: Any, on_step: OnStep | None) -> JobResult:
        graph = Graph.from_json(spec.graph)
        brain, inherited = candidate(spec, graph)
        budget = Budget(steps=spec.steps, seconds=spec.seconds)
        res = train(brain, task, budget, graph.hparams, seed=spec.seed, on_step=on_step)
        out = _outcome(
            res, brain, brain.param_count(), brain.flops(time=16), measure_latency(brain, task)
        )
        out.details["inherit"] = inherited
        return JobResult(spec.job, [out])

    def _siblings_work(self, spec: JobSpec, task: Any, on_step: OnStep | None) -> JobResult:
        from openbrains.engine.train.batched import should_batch, train_siblings

        graphs = [spec.sibling_graph(i) for i in range(len(spec.siblings))]
        seeds = [s.seed for s in spec.siblings]
        brains = [candidate(spec, g, sd)[0] for g, sd in zip(graphs, seeds)]
        budget = Budget(steps=spec.steps, seconds=spec.seconds)
        hparams = [g.hparams for g in graphs]
        # soft targets (distillation) batch too: their loss is computed on the stacked
        # outputs (engine.train.batched.stacked_distill_loss), grouped by α, T and inputs
        batched = should_batch(graphs[0], len(graphs), task, hparams[0])
        if batched:
            starts = [b.weights() for b in brains]
            outcomes = train_siblings(
                graphs[0], starts, hparams, task, budget, seeds, on_step=on_step
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
        with torch.no_grad():
            out = [_outcome(r, b, params, flops, latency) for b, r in zip(brains, results)]
        return JobResult(spec.job, out, batched=batched)
