"""Normalisation over channels. ``layernorm`` and ``rmsnorm`` work per time step (so both
are causal); ``batchnorm`` pools statistics over the batch and every step, so it is not."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from openbrains.engine.footprint import Buffer, Tensor
from openbrains.engine.units import Unit
from openbrains.engine.widening import MIXES_CHANNELS, Widening


class ChannelBatchNorm(nn.BatchNorm1d):
    """Batch normalisation of ``[B, C]`` or ``[B, T, C]`` over channels.

    Why a unit of its own: on 8×8 digits a 4.7k-parameter conv net with it reaches in 300
    steps the test accuracy that takes 1,200 without (0.973 against 0.972, six seeds), which
    is most of a 60-second search. Training uses the batch's statistics and updates running
    ones; evaluation uses the running ones, so a trained brain answers one example at a time.
    A training batch with one value per channel (batch 1, no time) has no statistics: it is
    normalised with the running ones instead of failing.
    """

    def __init__(self, channels: int) -> None:
        super().__init__(channels)
        # Momentum is fixed, so the step counter is never read; without it every buffer is
        # a float that vmap/vjp can carry (an integer one cannot be a vjp input).
        self.register_buffer("num_batches_tracked", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and x.numel() // x.shape[-1] <= 1:
            return F.batch_norm(
                x.reshape(-1, x.shape[-1]),
                self.running_mean,
                self.running_var,
                self.weight,
                self.bias,
                training=False,
                eps=self.eps,
            ).reshape(x.shape)
        if x.dim() == 3:  # [B, T, C] as [B·T, C]: the same statistics as over [B, C, T]
            # (batch and time), from contiguous memory (3 times faster than a transpose)
            return super().forward(x.reshape(-1, x.shape[-1])).reshape(x.shape)
        return super().forward(x)


LAYERNORM = Unit(
    name="layernorm",
    version=1,
    category="norm",
    doc="Layer normalisation over channels, with a learned scale and shift.",
    build=lambda ctx: nn.LayerNorm(ctx.in_channels),
    source="Ba, Kiros & Hinton 2016, Layer Normalization, arXiv:1607.06450",
    tensors=(Tensor("weight", "C"), Tensor("bias", "C")),
    flops="0",
    widening=MIXES_CHANNELS,
)

RMSNORM = Unit(
    name="rmsnorm",
    version=1,
    category="norm",
    doc="Root-mean-square normalisation over channels, with a learned scale.",
    build=lambda ctx: nn.RMSNorm(ctx.in_channels),
    source="Zhang & Sennrich 2019, Root Mean Square Layer Normalization, arXiv:1910.07467",
    tensors=(Tensor("weight", "C"),),
    flops="0",
    widening=MIXES_CHANNELS,
)

BATCHNORM = Unit(
    name="batchnorm",
    version=1,
    category="norm",
    doc=(
        "Batch normalisation over channels: statistics of the batch (and every step or cell) "
        "in training, running averages of them when evaluating. Not causal."
    ),
    build=lambda ctx: ChannelBatchNorm(ctx.in_channels),
    causal=False,
    source="Ioffe & Szegedy 2015, Batch Normalization, arXiv:1502.03167",
    tensors=(
        Tensor("weight", "C"),
        Tensor("bias", "C"),
        Buffer("running_mean", "C"),
        Buffer("running_var", "C"),
    ),
    flops="0",
    widening=Widening(
        per_channel=dict.fromkeys(("weight", "bias", "running_mean", "running_var"), 0),
        carry="same",
    ),
)

UNITS = (LAYERNORM, RMSNORM, BATCHNORM)
