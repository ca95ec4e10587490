"""Leaky integrate-and-fire neurons, trained through a surrogate gradient.

Neftci, Mostafa & Zenke 2019, "Surrogate Gradient Learning in Spiking Neural Networks",
IEEE Signal Processing Magazine 36:51, arXiv:1901.09948; the surrogate is SuperSpike's
fast sigmoid, Zenke & Ganguli 2018, Neural Computation 30:1514.

Per step: v = β·v + W·x_t + b - s_{t-1} (reset by subtraction), s_t = H(v - 1). The output
is the spikes, exactly 0 or 1. The Heaviside step has no useful gradient, so backward uses
d s / d v = 1 / (1 + slope·|v - 1|)² instead; it is written as ``hard + (soft - soft.detach())``,
which is exactly ``hard`` forward and ``soft``'s gradient backward, with plain tensor ops
(so it traces and runs under vmap). The state (v, s) carries across stream chunks.
"""

from __future__ import annotations

import torch
from torch import nn

from openbrains.engine.footprint import Tensor
from openbrains.engine.units import Float, Int, Unit, UnitContext, width_from
from openbrains.engine.widening import linear

State = tuple[torch.Tensor, torch.Tensor]
THRESHOLD = 1.0


def spike(v: torch.Tensor, slope: float) -> torch.Tensor:
    """Heaviside(v - threshold) forward; SuperSpike's fast-sigmoid derivative backward."""
    u = v - THRESHOLD
    soft = u / (1 + slope * u.abs())  # antiderivative of 1 / (1 + slope·|u|)²
    hard = (u > 0).to(v.dtype)
    return hard + (soft - soft.detach())


class LeakyIntegrateAndFire(nn.Module):
    def __init__(self, channels: int, width: int, beta: float, slope: float) -> None:
        super().__init__()
        self.input = nn.Linear(channels, width)
        self.beta, self.slope = beta, slope

    def forward(self, x: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        current = self.input(x)  # [B, T, W]
        if state is None:
            zeros = current.new_zeros(current.shape[0], current.shape[2])
            state = (zeros, zeros)
        v, s = state
        spikes = []
        for current_i in current.unbind(1):
            v = self.beta * v + current_i - s * THRESHOLD
            s = spike(v, self.slope)
            spikes.append(s)
        return torch.stack(spikes, dim=1), (v, s)


def _build(ctx: UnitContext) -> nn.Module:
    p = ctx.params
    return LeakyIntegrateAndFire(ctx.in_channels, p["width"], p["beta"], p["slope"])


LIF = Unit(
    name="lif",
    version=1,
    category="recurrent",
    doc=(
        "Spiking leaky integrate-and-fire neurons (outputs 0/1 spikes), trained through a "
        "fast-sigmoid surrogate gradient; membrane state carries across stream chunks."
    ),
    source=(
        "Neftci, Mostafa & Zenke 2019, Surrogate Gradient Learning in Spiking Neural "
        "Networks, arXiv:1901.09948; Zenke & Ganguli 2018, SuperSpike, Neural Comput. 30:1514"
    ),
    params=(
        Int("width", 32, 1, 1024, "neurons (output channels)", log=True),
        Float("beta", 0.9, 0.5, 0.99, "membrane leak per step (1 = no leak)"),
        Float("slope", 10.0, 1.0, 50.0, "steepness of the surrogate gradient", log=True),
    ),
    infer=width_from("width"),
    build=_build,
    stateful=True,
    widening=linear("input.weight", "input.bias"),
    tensors=(Tensor("input.weight", "width", "C"), Tensor("input.bias", "width")),
    flops="2 * T * C * width",
)

UNITS = (LIF,)
