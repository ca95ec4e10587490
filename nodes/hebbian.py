"""A dense layer that learns by a local rule in the forward pass, not by gradients.

While training, Oja's subspace rule (or plain Hebb with row normalisation) moves the
weights toward the principal directions of what flows through; gradients still pass
*through* it to upstream units, but never change its own weights.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from openbrains.engine.footprint import Buffer
from openbrains.engine.units import Choice, Float, Int, Unit, UnitContext, width_from
from openbrains.engine.widening import linear


class HebbianDense(nn.Module):
    def __init__(self, c_in: int, width: int, rate: float, rule: str, seed: int) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.register_buffer("weight", torch.randn(width, c_in, generator=gen) / math.sqrt(c_in))
        self.rate, self.rule = rate, rule

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight
        y = x @ w.t()
        if self.training:
            with torch.no_grad():
                self.weight = self._updated(
                    w, x.detach().reshape(-1, x.shape[-1]), y.detach().reshape(-1, y.shape[-1])
                )
        return y

    def _updated(self, w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        n = max(1, x.shape[0])
        hebb = y.t() @ x / n
        if self.rule == "oja":
            delta = hebb - (y.t() @ y / n) @ w
            new = w + self.rate * delta
        else:
            new = w + self.rate * hebb
            new = new / new.norm(dim=1, keepdim=True).clamp_min(1e-6)
        return torch.nan_to_num(new) if not torch.isfinite(new).all() else new


def _build(ctx: UnitContext) -> nn.Module:
    p = ctx.params
    return HebbianDense(ctx.in_channels, p["width"], p["rate"], p["rule"], ctx.seed)


HEBBIAN = Unit(
    name="hebbian",
    version=1,
    category="local",
    doc="Dense layer trained by a local Hebbian rule (Oja) in the forward pass; no gradient.",
    params=(
        Int("width", 32, 1, 1024, "output channels", log=True),
        Float("rate", 0.01, 1e-4, 0.1, "learning rate of the local rule", log=True),
        Choice("rule", "oja", ("oja", "hebb"), "Oja's subspace rule or normalised Hebb"),
    ),
    infer=width_from("width"),
    build=_build,
    source=(
        "Oja 1982, A Simplified Neuron Model as a Principal Component Analyzer, "
        "J. Math. Biol. 15:267; Hebb 1949, The Organization of Behavior"
    ),
    tensors=(Buffer("weight", "width", "C"),),
    flops="2 * T * C * width",
    widening=linear("weight"),
)

UNITS = (HEBBIAN,)
