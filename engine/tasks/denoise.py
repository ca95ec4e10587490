"""Generation by denoising steps (DESIGN §3.6, §5): a brain learns to predict the noise in
a noisy 8×8 digit, and a sampling loop turns pure noise into digits step by step.

DDPM-style training, as a regression dataset so every trainer, the batched sibling
trainer and the run loop take it unchanged: for each clean image x₀ (scaled to [-1, 1])
``draws`` pairs (t, ε) are drawn once, seeded, and the example is

    inputs  noisy = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε  ``[1, 64]``,  step = time embedding of t ``[1, 16]``
    target  ε  ``[64]``

with a linear β schedule over ``steps`` steps (β from 0.1/steps to 20/steps, DDPM's
1e-4…0.02 rescaled from 1000 steps). The metric is the regression R² of the predicted
noise (1 − MSE / Var ε): the share of the noise the brain explains. Images come from
scikit-learn's digits split like the ``digits`` task (first half train, second half test),
so the test images were never denoised in training; validation is a seeded random 20 % of
the train half (writer shift, which made ``digits`` validate on a contiguous block, matters
little for how well noise is predicted).

``sample_images`` is the sampling loop (ancestral DDPM sampling, with the predicted x₀
clipped to [-1, 1] at every step); ``engine.tasks.denoise_score`` says how close the
samples are to real digits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from openbrains.engine.compile import Brain
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.signal import SignalMeta, SignalSpec
from openbrains.engine.tasks.base import DatasetTask, Split, TaskError
from openbrains.engine.tasks.builtin import DIGITS_VAL_FRACTION

EMBED = 16  # time-embedding width: sin and cos of 8 frequencies
SIDE = 8


@dataclass(frozen=True)
class Schedule:
    """The noise schedule; everything the sampling loop needs besides the brain."""

    steps: int = 100
    side: int = SIDE

    @property
    def betas(self) -> torch.Tensor:
        scale = 1000.0 / self.steps
        return torch.linspace(1e-4 * scale, 0.02 * scale, self.steps, dtype=torch.float64)

    @property
    def alpha_bars(self) -> torch.Tensor:
        return torch.cumprod(1.0 - self.betas, 0)

    def to_settings(self) -> dict[str, Any]:
        return {"steps": self.steps, "side": self.side, "embed": EMBED}

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Schedule:
        return cls(int(settings.get("steps", 100)), int(settings.get("side", SIDE)))


def time_embedding(t: torch.Tensor, steps: int) -> torch.Tensor:
    """``[N]`` step indices → ``[N, 1, 16]``: sin and cos of π·2^k·t/steps, k = 0…7."""
    s = (t.double() / steps).unsqueeze(-1) * math.pi * 2.0 ** torch.arange(EMBED // 2)
    return torch.cat([torch.sin(s), torch.cos(s)], -1).float().unsqueeze(1)


def noisy_examples(x0: torch.Tensor, schedule: Schedule, draws: int, seed: int) -> Split:
    """``draws`` noised copies of each clean image ``x0 [N, 64]`` (seeded)."""
    gen = torch.Generator().manual_seed(seed)
    clean = x0.repeat_interleave(draws, 0)
    t = torch.randint(0, schedule.steps, (len(clean),), generator=gen)
    eps = torch.randn(clean.shape, generator=gen)
    ab = schedule.alpha_bars[t].float().unsqueeze(-1)
    noisy = ab.sqrt() * clean + (1 - ab).sqrt() * eps
    return Split({"noisy": noisy.unsqueeze(1), "step": time_embedding(t, schedule.steps)}, eps)


def digit_images(seed: int = 0) -> dict[str, np.ndarray]:
    """The 8×8 digits in [0, 1] as ``[N, 64]``: halves as ``digits``, random validation."""
    from openbrains.engine.datasets.digits import digits

    images = digits()[0].reshape(-1, 64).astype(np.float32) / 16.0
    half = len(images) // 2
    perm = np.random.default_rng(seed).permutation(half)
    n_val = int(round(half * DIGITS_VAL_FRACTION))
    return {
        "train": images[np.sort(perm[n_val:])],
        "val": images[np.sort(perm[:n_val])],
        "test": images[half:],
    }


MIN_STEPS = 25  # the largest β, 20/steps, stays at 0.8 or below


def denoise_task(seed: int = 0, steps: int = 100, draws: int = 32) -> DatasetTask:
    """Noise prediction on 8×8 digits; ``draws`` noisings per training image (validation
    and test get 8 each, with their own seeds)."""
    if steps < MIN_STEPS:  # β reaches 20/steps: at 20 steps or fewer a step is all noise
        raise TaskError(f"denoise: steps must be >= {MIN_STEPS}, got {steps}")
    if draws < 1:
        raise TaskError(f"denoise: draws must be >= 1, got {draws}")
    schedule = Schedule(steps)
    images = digit_images(seed)
    splits = {
        name: noisy_examples(
            torch.from_numpy(imgs) * 2 - 1, schedule, draws if name == "train" else 8, seed + i
        )
        for i, (name, imgs) in enumerate(images.items())
    }
    return DatasetTask(
        name="denoise",
        kind="regression",
        inputs={
            "noisy": SignalSpec(SIDE * SIDE, 1, SignalMeta("image")),
            "step": SignalSpec(EMBED, 1),
        },
        outputs={"noise": SignalSpec(SIDE * SIDE, 1, SignalMeta("image"))},
        train=splits["train"],
        val=splits["val"],
        test=splits["test"],
        settings={**schedule.to_settings(), "draws": draws, "seed": seed, "data": "digits"},
    )


def _predict(brain: Brain, noisy: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
    args = {"noisy": noisy.unsqueeze(1), "step": step}
    out = brain(*[args[n] for n in brain.input_names])
    out = out[0] if isinstance(out, tuple) else out
    return out[:, -1, :]


@torch.no_grad()
def sample_images(
    brain: Brain,
    settings: dict[str, Any] | Schedule | None = None,
    n: int = 16,
    seed: int = 0,
    on_step: Callable[[int, np.ndarray], None] | None = None,
) -> np.ndarray:
    """``n`` images ``[n, side, side]`` in [0, 1], made from pure noise by the brain's
    denoising steps (``settings``: the task's settings, or a Schedule).

    ``on_step(done, images)``, if given, sees the loop as it goes so a window can show
    it: first the pure noise (``done`` 0), then the images after each step (``done`` 1 …
    ``steps``, the last being the result). It does not change the samples."""
    if sorted(brain.input_names) != ["noisy", "step"]:
        raise OpenBrainsError(
            f"a denoiser takes inputs noisy and step; this brain takes {brain.input_names}"
        )
    schedule = (
        settings if isinstance(settings, Schedule) else Schedule.from_settings(settings or {})
    )
    was = brain.training
    brain.eval()
    gen = torch.Generator().manual_seed(seed)
    betas, ab = schedule.betas, schedule.alpha_bars
    x = torch.randn(n, schedule.side**2, generator=gen)

    def show(done: int, x: torch.Tensor) -> None:
        if on_step is not None:
            pixels = ((x + 1) / 2).clamp(0, 1)
            on_step(done, pixels.reshape(n, schedule.side, schedule.side).numpy().copy())

    try:
        show(0, x)
        for t in reversed(range(schedule.steps)):
            emb = time_embedding(torch.full((n,), t), schedule.steps)
            eps = _predict(brain, x, emb).double()
            a_t, ab_t = 1.0 - float(betas[t]), float(ab[t])
            ab_prev = float(ab[t - 1]) if t > 0 else 1.0
            x0 = ((x.double() - math.sqrt(1 - ab_t) * eps) / math.sqrt(ab_t)).clamp(-1, 1)
            if t == 0:
                x = x0.float()
                show(schedule.steps, x)
                break
            mean = (
                float(betas[t]) * math.sqrt(ab_prev) / (1 - ab_t) * x0
                + (1 - ab_prev) * math.sqrt(a_t) / (1 - ab_t) * x.double()
            )
            var = float(betas[t]) * (1 - ab_prev) / (1 - ab_t)
            x = (mean + math.sqrt(var) * torch.randn(x.shape, generator=gen)).float()
            show(schedule.steps - t, x)
    finally:
        brain.train(was)
    pixels = ((x + 1) / 2).clamp(0, 1)
    return pixels.reshape(n, schedule.side, schedule.side).numpy()


__all__ = [
    "Schedule",
    "denoise_task",
    "digit_images",
    "noisy_examples",
    "sample_images",
    "time_embedding",
]
