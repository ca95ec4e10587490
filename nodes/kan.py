"""Kolmogorov–Arnold layer: a learned one-dimensional function on every edge.

Liu et al. 2024, "KAN: Kolmogorov-Arnold Networks", arXiv:2404.19756; radial-basis
functions in place of B-splines as in Li 2024, "Kolmogorov-Arnold Networks are Radial Basis
Function Networks" (FastKAN), arXiv:2405.06721.

Output j = Σ_i φ_ji(x_i), each φ_ji = w_ji·silu(x_i) + Σ_g c_jig·exp(-((x_i - μ_g)/h)²),
with ``grid`` Gaussian bumps at fixed centres μ spread evenly over [-2, 2] (h their
spacing). The silu term carries inputs that fall outside the grid. Per time step, so causal.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from openbrains.engine.footprint import Tensor
from openbrains.engine.units import Int, Unit, UnitContext, width_from
from openbrains.engine.widening import Widening

SPAN = 2.0  # the grid covers [-SPAN, SPAN]
SPLINE_INIT = 0.1  # coefficient scale at birth: mostly the silu path, a little curvature


class KolmogorovArnold(nn.Module):
    def __init__(self, channels: int, width: int, grid: int) -> None:
        super().__init__()
        self.grid = grid
        self.base = nn.Linear(channels, width)
        # [out, in, basis]: axis 1 reads the input channels, so widening can split it
        scale = SPLINE_INIT / (channels * grid) ** 0.5
        self.spline = nn.Parameter(torch.randn(width, channels, grid) * scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        centres = torch.linspace(-SPAN, SPAN, self.grid, device=x.device, dtype=x.dtype)
        spacing = 2 * SPAN / (self.grid - 1)
        bumps = torch.exp(-(((x[..., None] - centres) / spacing) ** 2))  # [B, T, C, G]
        return self.base(F.silu(x)) + torch.einsum("btcg,wcg->btw", bumps, self.spline)


def _build(ctx: UnitContext) -> nn.Module:
    return KolmogorovArnold(ctx.in_channels, ctx.params["width"], ctx.params["grid"])


KAN = Unit(
    name="kan",
    version=1,
    category="learning",
    doc=(
        "Kolmogorov–Arnold layer: every input→output edge learns its own 1-D function "
        "(silu plus `grid` Gaussian bumps); outputs sum their edges."
    ),
    source=(
        "Liu et al. 2024, KAN: Kolmogorov-Arnold Networks, arXiv:2404.19756; Li 2024, "
        "Kolmogorov-Arnold Networks are Radial Basis Function Networks, arXiv:2405.06721"
    ),
    params=(
        Int("width", 16, 1, 512, "output channels", log=True),
        Int("grid", 8, 3, 16, "basis functions per edge"),
    ),
    infer=width_from("width"),
    build=_build,
    widening=Widening(
        outputs={"base.weight": 0, "base.bias": 0, "spline": 0},
        inputs={"base.weight": 1, "spline": 1},
    ),
    tensors=(
        Tensor("base.weight", "width", "C"),
        Tensor("base.bias", "width"),
        Tensor("spline", "width", "C", "grid"),
    ),
    flops="2 * T * C * width * (grid + 1)",
)

UNITS = (KAN,)
