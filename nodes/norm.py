"""Normalisation over channels, per time step (so both are causal)."""

from __future__ import annotations

from torch import nn

from engine.units import Unit

LAYERNORM = Unit(
    name="layernorm",
    version=1,
    category="norm",
    doc="Layer normalisation over channels, with a learned scale and shift.",
    build=lambda ctx: nn.LayerNorm(ctx.in_channels),
)

RMSNORM = Unit(
    name="rmsnorm",
    version=1,
    category="norm",
    doc="Root-mean-square normalisation over channels, with a learned scale.",
    build=lambda ctx: nn.RMSNorm(ctx.in_channels),
)

UNITS = (LAYERNORM, RMSNORM)
