"""Echo-state reservoir: fixed random recurrent weights scaled to a spectral radius.

Nothing inside learns; downstream units read its rich, fading memory of the input. The
weights are drawn from the node's seed and stored as buffers, so files keep them exactly.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from openbrains.engine.footprint import Buffer
from openbrains.engine.units import Float, Int, Unit, UnitContext, width_from
from openbrains.engine.widening import Widening


class Reservoir(nn.Module):
    def __init__(
        self,
        c_in: int,
        size: int,
        radius: float,
        leak: float,
        density: float,
        input_scale: float,
        seed: int,
    ) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        w = torch.randn(size, size, generator=gen)
        w = w * (torch.rand(size, size, generator=gen) < density)
        if not w.is_meta:  # on the meta device (sizing a graph) there is nothing to scale
            rho = torch.linalg.eigvals(w).abs().max().item()
            w = w * (radius / rho) if rho > 0 else w
        w_in = (torch.rand(size, c_in, generator=gen) * 2 - 1) * input_scale
        self.register_buffer("w", w)
        self.register_buffer("w_in", w_in)
        self.leak = leak

    def forward(self, x: torch.Tensor, state: torch.Tensor | None) -> tuple[torch.Tensor, Any]:
        drive = x @ self.w_in.t()
        h = state if state is not None else drive.new_zeros(x.shape[0], self.w.shape[0])
        wt = self.w.t()
        outs = []
        for t in range(drive.shape[1]):
            h = (1 - self.leak) * h + self.leak * torch.tanh(drive[:, t] + h @ wt)
            outs.append(h)
        return torch.stack(outs, dim=1), h


def _build(ctx: UnitContext) -> nn.Module:
    p = ctx.params
    return Reservoir(
        ctx.in_channels,
        p["width"],
        p["radius"],
        p["leak"],
        p["density"],
        p["input_scale"],
        ctx.seed,
    )


RESERVOIR = Unit(
    name="reservoir",
    version=1,
    category="local",
    doc="Echo-state network: fixed random recurrent weights, a leaky tanh state per step.",
    params=(
        Int("width", 64, 4, 512, "reservoir size (output channels)", log=True),
        Float("radius", 0.9, 0.1, 1.5, "spectral radius of the recurrent weights", redraws=True),
        Float("leak", 1.0, 0.05, 1.0, "leak rate (1 = no leak)"),
        Float("density", 0.2, 0.01, 1.0, "fraction of non-zero recurrent weights", redraws=True),
        Float("input_scale", 1.0, 0.1, 2.0, "scale of the random input weights", redraws=True),
    ),
    infer=width_from("width"),
    build=_build,
    stateful=True,
    source=(
        'Jaeger 2001, The "echo state" approach to analysing and training recurrent neural '
        "networks, GMD Report 148"
    ),
    tensors=(Buffer("w", "width", "width"), Buffer("w_in", "width", "C")),
    flops="2 * T * width * (C + width)",
    widening=Widening(outputs={"w_in": 0, "w": 0}, feedback={"w": 1}, inputs={"w_in": 1}),
)

UNITS = (RESERVOIR,)
