"""Selective state-space block (Mamba), in plain PyTorch.

Gu & Dao 2023, "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
arXiv:2312.00752. Unlike the ``ssm`` unit, the step size Δ and the maps B and C are
computed from the input at every step (the *selection*), so the layer can decide what to
remember; the price is that the scan cannot become a convolution.

Per step, over E = expand·C inner channels with ``state`` modes each:
u, z = split(W_in·x); u = silu(causal depthwise conv(u)); Δ = softplus(W_Δ·(W_x·u)_Δ);
h = exp(Δ·A)·h + Δ·B·u; y = (C·h + D·u)·silu(z); out = x + W_out·y (W_out zero at birth,
so a new block computes the identity). Everything except the recurrence itself is computed
for the whole chunk at once; the recurrence is a fixed loop of a few tensor ops per step
(no data-dependent control flow, so it traces). The state is the conv's last ``kernel``-1
inputs and h, so chunked and whole-sequence runs agree.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from openbrains.engine.footprint import Tensor
from openbrains.engine.units import Choice, Int, Unit, UnitContext

DT_RANGE = (1e-3, 1e-1)

State = tuple[torch.Tensor, torch.Tensor]


def dt_rank(channels: int) -> int:
    """Rank of Δ's projection, ceil(C / 16) as in the paper."""
    return math.ceil(channels / 16)


class Mamba(nn.Module):
    def __init__(self, channels: int, state: int, expand: int, kernel: int) -> None:
        super().__init__()
        inner, rank = expand * channels, dt_rank(channels)
        self.state, self.rank = state, rank
        self.in_proj = nn.Linear(channels, 2 * inner, bias=False)
        self.conv = nn.Conv1d(inner, inner, kernel, groups=inner)
        self.x_proj = nn.Linear(inner, rank + 2 * state, bias=False)
        self.dt_proj = nn.Linear(rank, inner)
        lo, hi = math.log(DT_RANGE[0]), math.log(DT_RANGE[1])
        dt = torch.exp(torch.rand(inner) * (hi - lo) + lo)
        with torch.no_grad():  # softplus(bias) = dt: the paper's initialisation
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))
        modes = torch.arange(1, state + 1, dtype=torch.float32).log()
        self.a_log = nn.Parameter(modes.repeat(inner, 1))
        self.d = nn.Parameter(torch.ones(inner))
        self.out_proj = nn.Linear(inner, channels, bias=False)
        nn.init.zeros_(self.out_proj.weight)

    def forward(self, x: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        b, t, _ = x.shape
        inner, k = self.conv.weight.shape[0], self.conv.weight.shape[-1]
        if state is None:
            state = (x.new_zeros(b, k - 1, inner), x.new_zeros(b, inner, self.state))
        context, h = state
        u, z = self.in_proj(x).chunk(2, dim=-1)
        full = torch.cat([context, u], dim=1)  # the last k-1 inputs of the previous chunk
        u = F.silu(F.conv1d(full.transpose(1, 2), self.conv.weight, self.conv.bias, groups=inner))
        u = u.transpose(1, 2)  # [B, T, E]
        dt, b_in, c_out = self.x_proj(u).split([self.rank, self.state, self.state], dim=-1)
        dt = F.softplus(self.dt_proj(dt))  # [B, T, E]
        a = -torch.exp(self.a_log)  # [E, N]
        steps = zip(dt.unbind(1), (dt * u).unbind(1), b_in.unbind(1), c_out.unbind(1))
        ys = []  # step by step: [B, T, E, N] tensors would cost more memory traffic than ops
        for dt_i, du_i, b_i, c_i in steps:
            h = torch.exp(dt_i[..., None] * a) * h + du_i[..., None] * b_i[:, None, :]
            ys.append((h @ c_i[..., None])[..., 0])
        y = torch.stack(ys, dim=1) + self.d * u
        y = y * F.silu(z)
        return x + self.out_proj(y), (full[:, t:], h)


def _build(ctx: UnitContext) -> nn.Module:
    p = ctx.params
    return Mamba(ctx.in_channels, p["state"], p["expand"], p["kernel"])


MAMBA = Unit(
    name="mamba",
    version=1,
    category="recurrent",
    doc=(
        "Selective state-space block (Mamba): input-dependent step size and read/write "
        "maps, a causal depthwise conv and a SiLU gate; x + zero-initialised projection."
    ),
    source=(
        "Gu & Dao 2023, Mamba: Linear-Time Sequence Modeling with Selective State Spaces, "
        "arXiv:2312.00752"
    ),
    params=(
        Int("state", 8, 1, 16, "modes per inner channel (N)", log=True),
        Choice("expand", 2, (1, 2), "inner channels per input channel (E = expand·C)"),
        Int("kernel", 4, 1, 4, "taps of the causal depthwise convolution"),
    ),
    build=_build,
    stateful=True,
    starts_as_identity=True,
    tensors=(
        Tensor("in_proj.weight", "2 * expand * C", "C"),
        Tensor("conv.weight", "expand * C", "1", "kernel"),
        Tensor("conv.bias", "expand * C"),
        Tensor("x_proj.weight", "ceil(C / 16) + 2 * state", "expand * C"),
        Tensor("dt_proj.weight", "expand * C", "ceil(C / 16)"),
        Tensor("dt_proj.bias", "expand * C"),
        Tensor("a_log", "expand * C", "state"),
        Tensor("d", "expand * C"),
        Tensor("out_proj.weight", "C", "expand * C"),
    ),
    flops=("2 * T * expand * C * (2 * C + kernel + 2 * ceil(C / 16) + 3 * state + C)"),
)

UNITS = (MAMBA,)
