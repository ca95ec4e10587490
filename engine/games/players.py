"""Players: fixed references (the absolute yardstick of DESIGN §3.7) and brains.

A player is anything with a ``name`` and ``act(game, state, rng) -> action``. Randomness
comes only from the ``rng`` the arena passes, so a match is reproducible from its seed.
References: ``RandomPlayer``, ``OneStepPlayer`` (wins if it can, never allows a win in
one), ``MinimaxPlayer`` (alpha-beta; exact at full depth, heuristic at limited depth) and
``MCTSPlayer`` (search with flat priors). ``BrainPlayer`` is a candidate: the greedy
policy of its brain, or MCTS guided by it.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from openbrains.engine.compile import Brain
from openbrains.engine.games.mcts import (
    MCTS,
    Evaluator,
    rollout_evaluator,
    uniform_evaluator,
    visit_policy,
)
from openbrains.engine.tasks.game import POLICY, VALUE, Game, GameError, State, state_key


@runtime_checkable
class Player(Protocol):
    name: str

    def act(self, game: Game, state: State, rng: np.random.Generator) -> int: ...


def _legal_actions(game: Game, state: State) -> np.ndarray:
    return np.flatnonzero(game.legal(state))


class RandomPlayer:
    """A uniformly random legal move: rating 0 by convention (the anchor)."""

    name = "random"

    def act(self, game: Game, state: State, rng: np.random.Generator) -> int:
        return int(rng.choice(_legal_actions(game, state)))


class OneStepPlayer:
    """Wins at once when it can; otherwise plays a random move after which the opponent
    cannot win at once (which blocks a single threat); otherwise any random move."""

    name = "onestep"

    def act(self, game: Game, state: State, rng: np.random.Generator) -> int:
        me = game.current_player(state)
        moves = _legal_actions(game, state)
        safe = []
        for a in moves:
            nxt = game.play(state, int(a))
            result = game.outcome(nxt)
            if result is not None and result == me:
                return int(a)
            if result is None and any(
                game.outcome(game.play(nxt, int(b))) == -me for b in _legal_actions(game, nxt)
            ):
                continue
            safe.append(int(a))
        return int(rng.choice(safe if safe else moves))


EXACT, LOWER, UPPER = 0, 1, 2
FULL_DEPTH = 10**6


class MinimaxPlayer:
    """Negamax with alpha-beta pruning and a transposition table.

    ``depth=None`` searches to the end (exact: tic-tac-toe is solved in well under a
    second and memoised for later calls). At a limited depth the leaves are scored by the
    game's ``heuristic(state)`` (player to move's view, inside (-1, 1)) or 0 without one.
    Values are discounted by ``gamma`` per ply, so a quicker win (and a slower loss)
    scores higher and transposition entries stay valid from any root. Among equally good
    moves it picks at random, so two minimax players do not replay one game forever.
    """

    def __init__(
        self,
        depth: int | None = None,
        memo: bool = True,
        gamma: float = 0.99,
        max_table: int = 2_000_000,
        name: str | None = None,
    ) -> None:
        self.depth = depth
        self.memo = memo
        self.gamma = gamma
        self.max_table = max_table
        self.name = name or ("minimax" if depth is None else f"minimax:{depth}")
        self.table: dict[Hashable, tuple[int, float, int]] = {}
        self.nodes = 0

    def act(self, game: Game, state: State, rng: np.random.Generator) -> int:
        values = self.action_values(game, state)
        best = max(values.values())
        ties = [a for a, v in values.items() if v >= best - 1e-9]
        return int(rng.choice(ties)) if len(ties) > 1 else ties[0]

    def action_values(self, game: Game, state: State) -> dict[int, float]:
        """Each legal move's value for the mover; moves that are clearly worse than the
        best are only bounded from above (alpha-beta does not compute them exactly)."""
        if self.memo and len(self.table) > self.max_table:
            self.table.clear()
        depth = FULL_DEPTH if self.depth is None else max(1, self.depth)
        best = -math.inf
        values: dict[int, float] = {}
        for a in _ordered(game, state):
            child = game.play(state, a)
            alpha = best - 1e-9
            v = -self.gamma * self._negamax(game, child, depth - 1, -math.inf, -alpha / self.gamma)
            values[a] = v
            best = max(best, v)
        return values

    def _negamax(self, game: Game, state: State, depth: int, alpha: float, beta: float) -> float:
        self.nodes += 1
        result = game.outcome(state)
        if result is not None:
            return float(result * game.current_player(state))
        if depth <= 0:
            h = getattr(game, "heuristic", None)
            return float(h(state)) if h is not None else 0.0
        key = state_key(game, state) if self.memo else None
        alpha0 = alpha
        if key is not None:
            hit = self.table.get(key)
            if hit is not None and hit[0] >= depth:
                _, v, flag = hit
                if flag == EXACT:
                    return v
                if flag == LOWER:
                    alpha = max(alpha, v)
                elif flag == UPPER:
                    beta = min(beta, v)
                if alpha >= beta:
                    return v
        g = self.gamma
        best = -math.inf
        for a in _ordered(game, state):
            v = -g * self._negamax(game, game.play(state, a), depth - 1, -beta / g, -alpha / g)
            if v > best:
                best = v
            if best > alpha:
                alpha = best
            if alpha >= beta:
                break
        if key is not None:
            flag = UPPER if best <= alpha0 else LOWER if best >= beta else EXACT
            self.table[key] = (depth, best, flag)
        return best


def _ordered(game: Game, state: State) -> list[int]:
    order = getattr(game, "ordering", None)
    if order is not None:
        return list(order(state))
    return _legal_actions(game, state).tolist()


class MCTSPlayer:
    """The most visited move of a search with any evaluator (flat priors by default:
    a reference that gets stronger with ``sims`` and needs no training)."""

    def __init__(
        self,
        game: Game,
        sims: int = 100,
        evaluator: Evaluator | None = None,
        c_puct: float = 1.5,
        name: str | None = None,
    ) -> None:
        self.mcts = MCTS(game, evaluator or uniform_evaluator(game), sims=sims, c_puct=c_puct)
        self.name = name or f"mcts:{sims}"

    def act(self, game: Game, state: State, rng: np.random.Generator) -> int:
        root = self.mcts.search(state, rng)
        return int(np.argmax(visit_policy(root, 0.0, rng)))


# ----- brains --------------------------------------------------------------------------------


def encode_batch(game: Game, states: Sequence[State]) -> torch.Tensor:
    """``[N, T, C]`` float32 tensor of the states, each from its mover's view."""
    return torch.from_numpy(np.stack([game.encode(s) for s in states]).astype(np.float32))


