"""Self-play: a candidate's brain plays itself through MCTS and learns from the games.

Each move of a self-play game stores ``(encoded state, π, v)``: π is the visit-count
distribution of the search (a better policy than the raw net), v the value target. v is
the exact value when the search proved the position, else z, the final result from the
mover's view (AlphaZero's target), or, with ``value_mix`` > 0, z mixed with q, the
search's own value of the position. z alone blames every move of a game for the one
blunder that decided it; the mean of z and q trained stronger Connect Four nets in
"Lessons from AlphaZero", part 4 (Prasad, Young and Dogra 2018), but in one 30-minute
Connect Four search here it did worse (0.21 against minimax:2, where z gave 0.35–0.38;
docs/decisions.md, session 18), so z stays the default. Symmetries multiply the
examples. The loss is AlphaZero's: cross-entropy of π against the policy logits plus the
squared error of v against ``tanh(value)``. Everything takes plain brains, games and
seeds, so a worker process can call ``selfplay_train`` directly and ship the new examples
back as bytes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from openbrains.engine.compile import Brain
from openbrains.engine.games.mcts import MCTS, Evaluator, sample_action, visit_policy
from openbrains.engine.games.players import BrainEvaluator, policy_value
from openbrains.engine.tasks.game import Game, GameError, check_full_share
from openbrains.engine.train.trainer import descend, make_optimizer

OnStep = Callable[[], None] | None


# ----- examples and the replay buffer -------------------------------------------------------


@dataclass
class Examples:
    """Training examples as arrays: ``states [N, T, C]``, ``policies [N, A]``,
    ``values [N]`` (all float32)."""

    states: np.ndarray
    policies: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return int(self.values.shape[0])

    @classmethod
    def empty(cls, obs_shape: tuple[int, int], action_size: int) -> Examples:
        return cls(
            np.zeros((0, *obs_shape), np.float32),
            np.zeros((0, action_size), np.float32),
            np.zeros(0, np.float32),
        )

    @classmethod
    def concat(cls, parts: list[Examples]) -> Examples:
        parts = [p for p in parts if len(p)] or parts[:1]
        return cls(
            np.concatenate([p.states for p in parts]),
            np.concatenate([p.policies for p in parts]),
            np.concatenate([p.values for p in parts]),
        )

    def take(self, index: np.ndarray | slice) -> Examples:
        return Examples(self.states[index], self.policies[index], self.values[index])


class ReplayBuffer:
    """The most recent ``capacity`` examples in fixed numpy arrays (a ring).

    Candidates of one run share one buffer so a new candidate learns from the games of
    its elders as well as its own. It serialises to safetensors bytes (plain arrays and a
    small JSON header; never pickle, so a buffer from elsewhere cannot run code).
    """

    def __init__(self, capacity: int, obs_shape: tuple[int, int], action_size: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self.obs_shape = (int(obs_shape[0]), int(obs_shape[1]))
        self.action_size = int(action_size)
        self.states = np.zeros((self.capacity, *self.obs_shape), np.float32)
        self.policies = np.zeros((self.capacity, self.action_size), np.float32)
        self.values = np.zeros(self.capacity, np.float32)
        self.count = 0  # examples held
        self.pos = 0  # where the next one goes
        self.added = 0  # examples ever added

    @classmethod
    def for_game(cls, game: Game, capacity: int = 50_000) -> ReplayBuffer:
        spec = game.spec()
        return cls(capacity, (int(spec.time or 1), spec.channels), game.action_size)

    def __len__(self) -> int:
        return self.count

    def add(self, ex: Examples) -> None:
        n = len(ex)
        if n == 0:
            return
        if ex.states.shape[1:] != self.obs_shape or ex.policies.shape[1] != self.action_size:
            raise GameError(
                f"examples of shape {ex.states.shape[1:]} / {ex.policies.shape[1]} actions do "
                f"not fit a buffer of {self.obs_shape} / {self.action_size} actions"
            )
        if n > self.capacity:
            ex = ex.take(slice(n - self.capacity, n))
            n = self.capacity
        idx = (self.pos + np.arange(n)) % self.capacity
        self.states[idx] = ex.states
        self.policies[idx] = ex.policies
        self.values[idx] = ex.values
        self.pos = int((self.pos + n) % self.capacity)
        self.count = min(self.capacity, self.count + n)
        self.added += n

    def examples(self) -> Examples:
        """Everything held, oldest first."""
        if self.count < self.capacity:
            idx = np.arange(self.count)
        else:
            idx = (self.pos + np.arange(self.capacity)) % self.capacity
        return Examples(self.states[idx], self.policies[idx], self.values[idx])

    def sample(self, n: int, rng: np.random.Generator) -> Examples:
        """``n`` examples drawn without replacement (all of them when fewer are held)."""
        n = min(n, self.count)
        if n <= 0:
            return Examples.empty(self.obs_shape, self.action_size)
        idx = rng.choice(self.count, size=n, replace=False)
        return Examples(self.states[idx], self.policies[idx], self.values[idx])

    def to_bytes(self) -> bytes:
        """Held examples, oldest first, as safetensors bytes."""
        from safetensors.numpy import save

        ex = self.examples()
        meta = {
            "format": "openbrains.replay/1",
            "capacity": str(self.capacity),
            "added": str(self.added),
        }
        return save(
            {
                "states": np.ascontiguousarray(ex.states),
                "policies": np.ascontiguousarray(ex.policies),
                "values": np.ascontiguousarray(ex.values),
            },
            metadata=meta,
        )

    @classmethod
    def from_bytes(cls, data: bytes, capacity: int | None = None) -> ReplayBuffer:
        """A buffer from ``to_bytes`` output; anything malformed is a ``GameError``."""
        from safetensors.numpy import load

        try:
            arrays = load(data)
            header = _metadata(data)
        except Exception as e:
            raise GameError(f"replay buffer bytes are not valid safetensors: {e}") from e
        try:
            states, policies, values = arrays["states"], arrays["policies"], arrays["values"]
        except KeyError as e:
            raise GameError(f"replay buffer bytes miss the array {e}") from None
        if (
            states.ndim != 3
            or policies.ndim != 2
            or values.ndim != 1
            or not states.shape[0] == policies.shape[0] == values.shape[0]
        ):
            raise GameError(
                "replay buffer arrays disagree: "
                f"states {states.shape}, policies {policies.shape}, values {values.shape}"
            )
        n = int(values.shape[0])
        try:
            cap = int(capacity or header.get("capacity") or max(1, n))
        except ValueError:
            raise GameError("replay buffer capacity is not a number") from None
        buf = cls(max(cap, 1), states.shape[1:], policies.shape[1])
        buf.add(
            Examples(
                states.astype(np.float32), policies.astype(np.float32), values.astype(np.float32)
            )
        )
        try:
            buf.added = max(buf.added, int(header.get("added") or 0))
        except ValueError:
            pass
        return buf


def _metadata(data: bytes) -> dict[str, str]:
    import orjson

    size = int.from_bytes(data[:8], "little")
    header = orjson.loads(data[8 : 8 + size])
    return dict(header.get("__metadata__") or {})


# ----- self-play games ------------------------------------------------------------------------


@dataclass
class GameStats:
    """What a batch of self-play games did: results from +1's view, lengths, search."""

    games: int = 0
    first_wins: int = 0
    second_wins: int = 0
    draws: int = 0
    moves: int = 0
    simulations: int = 0
    evaluations: int = 0
    seconds: float = 0.0

    @property
    def sims_per_second(self) -> float:
        """Simulations (terminal ones included) per second of self-play, all told."""
        return self.simulations / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Record:
    """One searched position of a self-play game, until the game's result is known."""

    state: object
    policy: np.ndarray  # π, the visit distribution
    mover: int  # +1 or -1
    game: int  # which game of the batch
    searched: float  # q: the root's value from the mover's view (exact when proven)
    proven: bool


