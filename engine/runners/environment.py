"""Scored single-player environments (the maze, or a user's ``package.module:Class``):
learn by policy gradient with self-imitation on the environment's own score, then be
scored on fixed episodes.

Fitness is the mean score of the candidate's policy (actions sampled, seeded) over
``task.episodes`` validation episodes whose seeds are the same for every candidate; the
test score uses another fixed set of seeds.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import numpy as np
import orjson
import torch

from openbrains.engine.graph import Graph
from openbrains.engine.jobs import Birth, JobResult, JobSpec, Outcome
from openbrains.engine.runners.base import Coordinator, OnStep
from openbrains.engine.runners.common import candidate, forward_latency, guarded
from openbrains.engine.weights import encode_weights

VAL_SEED = 1_000_003
TEST_SEED = 2_000_003
PARALLEL = 32  # episodes played side by side in training (one forward pass per step of all)


@functools.lru_cache(maxsize=4)
def _envs(game: str, options_key: str, n: int) -> list[Any]:
    from openbrains.engine.games.envtrain import env_copies
    from openbrains.engine.tasks.game import make_game

    return env_copies(make_game(game, **orjson.loads(options_key)), n)


def task_envs(task: Any, n: int) -> list[Any]:
    """``n`` copies of the task's environment, made once per process."""
    key = orjson.dumps(task.options, option=orjson.OPT_SORT_KEYS).decode()
    return _envs(task.game, key, n)


class EnvironmentRunner:
    name = "environment"

    def base_steps(self, task: Any) -> int:
        return int(task.train_steps)

    def prepare(self, spec: JobSpec, birth: Birth, run: Coordinator) -> JobSpec:
        return spec  # a candidate plays alone

    def absorb(
        self, spec: JobSpec, result: JobResult, outcome: Outcome, run: Coordinator
    ) -> Outcome:
        return outcome

    def train(self, spec: JobSpec, task: Any, on_step: OnStep | None = None) -> JobResult:
        return guarded(spec, task, lambda: self._work(spec, task, on_step))

    def _work(self, spec: JobSpec, task: Any, on_step: OnStep | None) -> JobResult:
        from openbrains.engine.games.envtrain import evaluate_batched, train_policy_gradient

        t0 = time.perf_counter()
        graph = Graph.from_json(spec.graph)
        brain, inherited = candidate(spec, graph)
        steps = int(spec.steps or task.train_steps)
        stats = train_policy_gradient(
            brain,
            task_envs(task, PARALLEL),
            steps,
            lr=float(graph.hparams.get("lr", task.lr)),
            seed=spec.seed,
            on_step=on_step,
        )
        brain.eval()
        evals = task_envs(task, max(1, task.episodes))
        val = evaluate_batched(evals, brain, task.episodes, VAL_SEED, greedy=False)
        test = evaluate_batched(evals, brain, task.episodes, TEST_SEED, greedy=False)
        obs = torch.from_numpy(evals[0].reset(VAL_SEED)[None].astype(np.float32))
        out = Outcome(
            status="diverged" if stats.diverged else "done",
            error=stats.reason,
            val={"score": val.mean},
            test={"score": test.mean},
            steps=stats.iterations,
            train_seconds=time.perf_counter() - t0,
            curve=stats.curve[:: max(1, len(stats.curve) // 50)],
            params=brain.param_count(),
            latency_ms=forward_latency(brain, obs),
            weights=b"" if stats.diverged else encode_weights(brain.weights()),
            details={
                "inherit": inherited,
                "episodes": stats.episodes,
                "train_score": stats.mean_score,
            },
        )
        return JobResult(spec.job, [out])