def policy_value(brain: Brain, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The brain's policy logits ``[N, A]`` and raw value ``[N]`` (before tanh)."""
    out = brain(x)
    outs = out if isinstance(out, tuple) else (out,)
    names = brain.output_names
    if POLICY not in names or VALUE not in names:
        raise GameError(
            f"a game brain needs outputs {POLICY!r} and {VALUE!r}; this one has {names} "
            "(build it with engine.tasks.game.game_io)"
        )
    return outs[names.index(POLICY)][:, -1, :], outs[names.index(VALUE)][:, -1, 0]


class BrainEvaluator:
    """A brain as an MCTS evaluator: masked softmax of its policy, tanh of its value.

    Runs the brain in eval mode without gradients, ``batch_size`` states per call, and
    remembers answers by state (a search revisits positions across games all the time).
    Call ``clear()`` after the brain's weights change.
    """

    def __init__(
        self, brain: Brain, game: Game, batch_size: int = 512, cache_size: int = 200_000
    ) -> None:
        self.brain = brain
        self.game = game
        self.batch_size = batch_size
        self.cache_size = cache_size
        self.cache: dict[Hashable, tuple[np.ndarray, float]] = {}
        self.forwards = 0

    def clear(self) -> None:
        self.cache.clear()

    def __call__(self, states: Sequence[State]) -> tuple[np.ndarray, np.ndarray]:
        n, a = len(states), self.game.action_size
        priors = np.zeros((n, a), dtype=np.float64)
        values = np.zeros(n, dtype=np.float64)
        todo: list[int] = []
        keys = [state_key(self.game, s) for s in states] if self.cache_size else [None] * n
        for i, k in enumerate(keys):
            hit = self.cache.get(k) if k is not None else None
            if hit is None:
                todo.append(i)
            else:
                priors[i], values[i] = hit
        if todo:
            if len(self.cache) + len(todo) > self.cache_size:
                self.cache.clear()
            was_training = self.brain.training
            self.brain.eval()
            try:
                with torch.inference_mode():
                    for start in range(0, len(todo), self.batch_size):
                        part = todo[start : start + self.batch_size]
                        x = encode_batch(self.game, [states[i] for i in part])
                        logits, v = policy_value(self.brain, x)
                        self.forwards += 1
                        p, v = self._finish(logits, v, [states[i] for i in part])
                        for j, i in enumerate(part):
                            priors[i], values[i] = p[j], v[j]
                            if keys[i] is not None:
                                self.cache[keys[i]] = (p[j], float(v[j]))
            finally:
                self.brain.train(was_training)
        return priors, values

    def _finish(
        self, logits: torch.Tensor, v: torch.Tensor, states: Sequence[State]
    ) -> tuple[np.ndarray, np.ndarray]:
        legal = np.stack([self.game.legal(s) for s in states])
        lg = np.nan_to_num(logits.double().numpy(), nan=0.0, posinf=50.0, neginf=-50.0)
        lg = np.where(legal, lg, -np.inf)
        top = lg.max(axis=1, keepdims=True)
        p = np.exp(lg - np.where(np.isfinite(top), top, 0.0))
        total = p.sum(axis=1, keepdims=True)
        p = p / np.where(total > 0, total, 1.0)  # a finished position has no legal move
        values = np.tanh(np.nan_to_num(v.double().numpy(), nan=0.0))
        return p, values


class BrainPlayer:
    """A candidate brain at the table: greedy over its masked policy when ``sims == 0``,
    else the most visited move of an MCTS it guides with ``sims`` simulations.

    ``leaves_per_call > 1`` evaluates several leaves per brain call (virtual loss): about
    three times the simulations per second for a small brain, at a slightly less
    sequential search."""

    def __init__(
        self,
        brain: Brain,
        game: Game,
        sims: int = 0,
        c_puct: float = 1.5,
        name: str = "brain",
        leaves_per_call: int = 1,
    ) -> None:
        self.evaluator = BrainEvaluator(brain, game)
        self.sims = int(sims)
        self.mcts = (
            MCTS(game, self.evaluator, sims=sims, c_puct=c_puct, leaves_per_call=leaves_per_call)
            if sims > 0
            else None
        )
        self.name = name

    def act(self, game: Game, state: State, rng: np.random.Generator) -> int:
        if self.mcts is None:
            priors, _ = self.evaluator([state])
            p = priors[0]
            best = np.flatnonzero(p >= p.max() - 1e-12)
            return int(rng.choice(best)) if len(best) > 1 else int(best[0])
        root = self.mcts.search(state, rng)
        return int(np.argmax(visit_policy(root, 0.0, rng)))


REFERENCE_HELP = "random, onestep, minimax, minimax:DEPTH, mcts:SIMS, rollout:SIMS"


def reference_player(spec: str, game: Game, seed: int = 0) -> Any:
    """A fixed reference player from its name (what ``GameTask.references`` lists)."""
    name, _, arg = spec.partition(":")
    try:
        n = int(arg) if arg else None
    except ValueError:
        raise GameError(f"reference player {spec!r}: {arg!r} is not a number") from None
    if name == "random":
        return RandomPlayer()
    if name == "onestep":
        return OneStepPlayer()
    if name == "minimax":
        return MinimaxPlayer(depth=n)
    if name == "mcts":
        return MCTSPlayer(game, sims=n or 100)
    if name == "rollout":
        return MCTSPlayer(
            game, sims=n or 100, evaluator=rollout_evaluator(game, seed), name=f"rollout:{n or 100}"
        )
    raise GameError(f"unknown reference player {spec!r}; expected one of: {REFERENCE_HELP}")
