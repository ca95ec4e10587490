"""Mixes of two training views, for a distilling student (function matching, Beyer et al.
2022: "a good teacher is patient and consistent").

A brain teacher can be asked about any input, not only the training examples: shown a mix
``λ·x + (1 − λ)·x'`` of two views, it says what it believes about that mix, and the student
learns to believe the same. On a small corpus this is what carries the teacher's knowledge
across: 50 labelled digits give 450 shifted views, but their mixes are endless. On those
50 digits an 810-parameter student trained 2,000 steps scores 0.83 test on hard labels,
0.86 distilled from a 0.989 teacher's beliefs about the views, and 0.92 from its beliefs
about mixes (4 weight seeds; docs/decisions.md, Teachers).

One λ per batch drawn uniformly (Beta(1, 1)), a partner for each example by a permutation
of the batch, both from the training generator so a seeded run repeats. The hard-label part
of the loss is the mix of the two examples' losses in the same proportion (mixup, Zhang et
al. 2018), the task loss unchanged otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Mix:
    """How one batch was mixed: each example's ``partner`` (its index in the batch) and
    the share ``lam`` of the example itself."""

    partner: torch.Tensor
    lam: float


def mixable(inputs: dict[str, torch.Tensor]) -> bool:
    """Whether every input is a real-valued signal: token ids or class ids cannot be mixed."""
    return bool(inputs) and all(x.is_floating_point() for x in inputs.values())


def draw(batch: int, generator: torch.Generator) -> Mix:
    lam = float(torch.rand((), generator=generator))
    return Mix(torch.randperm(batch, generator=generator), lam)


def mixed(x: torch.Tensor, mix: Mix) -> torch.Tensor:
    """``λ·x + (1 − λ)·x[partner]`` over the batch's first dimension."""
    return mix.lam * x + (1.0 - mix.lam) * x[mix.partner]


def mixed_loss(
    loss: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor],
    out: torch.Tensor,
    target: torch.Tensor,
    smoothing: float,
    mix: Mix,
) -> torch.Tensor:
    """The task loss (``task.loss``) of a mixed batch's outputs: each target's loss,
    weighted as the inputs were."""
    other = target[mix.partner]
    return mix.lam * loss(out, target, smoothing) + (1.0 - mix.lam) * loss(out, other, smoothing)


def mixed_stack(x: torch.Tensor, mixes: Sequence[Mix]) -> torch.Tensor:
    """``mixed`` for K models' batches at once (``x [K, B, ...]``, one ``Mix`` each)."""
    k = len(mixes)
    partners = torch.stack([m.partner for m in mixes])  # [K, B]
    lam = torch.tensor([m.lam for m in mixes], dtype=x.dtype).view(k, *([1] * (x.dim() - 1)))
    return lam * x + (1.0 - lam) * x[torch.arange(k)[:, None], partners]


def mixed_stack_loss(
    loss: Callable[[torch.Tensor], torch.Tensor], target: torch.Tensor, mixes: Sequence[Mix]
) -> torch.Tensor:
    """``mixed_loss`` for K models (``loss`` gives ``[K]`` for targets ``[K, B, ...]``)."""
    k = len(mixes)
    partners = torch.stack([m.partner for m in mixes])
    lam = torch.tensor([m.lam for m in mixes])
    other = target[torch.arange(k)[:, None], partners]
    return lam * loss(target) + (1.0 - lam) * loss(other)
