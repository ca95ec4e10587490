"""Two-player games (DESIGN §3.7): a candidate learns by self-play with PUCT MCTS guided by
its own policy+value heads (and a replay buffer of recent candidates' games), then meets
fixed reference players — whose ratings anchor the Elo scale — and members of the
population in an arena. Its Elo is its fitness; the members it played move too."""

from __future__ import annotations

import functools
import time
from typing import Any

import orjson

from openbrains.engine.compile import compile_graph
from openbrains.engine.graph import Graph
from openbrains.engine.jobs import Birth, JobResult, JobSpec, MatchTally, Opponent, Outcome
from openbrains.engine.runners.base import Coordinator, OnStep
from openbrains.engine.runners.common import candidate, forward_latency, guarded
from openbrains.engine.weights import decode_weights, encode_weights

REPLAY_CAPACITY = 30_000
MEMBER_K = 16  # Elo step of a member moved by a newcomer's games
TEST_SEED_OFFSET = 7919  # the reporting arena's games: the job's seed plus this


def _options_key(task: Any) -> str:
    return orjson.dumps(task.options, option=orjson.OPT_SORT_KEYS).decode()


@functools.lru_cache(maxsize=8)
def reference_ratings(game_name: str, options_key: str, names: tuple[str, ...]) -> dict[str, float]:
    """The references rated once per process from a fixed-seed round robin (deterministic,
    so every worker and every resume agrees on the scale)."""
    from openbrains.engine.games.arena import calibrate_references
    from openbrains.engine.tasks.game import make_game

    game = make_game(game_name, **orjson.loads(options_key))
    return calibrate_references(game, names, n_games=40, seed=12345)


def task_references(task: Any) -> dict[str, float]:
    return reference_ratings(task.game, _options_key(task), tuple(task.references))


@functools.lru_cache(maxsize=4)
def _replay(game_name: str, options_key: str) -> Any:
    from openbrains.engine.games.selfplay import ReplayBuffer
    from openbrains.engine.tasks.game import make_game

    return ReplayBuffer.for_game(make_game(game_name, **orjson.loads(options_key)), REPLAY_CAPACITY)


def task_replay(task: Any) -> Any:
    """This worker's buffer of recent self-play examples, from every candidate it
    trained: a new candidate learns from its elders' games as well as its own (as
    AlphaZero learns from a window of recent games), at no extra self-play cost. It lives
    as long as the worker process and is only a cache: a resumed run starts it empty."""
    return _replay(task.game, _options_key(task))


def rate(
    player: Any, task: Any, opponents: dict[str, tuple[Any, float]], seed: int, n_games: int
) -> tuple[float, list[tuple[str, str, Any]]]:
    """The candidate's Elo with references and opponents held at their ratings."""
    from openbrains.engine.games.arena import fit_ratings, play_match
    from openbrains.engine.games.players import reference_player

    game = task.make()
    results = []
    anchors = dict(task_references(task))
    players = {name: reference_player(name, game, seed) for name in task.references}
    players.update({name: p for name, (p, _r) in opponents.items()})
    anchors.update({name: r for name, (_p, r) in opponents.items()})
    for i, (name, other) in enumerate(players.items()):
        res = play_match(
            player, other, game, n_games, seed=seed * 1009 + i, opening_plies=task.arena_openings
        )
        results.append(("candidate", name, res))
    return fit_ratings(results, anchors=anchors)["candidate"], results


class GameRunner:
    name = "game"

    def base_steps(self, task: Any) -> int:
        return int(task.train_steps)

    # ----- coordinator side -------------------------------------------------------------
    def prepare(self, spec: JobSpec, birth: Birth, run: Coordinator) -> JobSpec:
        """A game candidate also meets the champion and one random member in the arena."""
        rated = [m for m in run.members if m.record.val_metric is not None]
        picks = []
        if rated:
            picks.append(max(rated, key=lambda m: m.record.val_metric))
            others = [m for m in rated if m is not picks[0]]
            if others:
                picks.append(run.rng.choice(others))
        opponents = tuple(
            Opponent(m.record.id, m.record.graph_json, float(m.record.val_metric), m.weights)
            for m in picks
        )
        return spec.with_(opponents=opponents)

    def absorb(
        self, spec: JobSpec, result: JobResult, outcome: Outcome, run: Coordinator
    ) -> Outcome:
        """Members the candidate played move on the Elo scale too (draws count half)."""
        from openbrains.engine.games.arena import update

        rating = outcome.val.get("elo")
        if not outcome.done or rating is None:
            return outcome
        if outcome.references and run.archive.get_meta("references") is None:
            run.archive.set_meta("references", outcome.references)
        for name, tally in outcome.matches.items():
            if not name.startswith("#") or tally.games == 0:
                continue
            member = next((m for m in run.members if m.record.id == int(name[1:])), None)
            if member is None or member.record.val_metric is None:
                continue
            member_points = tally.losses + 0.5 * tally.draws  # the member's side of the games
            new, _ = update(
                member.record.val_metric, rating, member_points, k=MEMBER_K, games=tally.games
            )
            run.moved(member, new)
        return outcome

    # ----- worker side ------------------------------------------------------------------
    def train(self, spec: JobSpec, task: Any, on_step: OnStep | None = None) -> JobResult:
        return guarded(spec, task, lambda: self._work(spec, task, on_step))

    def _work(self, spec: JobSpec, task: Any, on_step: OnStep | None) -> JobResult:
        from openbrains.engine.games.players import BrainPlayer, encode_batch
        from openbrains.engine.games.selfplay import selfplay_train

        t0 = time.perf_counter()
        game = task.make()
        graph = Graph.from_json(spec.graph)
        brain, inherited = candidate(spec, graph)
        steps = int(spec.steps or task.train_steps)
        games = max(8, int(round(task.selfplay_games * steps / max(1, task.train_steps))))
        stats = selfplay_train(
            brain,
            game,
            budget_games=games,
            sims=task.sims,
            seed=spec.seed,
            on_step=on_step,
            train_steps=steps,
            lr=float(graph.hparams.get("lr", task.lr)),
            buffer=task_replay(task),
            shared_ratio=float(task.replay_ratio),
            full_share=float(task.full_share),
            fast_sims=int(task.fast_sims),
        )
        brain.eval()
        opponents = {}
        for opp in spec.opponents:
            ob = compile_graph(Graph.from_json(opp.graph))
            ob.load_weights(decode_weights(opp.weights), strict=False)
            player = BrainPlayer(ob.eval(), game, sims=task.arena_sims)
            opponents[f"#{opp.id}"] = (player, opp.rating)
        me = BrainPlayer(brain, game, sims=task.arena_sims)
        val, matches = rate(me, task, opponents, spec.seed, task.arena_games)
        # reporting only: the references alone, on other games
        test, _ = rate(me, task, {}, spec.seed + TEST_SEED_OFFSET, task.arena_games)
        out = Outcome(
            status="diverged" if stats.diverged else "done",
            val={"elo": val},
            test={"elo": test},
            steps=steps,
            train_seconds=time.perf_counter() - t0,
            curve=[[i + 1, t.policy_loss + t.value_loss] for i, t in enumerate(stats.train)],
            params=brain.param_count(),
            latency_ms=forward_latency(brain, encode_batch(game, [game.initial()])),
            weights=b"" if stats.diverged else encode_weights(brain.weights()),
            matches={m[1]: MatchTally(m[2].wins, m[2].draws, m[2].losses) for m in matches},
            references=task_references(task),
            details={"inherit": inherited, "selfplay": stats.summary(), "games": games},
        )
        return JobResult(spec.job, [out])
