"""One candidate of a scored-environment task (the maze, or a user's
``package.module:Class``): learn by policy gradient with self-imitation on the
environment's own score, then be scored on fixed episodes.

Fitness is the mean score of the candidate's policy (actions sampled, seeded) over
``task.episodes`` validation episodes whose seeds are the same for every candidate; the
test score uses another fixed set of seeds.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from openbrains.engine.compile import compile_graph
from openbrains.engine.games.envtrain import env_copies, evaluate_batched, train_policy_gradient
from openbrains.engine.graph import Graph
from openbrains.engine.tasks.game import GameTask, ScoredEnv
from openbrains.engine.train.job import (
    decode_weights,
    encode_weights,
    forward_latency,
    guarded,
    inherit,
)

VAL_SEED = 1_000_003
TEST_SEED = 2_000_003
PARALLEL = 32  # episodes played side by side in training (one forward pass per step of all)


@functools.lru_cache(maxsize=4)
def _envs(game: str, options_key: str, n: int) -> list[ScoredEnv]:
    import orjson
    from openbrains.engine.tasks.game import make_game

    return env_copies(make_game(game, **orjson.loads(options_key)), n)


def task_envs(task: GameTask, n: int) -> list[ScoredEnv]:
    """``n`` copies of the task's environment, made once per process."""
    import orjson

    key = orjson.dumps(task.options, option=orjson.OPT_SORT_KEYS).decode()
    return _envs(task.game, key, n)


def own_weights(packed: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The candidate's own tensors (the run packs them as ``self/…`` for game tasks)."""
    if any(k.startswith("self/") for k in packed):
        return {k[5:]: v for k, v in packed.items() if k.startswith("self/")}
    return packed


def run_env_job(
    job: dict[str, Any], weights: bytes, task: GameTask, on_step: Callable[[], None] | None = None
) -> tuple[dict[str, Any], bytes]:
    t0 = time.perf_counter()
    result: dict[str, Any] = {"job": job["job"], "status": "failed"}

    def work() -> bytes:
        graph = Graph.from_json(job["graph"])
        seed = int(job["seed"])
        brain = compile_graph(graph, seed=seed)
        own = own_weights(decode_weights(weights)) if weights else {}
        result["inherit"] = inherit(brain, own) if own else {}
        steps = int(job.get("steps") or task.train_steps)
        stats = train_policy_gradient(
            brain,
            task_envs(task, PARALLEL),
            steps,
            lr=float(graph.hparams.get("lr", task.lr)),
            seed=seed,
            on_step=on_step,
        )
        brain.eval()
        evals = task_envs(task, max(1, task.episodes))
        val = evaluate_batched(evals, brain, task.episodes, VAL_SEED, greedy=False)
        test = evaluate_batched(evals, brain, task.episodes, TEST_SEED, greedy=False)
        obs = torch.from_numpy(evals[0].reset(VAL_SEED)[None].astype(np.float32))
        curve = stats.curve[:: max(1, len(stats.curve) // 50)]
        result.update(
            status="diverged" if stats.diverged else "done",
            error=stats.reason,
            val={"score": val.mean},
            test={"score": test.mean},
            steps=stats.iterations,
            train_seconds=time.perf_counter() - t0,
            curve=curve,
            episodes=stats.episodes,
            train_score=stats.mean_score,
            params=brain.param_count(),
            flops=0,
            latency_ms=forward_latency(brain, obs),
        )
        return b"" if stats.diverged else encode_weights(brain.weights())

    return guarded(result, work)
