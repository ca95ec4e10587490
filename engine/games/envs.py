"""Single-player scored environments: run episodes, score actors, train a brain on them.

An *actor* maps an observation to an action: ``actor(obs, rng) -> int``. Fitness of a
candidate on an environment task is the mean ``score()`` over seeded episodes, so every
candidate meets the same mazes. ``train_reinforce`` gives such tasks a learning signal
(policy gradient with the brain's own ``value`` output as baseline), the counterpart of
self-play for two-player games.
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
from openbrains.engine.games.players import policy_value
from openbrains.engine.tasks.game import ScoredEnv
from openbrains.engine.train.trainer import descend, make_optimizer

Actor = Callable[[np.ndarray, np.random.Generator], int]


@dataclass
class Episode:
    score: float
    steps: int
    observations: list[np.ndarray] = field(default_factory=list)
    actions: list[int] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)


@dataclass
class EnvResult:
    """Scores of a batch of episodes."""

    scores: list[float]
    steps: list[int]

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores)) if self.scores else -math.inf

    @property
    def std(self) -> float:
        return float(np.std(self.scores)) if self.scores else 0.0


def episode_seed(seed: int, i: int) -> int:
    """The seed of episode ``i`` of an evaluation seeded ``seed`` (same for everyone)."""
    return int(np.random.SeedSequence([seed, i]).generate_state(1)[0])


def run_episode(
    env: ScoredEnv,
    actor: Actor,
    seed: int,
    rng: np.random.Generator | None = None,
    max_steps: int = 100_000,
    record: bool = False,
) -> Episode:
    """One episode from ``env.reset(seed)`` until done (or ``max_steps``)."""
    rng = rng if rng is not None else np.random.default_rng(seed)
    obs = env.reset(seed)
    ep = Episode(0.0, 0)
    for _ in range(max_steps):
        a = int(actor(obs, rng))
        if not 0 <= a < env.action_size:
            raise ValueError(f"actor chose action {a}; the environment has {env.action_size}")
        if record:
            ep.observations.append(obs)
            ep.actions.append(a)
        obs, reward, done = env.step(a)
        ep.steps += 1
        if record:
            ep.rewards.append(float(reward))
        if done:
            break
    ep.score = float(env.score())
    return ep


def evaluate_env(env: ScoredEnv, actor: Actor, episodes: int = 20, seed: int = 0) -> EnvResult:
    """Scores of ``episodes`` episodes with seeds derived from ``seed``."""
    res = EnvResult([], [])
    for i in range(episodes):
        ep = run_episode(env, actor, episode_seed(seed, i), np.random.default_rng([seed, i]))
        res.scores.append(ep.score)
        res.steps.append(ep.steps)
    return res


def random_actor(action_size: int) -> Actor:
    def act(obs: np.ndarray, rng: np.random.Generator) -> int:
        return int(rng.integers(action_size))

    return act


def brain_actor(brain: Brain, greedy: bool = True) -> Actor:
    """The brain's policy as an actor: its best action, or a sample when not greedy."""

    def act(obs: np.ndarray, rng: np.random.Generator) -> int:
        was_training = brain.training
        brain.eval()
        try:
            with torch.inference_mode():
                logits, _ = policy_value(brain, torch.from_numpy(obs[None].astype(np.float32)))
        finally:
            brain.train(was_training)
        lg = np.nan_to_num(logits[0].double().numpy(), nan=0.0)
        if greedy:
            return int(np.argmax(lg))
        p = np.exp(lg - lg.max())
        return int(rng.choice(len(p), p=p / p.sum()))

    return act


@dataclass
class ReinforceStats:
    episodes: int = 0
    steps: int = 0
    mean_score: float = math.nan
    scores: list[float] = field(default_factory=list)
    seconds: float = 0.0
    diverged: bool = False
    reason: str = ""


def train_reinforce(
    brain: Brain,
    env: ScoredEnv,
    episodes: int,
    lr: float = 3e-3,
    seed: int = 0,
    gamma: float = 0.98,
    batch_episodes: int = 8,
    entropy: float = 0.01,
    env_seeds: list[int] | None = None,
    on_step: Callable[[], None] | None = None,
) -> ReinforceStats:
    """Policy-gradient training, in place: play ``batch_episodes`` episodes by sampling
    the policy, then one optimiser step on ``-log π(a) · (G - V)`` plus the squared error
    of ``tanh(value)`` against the discounted return G (the baseline), minus a little
    entropy so the policy keeps exploring. ``env_seeds`` (cycled) fixes which layouts are
    trained on; by default every episode is a fresh one.
    """
    stats = ReinforceStats()
    opt = make_optimizer(brain, {"lr": lr, "optimizer": "adam"})
    if opt is None or episodes <= 0:
        return stats
    rng = np.random.default_rng(seed)
    actor = brain_actor(brain, greedy=False)
    start = time.perf_counter()
    was_training = brain.training
    try:
        while stats.episodes < episodes:
            obs, acts, rets = [], [], []
            for _ in range(min(batch_episodes, episodes - stats.episodes)):
                s = (
                    env_seeds[stats.episodes % len(env_seeds)]
                    if env_seeds
                    else int(rng.integers(2**31))
                )
                ep = run_episode(env, actor, s, rng, record=True)
                stats.episodes += 1
                stats.scores.append(ep.score)
                g, returns = 0.0, []
                for r in reversed(ep.rewards):
                    g = r + gamma * g
                    returns.append(g)
                obs.extend(ep.observations)
                acts.extend(ep.actions)
                rets.extend(reversed(returns))
            brain.train()
            x = torch.from_numpy(np.stack(obs).astype(np.float32))
            a = torch.tensor(acts)
            ret = torch.tensor(rets, dtype=torch.float32)
            logits, v = policy_value(brain, x)
            v = torch.tanh(v)
            logp = F.log_softmax(logits, dim=-1)
            adv = (ret - v).detach()
            pg = -(logp.gather(1, a[:, None])[:, 0] * adv).mean()
            ent = -(logp.exp() * logp).sum(-1).mean()
            loss = pg + F.mse_loss(v, ret.clamp(-1, 1)) - entropy * ent
            value, stepped = descend(opt, loss)
            if not stepped:
                stats.diverged, stats.reason = True, f"loss became {value}"
                break
            stats.steps += 1
            if on_step is not None:
                on_step()
    finally:
        brain.train(was_training)
    tail = stats.scores[-max(1, batch_episodes) :]
    stats.mean_score = float(np.mean(tail)) if tail else math.nan
    stats.seconds = time.perf_counter() - start
    return stats