def value_target(record: Record, result: int, value_mix: float) -> float:
    """The value a position is trained towards: exact when proven, else z and q mixed."""
    if record.proven:
        return record.searched
    z = float(result * record.mover)
    return (1.0 - value_mix) * z + value_mix * record.searched


def play_selfplay_games(
    game: Game,
    evaluator: Evaluator,
    n_games: int,
    sims: int = 25,
    seed: int = 0,
    c_puct: float = 1.5,
    temp_moves: int | None = None,
    parallel: int = 32,
    augment: bool = True,
    on_step: OnStep = None,
    max_moves: int = 10_000,
    value_mix: float = 0.0,
    full_share: float = 1.0,
    fast_sims: int = 0,
) -> tuple[Examples, GameStats]:
    """``n_games`` games of MCTS self-play, ``parallel`` at a time (their leaves go to the
    evaluator together). Moves are sampled from the visits for the first ``temp_moves``
    moves (default: a third of the action count, at least 2), then the most visited move is
    played; root priors get Dirichlet noise throughout, as in AlphaZero. ``value_mix`` is
    the weight of the search's value q against the result z in the value target (0: z
    alone, as in AlphaZero); a proven position's target is its exact value.

    ``full_share`` < 1 is playout cap randomisation (Wu 2019, KataGo): each move is a full
    search (with noise, kept as examples) with that chance, else a fast one of
    ``fast_sims`` (default a fifth of ``sims``) that is played and not kept, so the same
    simulations give more games and fewer correlated examples from each."""
    if not 0.0 <= value_mix <= 1.0:
        raise ValueError(f"value_mix must be in [0, 1], got {value_mix}")
    rng = np.random.default_rng(seed)
    check_full_share(full_share)
    mcts = MCTS(game, evaluator, sims=sims, c_puct=c_puct)
    fast = max(1, int(fast_sims) or sims // 5)
    if temp_moves is None:  # enough opening variety without spoiling the results
        temp_moves = max(2, game.action_size // 3)
    stats = GameStats()
    start = time.perf_counter()
    records: list[Record] = []
    results: dict[int, int] = {}
    for first in range(0, n_games, max(1, parallel)):
        ids = list(range(first, min(n_games, first + max(1, parallel))))
        states = {g: game.initial() for g in ids}
        moves = dict.fromkeys(ids, 0)
        while states:
            active = list(states)
            full = full_share >= 1.0 or rng.random() < full_share
            mcts.sims = sims if full else fast
            roots = mcts.search_many([states[g] for g in active], rng, noise=full)
            for g, root in zip(active, roots):
                stats.simulations += root.n_total
                s = states[g]
                pi = visit_policy(root, 1.0)
                if full:
                    records.append(
                        Record(
                            s,
                            pi.astype(np.float32),
                            game.current_player(s),
                            g,
                            root.value(),
                            root.proven is not None,
                        )
                    )
                if moves[g] < temp_moves:
                    a = sample_action(pi, rng)
                else:
                    a = int(np.argmax(visit_policy(root, 0.0, rng)))
                s = game.play(s, a)
                moves[g] += 1
                result = game.outcome(s)
                if result is None and moves[g] >= max_moves:
                    result = 0
                if result is not None:
                    results[g] = int(result)
                    del states[g]
                else:
                    states[g] = s
            if on_step is not None:
                on_step()
        stats.moves += sum(moves.values())
    for r in results.values():
        stats.first_wins += r > 0
        stats.second_wins += r < 0
        stats.draws += r == 0
    stats.games = len(results)
    stats.evaluations = mcts.evaluations
    examples = _examples(game, records, results, augment, value_mix)
    stats.seconds = time.perf_counter() - start
    return examples, stats


def _examples(
    game: Game,
    records: list[Record],
    results: dict[int, int],
    augment: bool,
    value_mix: float,
) -> Examples:
    states, policies, values = [], [], []
    for r in records:
        v = value_target(r, results[r.game], value_mix)
        pairs = game.symmetries(r.state, r.policy) if augment else [(r.state, r.policy)]
        for sym, p in pairs:
            states.append(game.encode(sym))
            policies.append(np.asarray(p, np.float32))
            values.append(v)
    spec = game.spec()
    if not states:
        return Examples.empty((int(spec.time or 1), spec.channels), game.action_size)
    return Examples(
        np.stack(states).astype(np.float32),
        np.stack(policies).astype(np.float32),
        np.asarray(values, np.float32),
    )


# ----- training --------------------------------------------------------------------------------


@dataclass
class TrainStats:
    steps: int = 0
    seconds: float = 0.0
    policy_loss: float = math.nan
    value_loss: float = math.nan
    diverged: bool = False
    reason: str = ""
    curve: list[tuple[int, float]] = field(default_factory=list)


def policy_value_loss(
    brain: Brain, states: torch.Tensor, pis: torch.Tensor, zs: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """AlphaZero's two losses: cross-entropy(π, policy) and MSE(z, tanh(value))."""
    logits, v = policy_value(brain, states)
    policy_loss = -(pis * F.log_softmax(logits, dim=-1)).sum(dim=-1).mean()
    value_loss = F.mse_loss(torch.tanh(v), zs)
    return policy_loss, value_loss


def train_on_examples(
    brain: Brain,
    examples: Examples,
    steps: int,
    lr: float = 3e-3,
    seed: int = 0,
    on_step: OnStep = None,
    batch_size: int = 64,
    optimizer: str = "adam",
) -> TrainStats:
    """``steps`` optimiser steps of minibatches drawn (seeded) from ``examples``, in place.

    A non-finite or exploding loss stops training and is reported as ``diverged``.
    ``on_step`` runs after every step (the governor's duty cycle sleeps there).
    """
    stats = TrainStats()
    n = len(examples)
    opt = make_optimizer(brain, {"lr": lr, "optimizer": optimizer})
    if n == 0 or opt is None or steps <= 0:
        return stats
    gen = torch.Generator().manual_seed(seed)
    xs = torch.from_numpy(np.ascontiguousarray(examples.states))
    ps = torch.from_numpy(np.ascontiguousarray(examples.policies))
    zs = torch.from_numpy(np.ascontiguousarray(examples.values))
    batch = max(1, min(batch_size, n))
    order, pos = torch.randperm(n, generator=gen), 0
    was_training = brain.training
    brain.train()
    start = time.perf_counter()
    smoothed: tuple[float, float] | None = None
    try:
        for step in range(steps):
            if pos + batch > n:
                order, pos = torch.randperm(n, generator=gen), 0
            idx = order[pos : pos + batch]
            pos += batch
            lp, lv = policy_value_loss(brain, xs[idx], ps[idx], zs[idx])
            loss = lp + lv
            value, stepped = descend(opt, loss)
            if not stepped:
                stats.diverged, stats.reason = True, f"loss became {value} at step {step}"
                break
            stats.steps += 1
            pair = (float(lp.detach()), float(lv.detach()))
            smoothed = (
                pair
                if smoothed is None
                else (0.9 * smoothed[0] + 0.1 * pair[0], 0.9 * smoothed[1] + 0.1 * pair[1])
            )
            if stats.steps % 10 == 1:
                stats.curve.append((stats.steps, smoothed[0] + smoothed[1]))
            if on_step is not None:
                on_step()
    finally:
        brain.train(was_training)
    if smoothed is not None:
        stats.policy_loss, stats.value_loss = smoothed
    stats.seconds = time.perf_counter() - start
    return stats


# ----- the whole loop ---------------------------------------------------------------------------


@dataclass
class SelfPlayStats:
    """What ``selfplay_train`` did. ``new_examples`` are this call's games (to merge into a
    shared buffer elsewhere, e.g. via ``ReplayBuffer.to_bytes``)."""

    rounds: int = 0
    games: GameStats = field(default_factory=GameStats)
    train: list[TrainStats] = field(default_factory=list)
    new_examples: Examples | None = None
    seconds: float = 0.0
    diverged: bool = False
    reason: str = ""

    @property
    def steps(self) -> int:
        return sum(t.steps for t in self.train)

    def summary(self) -> dict[str, float]:
        last = self.train[-1] if self.train else TrainStats()
        return {
            "rounds": self.rounds,
            "games": self.games.games,
            "examples": len(self.new_examples) if self.new_examples is not None else 0,
            "steps": self.steps,
            "policy_loss": last.policy_loss,
            "value_loss": last.value_loss,
            "sims_per_second": self.games.sims_per_second,
            "seconds": self.seconds,
        }


def selfplay_train(
    brain: Brain,
    game: Game,
    budget_games: int,
    sims: int = 25,
    buffer: ReplayBuffer | None = None,
    seed: int = 0,
    on_step: OnStep = None,
    rounds: int | None = None,
    train_steps: int | None = None,
    lr: float = 3e-3,
    batch_size: int = 64,
    c_puct: float = 1.5,
    parallel: int = 32,
    capacity: int = 50_000,
    shared_ratio: float = 1.0,
    temp_moves: int | None = None,
    full_share: float = 1.0,
    fast_sims: int = 0,
) -> SelfPlayStats:
    """Alternate self-play and training for ``budget_games`` games, in place.

    The games are split over ``rounds`` (default: one per 16 games, 1 to 8), so later
    games are played by an already improved brain. After each round the brain trains on
    everything it played so far plus, when a shared ``buffer`` is given, as many examples
    again (``shared_ratio``) drawn from it; its own new examples are added to ``buffer`` in
    place. ``train_steps`` (in total, split evenly over the rounds) defaults to one pass
    over its own examples per round, at least 100 steps a round. ``temp_moves``: see
    ``play_selfplay_games``.
    """
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    rounds = rounds or int(min(8, max(1, budget_games // 16)))
    rounds = max(1, min(rounds, max(1, budget_games)))
    stats = SelfPlayStats()
    own = ReplayBuffer.for_game(game, capacity)
    evaluator = BrainEvaluator(brain, game)
    new_parts: list[Examples] = []
    done_games = 0
    for r in range(rounds):
        n = (budget_games - done_games) // (rounds - r)
        done_games += n
        if n <= 0:
            continue
        evaluator.clear()
        ex, gstats = play_selfplay_games(
            game,
            evaluator,
            n,
            sims=sims,
            seed=int(rng.integers(2**31)),
            c_puct=c_puct,
            temp_moves=temp_moves,
            parallel=parallel,
            on_step=on_step,
            full_share=full_share,
            fast_sims=fast_sims,
        )
        _merge(stats.games, gstats)
        own.add(ex)
        new_parts.append(ex)
        if buffer is not None:
            buffer.add(ex)
        data = own.examples()
        if buffer is not None and shared_ratio > 0 and len(buffer) > 0:
            data = Examples.concat([data, buffer.sample(int(len(data) * shared_ratio), rng)])
        if train_steps is not None:
            steps = train_steps // rounds + (r < train_steps % rounds)
        else:
            steps = max(100, len(own) // max(1, batch_size))
        t = train_on_examples(
            brain,
            data,
            steps,
            lr=lr,
            seed=int(rng.integers(2**31)),
            on_step=on_step,
            batch_size=batch_size,
        )
        stats.train.append(t)
        stats.rounds += 1
        if t.diverged:
            stats.diverged, stats.reason = True, t.reason
            break
    stats.new_examples = Examples.concat(new_parts) if new_parts else None
    stats.seconds = time.perf_counter() - start
    return stats


def _merge(total: GameStats, part: GameStats) -> None:
    total.games += part.games
    total.first_wins += part.first_wins
    total.second_wins += part.second_wins
    total.draws += part.draws
    total.moves += part.moves
    total.simulations += part.simulations
    total.evaluations += part.evaluations
    total.seconds += part.seconds
