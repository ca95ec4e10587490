"""One candidate of a game task (DESIGN §3.7): self-play with PUCT MCTS guided by its own
policy+value heads, training on its games (and a replay buffer shared through its
parents' weights lineage), then an arena: games against fixed reference players — whose
ratings anchor the Elo scale — and against members of the population."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import torch
from openbrains.engine.compile import compile_graph
from openbrains.engine.games.arena import fit_ratings, play_match
from openbrains.engine.games.players import BrainPlayer, encode_batch, reference_player
from openbrains.engine.games.selfplay import ReplayBuffer, selfplay_train
from openbrains.engine.graph import Graph
from openbrains.engine.tasks.game import GameTask
from openbrains.engine.train.job import (
    decode_weights,
    encode_weights,
    forward_latency,
    guarded,
    inherit,
)


@functools.lru_cache(maxsize=8)
def reference_ratings(game_name: str, options_key: str, names: tuple[str, ...]) -> dict[str, float]:
    """The references rated once per process from a fixed-seed round robin (deterministic,
    so every worker and every resume agrees on the scale)."""
    import orjson
    from openbrains.engine.games.arena import calibrate_references
    from openbrains.engine.tasks.game import make_game

    game = make_game(game_name, **orjson.loads(options_key))
    return calibrate_references(game, names, n_games=40, seed=12345)


def task_references(task: GameTask) -> dict[str, float]:
    import orjson

    key = orjson.dumps(task.options, option=orjson.OPT_SORT_KEYS).decode()
    return reference_ratings(task.game, key, tuple(task.references))


REPLAY_CAPACITY = 30_000


@functools.lru_cache(maxsize=4)
def _replay(game_name: str, options_key: str) -> ReplayBuffer:
    import orjson
    from openbrains.engine.tasks.game import make_game

    return ReplayBuffer.for_game(make_game(game_name, **orjson.loads(options_key)), REPLAY_CAPACITY)


def task_replay(task: GameTask) -> ReplayBuffer:
    """This worker's buffer of recent self-play examples, from every candidate it
    trained: a new candidate learns from its elders' games as well as its own (as
    AlphaZero learns from a window of recent games), at no extra self-play cost. It lives
    as long as the worker process and is only a cache: a resumed run starts it empty."""
    import orjson

    key = orjson.dumps(task.options, option=orjson.OPT_SORT_KEYS).decode()
    return _replay(task.game, key)


def split_packed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    p = prefix + "/"
    return {k[len(p) :]: v for k, v in tensors.items() if k.startswith(p)}


def rate(
    player: Any, task: GameTask, opponents: dict[str, tuple[Any, float]], seed: int, n_games: int
) -> tuple[float, list[tuple[str, str, Any]]]:
    """The candidate's Elo with references and opponents held at their ratings."""
    game = task.make()
    refs = task_references(task)
    results = []
    anchors = dict(refs)
    players = {name: reference_player(name, game, seed) for name in task.references}
    players.update({name: p for name, (p, _r) in opponents.items()})
    anchors.update({name: r for name, (_p, r) in opponents.items()})
    for i, (name, other) in enumerate(players.items()):
        res = play_match(player, other, game, n_games, seed=seed * 1009 + i)
        results.append(("candidate", name, res))
    return fit_ratings(results, anchors=anchors)["candidate"], results


def run_game_job(
    job: dict[str, Any], weights: bytes, task: GameTask, on_step: Callable[[], None] | None = None
) -> tuple[dict[str, Any], bytes]:
    if not task.two_player:  # a single-player scored environment
        from openbrains.engine.train.env_job import run_env_job

        return run_env_job(job, weights, task, on_step)
    t0 = time.perf_counter()
    result: dict[str, Any] = {"job": job["job"], "status": "failed"}

    def work() -> bytes:
        game = task.make()
        graph = Graph.from_json(job["graph"])
        seed = int(job["seed"])
        brain = compile_graph(graph, seed=seed)
        packed = decode_weights(weights) if weights else {}
        own = split_packed(packed, "self")
        result["inherit"] = inherit(brain, own) if own else {}
        steps = int(job.get("steps") or task.train_steps)
        games = max(8, int(round(task.selfplay_games * steps / max(1, task.train_steps))))
        stats = selfplay_train(
            brain,
            game,
            budget_games=games,
            sims=task.sims,
            seed=seed,
            on_step=on_step,
            train_steps=steps,
            lr=float(graph.hparams.get("lr", task.lr)),
            buffer=task_replay(task),
        )
        brain.eval()
        opponents = {}
        for i, opp in enumerate(job.get("opponents") or []):
            ob = compile_graph(Graph.from_json(opp["graph"]))
            ob.load_weights(split_packed(packed, f"opp{i}"), strict=False)
            opponents[f"#{opp['id']}"] = (
                BrainPlayer(ob.eval(), game, sims=task.arena_sims),
                float(opp["rating"]),
            )
        me = BrainPlayer(brain, game, sims=task.arena_sims)
        val, matches = rate(me, task, opponents, seed, task.arena_games)
        test, _ = rate(
            me, task, {}, seed + 7919, task.arena_games
        )  # reporting only: references alone
        diverged = stats.diverged
        refs = {
            m[1]: {"wins": m[2].wins, "draws": m[2].draws, "losses": m[2].losses} for m in matches
        }
        example = encode_batch(game, [game.initial()])
        result.update(
            status="diverged" if diverged else "done",
            error="",
            val={"elo": val},
            test={"elo": test},
            steps=steps,
            train_seconds=time.perf_counter() - t0,
            curve=[[i + 1, t.policy_loss + t.value_loss] for i, t in enumerate(stats.train)],
            selfplay=stats.summary(),
            params=brain.param_count(),
            flops=0,
            latency_ms=forward_latency(brain, example),
            matches=refs,
            references=task_references(task),
            games=games,
        )
        return b"" if diverged else encode_weights(brain.weights())

    return guarded(result, work)
