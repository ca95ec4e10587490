"""Scored environments at batch speed: many copies of one environment step in lockstep so
the brain pays one forward pass per step of all of them, not one per step of each.

``rollouts`` plays a batch of seeded episodes; ``evaluate_batched`` is the fitness of an
environment task (mean score over fixed seeds, so every candidate meets the same mazes);
``train_policy_gradient`` is how a candidate learns: REINFORCE with the brain's own value
head as baseline, plus self-imitation of its best episodes so far (a rare success in a
sparse-reward task is replayed until the policy has absorbed it).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from openbrains.engine.compile import Brain
from openbrains.engine.games.envs import EnvResult, Episode, episode_seed
from openbrains.engine.games.players import policy_value
from openbrains.engine.tasks.game import ScoredEnv
from openbrains.engine.train.trainer import descend, make_optimizer

MAX_STEPS = 100_000


def env_copies(env: ScoredEnv, n: int) -> list[ScoredEnv]:
    """``n`` independent copies of ``env`` (deep copies: works for instances a user's
    entry point hands out as well as for classes)."""
    return [copy.deepcopy(env) for _ in range(n)]


def _act(brain: Brain, obs: list[np.ndarray]) -> np.ndarray:
    """Policy logits ``[N, A]`` (float64) for a batch of observations, no gradients."""
    with torch.inference_mode():
        logits, _ = policy_value(brain, torch.from_numpy(np.stack(obs).astype(np.float32)))
    return np.nan_to_num(logits.double().numpy(), nan=0.0, posinf=50.0, neginf=-50.0)


def rollouts(
    envs: Sequence[ScoredEnv],
    brain: Brain,
    seeds: Sequence[int],
    rng: np.random.Generator,
    greedy: bool = False,
    record: bool = False,
) -> list[Episode]:
    """One episode per seed, ``len(envs)`` at a time, actions sampled from the policy (or
    its best action when ``greedy``)."""
    was_training = brain.training
    brain.eval()  # once per batch: switching modes walks every module
    try:
        return _rollouts(envs, brain, seeds, rng, greedy, record)
    finally:
        brain.train(was_training)


def _rollouts(
    envs: Sequence[ScoredEnv],
    brain: Brain,
    seeds: Sequence[int],
    rng: np.random.Generator,
    greedy: bool,
    record: bool,
) -> list[Episode]:
    out: list[Episode] = []
    for start in range(0, len(seeds), len(envs)):
        part = list(seeds[start : start + len(envs)])
        obs = [env.reset(int(s)) for env, s in zip(envs, part)]
        eps = [Episode(0.0, 0) for _ in part]
        active = list(range(len(part)))
        while active:
            logits = _act(brain, [obs[i] for i in active])
            if greedy:
                actions = logits.argmax(axis=1)
            else:
                p = np.exp(logits - logits.max(axis=1, keepdims=True))
                p /= p.sum(axis=1, keepdims=True)
                u = rng.random((len(active), 1))
                actions = np.minimum((p.cumsum(axis=1) < u).sum(axis=1), p.shape[1] - 1)
            still = []
            for i, a in zip(active, actions.tolist()):
                if record:
                    eps[i].observations.append(obs[i])
                    eps[i].actions.append(int(a))
                obs[i], reward, done = envs[i].step(int(a))
                eps[i].steps += 1
                if record:
                    eps[i].rewards.append(float(reward))
                if not done and eps[i].steps < MAX_STEPS:
                    still.append(i)
            active = still
        for env, ep in zip(envs, eps):
            ep.score = float(env.score())
        out.extend(eps)
    return out


def evaluate_batched(
    envs: Sequence[ScoredEnv], brain: Brain, episodes: int, seed: int, greedy: bool = True
) -> EnvResult:
    """Scores of ``episodes`` seeded episodes (the seeds of ``envs.evaluate_env``)."""
    seeds = [episode_seed(seed, i) for i in range(episodes)]
    eps = rollouts(envs, brain, seeds, np.random.default_rng(seed), greedy=greedy)
    return EnvResult([e.score for e in eps], [e.steps for e in eps])


@dataclass
class PGStats:
    iterations: int = 0
    episodes: int = 0
    scores: list[float] = field(default_factory=list)
    curve: list[list[float]] = field(default_factory=list)
    seconds: float = 0.0
    diverged: bool = False
    reason: str = ""

    @property
    def mean_score(self) -> float:
        tail = self.scores[-32:]
        return float(np.mean(tail)) if tail else math.nan


def _returns(rewards: list[float], gamma: float) -> list[float]:
    g, out = 0.0, []
    for r in reversed(rewards):
        g = r + gamma * g
        out.append(g)
    return out[::-1]


def train_policy_gradient(
    brain: Brain,
    envs: Sequence[ScoredEnv],
    iterations: int,
    lr: float = 3e-3,
    seed: int = 0,
    gamma: float = 0.98,
    entropy: float = 0.01,
    imitate: int = 8,
    on_step: Callable[[], None] | None = None,
) -> PGStats:
    """``iterations`` optimiser steps, in place; each plays ``len(envs)`` fresh episodes.

    Loss: ``-log π(a)·A`` with ``A = G - V`` scaled to unit spread, the squared error of
    ``tanh(value)`` against the (clipped) return, minus a little entropy; plus the
    cross-entropy of the ``imitate`` best episodes seen so far whose return beat the
    value estimate (self-imitation: only what went better than expected is copied).
    """
    stats = PGStats()
    opt = make_optimizer(brain, {"lr": lr, "optimizer": "adam"})
    if opt is None or iterations <= 0:
        return stats
    rng = np.random.default_rng(seed)
    best: list[tuple[float, Episode]] = []
    start = time.perf_counter()
    was_training = brain.training
    try:
        for it in range(iterations):
            seeds = rng.integers(2**31, size=len(envs)).tolist()
            eps = rollouts(envs, brain, seeds, rng, record=True)
            stats.episodes += len(eps)
            stats.scores.extend(e.score for e in eps)
            best = sorted([*best, *((e.score, e) for e in eps)], key=lambda t: -t[0])[:imitate]
            obs, acts, rets = [], [], []
            for e in eps:
                obs.extend(e.observations)
                acts.extend(e.actions)
                rets.extend(_returns(e.rewards, gamma))
            elite = [e for _, e in best]
            e_obs = [o for e in elite for o in e.observations]
            e_acts = [a for e in elite for a in e.actions]
            e_rets = [g for e in elite for g in _returns(e.rewards, gamma)]
            brain.train()
            x = torch.from_numpy(np.stack(obs + e_obs).astype(np.float32))
            a = torch.tensor(acts + e_acts)
            ret = torch.tensor(rets + e_rets, dtype=torch.float32)
            logits, v = policy_value(brain, x)
            v = torch.tanh(v)
            logp = F.log_softmax(logits, dim=-1)
            chosen = logp.gather(1, a[:, None])[:, 0]
            n = len(acts)
            adv = (ret[:n] - v[:n]).detach()
            adv = adv / (adv.std() + 1e-6) if n > 1 else adv
            pg = -(chosen[:n] * adv).mean()
            sil = torch.zeros(())
            if len(e_acts):
                gain = (ret[n:] - v[n:]).detach().clamp(min=0.0)
                sil = -(chosen[n:] * gain).sum() / max(1, len(e_acts))
            ent = -(logp[:n].exp() * logp[:n]).sum(-1).mean()
            loss = pg + sil + F.mse_loss(v, ret.clamp(-1, 1)) - entropy * ent
            value, stepped = descend(opt, loss)
            if not stepped:
                stats.diverged, stats.reason = True, f"loss became {value} at iteration {it}"
                break
            stats.iterations += 1
            stats.curve.append([stats.iterations, value])
            if on_step is not None:
                on_step()
    finally:
        brain.train(was_training)
    stats.seconds = time.perf_counter() - start
    return stats
