"""How close a denoiser's samples are to real digits: the measure behind "the samples are
closer to the data than noise" (docs/modalities.md).

Nearest-neighbour distance: for each image, the Euclidean distance (pixels in [0, 1], all
64 of them) to the closest *training* image; the mean over a set of images is its
distance to the data. We report it for

- ``samples``: the denoiser's samples;
- ``noise``: the sampler's own starting points, pure Gaussian noise mapped to pixels the
  same way the samples are ((x + 1) / 2, clipped);
- ``matched``: independent per-pixel Gaussian noise with the training images' per-pixel
  mean and standard deviation (clipped): right brightness everywhere, no strokes;
- ``test``: real held-out digits, the distance a perfect generator would reach;

and ``ratio = samples / noise`` (below 1: closer to the data than noise) and
``ratio_matched = samples / matched`` (below 1: more than pixel statistics was learned).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from openbrains.engine.compile import Brain
from openbrains.engine.tasks.denoise import Schedule, digit_images, sample_images


def nn_distance(images: np.ndarray, data: np.ndarray) -> float:
    """Mean over ``images`` of the distance to the nearest row of ``data`` (both flattened)."""
    a = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32))
    b = torch.from_numpy(data.reshape(len(data), -1).astype(np.float32))
    return float(torch.cdist(a, b).min(1).values.mean())


def sample_quality(
    brain: Brain, settings: dict[str, Any] | None = None, n: int = 200, seed: int = 0
) -> dict[str, float]:
    """The nearest-neighbour measure above, for ``n`` samples (seeded)."""
    settings = settings or {}
    schedule = Schedule.from_settings(settings)
    images = digit_images(int(settings.get("seed", 0)))
    train = images["train"]
    rng = np.random.default_rng(seed + 1)
    noise = np.clip((rng.standard_normal((n, train.shape[1])) + 1) / 2, 0, 1)
    mean, std = train.mean(0), train.std(0)
    matched = np.clip(mean + std * rng.standard_normal((n, train.shape[1])), 0, 1)
    samples = sample_images(brain, schedule, n, seed)
    out = {
        "samples": nn_distance(samples, train),
        "noise": nn_distance(noise, train),
        "matched": nn_distance(matched, train),
        "test": nn_distance(images["test"][:n], train),
    }
    out["ratio"] = out["samples"] / out["noise"]
    out["ratio_matched"] = out["samples"] / out["matched"]
    return out


__all__ = ["nn_distance", "sample_quality"]
