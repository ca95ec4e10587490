"""Diagonal state-space layer (S4D-Real), computed in parallel over time.

Gu, Gupta, Goel & Ré 2022, "On the Parameterization and Initialization of Diagonal State
Space Models" (S4D, NeurIPS), arXiv:2206.11893; the same diagonal recurrence is the core
of S5 (Smith, Warrington & Linderman 2023, arXiv:2208.04933).

Each channel c runs ``state`` real decaying modes: h_t = Ā·h_{t-1} + B̄·x_t,
y_t = Σ C·h_t + D·x_t, with Ā = exp(Δ·A), A = -exp(log_a) < 0 and the zero-order-hold
B̄ = (Ā - 1)/A·B. Because Ā does not depend on the input, a whole chunk is one causal
convolution with the kernel K_k = Σ_n C_n B̄_n Ā_n^k, written here as a masked Toeplitz
product (no loop over time, no FFT, no complex numbers, so it traces and exports), plus
the closed-form contribution of the state carried in from the previous chunk. Chunked and
whole-sequence runs therefore agree to rounding.

The block is x + W_out·gelu(y) with W_out zero at birth: a new ssm computes the identity,
so evolution can put one on any wire without changing what the graph computes.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from openbrains.engine.footprint import Tensor
from openbrains.engine.units import Int, Unit, UnitContext
from openbrains.engine.widening import Widening

DT_RANGE = (1e-3, 1e-1)  # initial step sizes Δ, log-uniform per channel (as in S4D)


class DiagonalSSM(nn.Module):
    def __init__(self, channels: int, state: int) -> None:
        super().__init__()
        lo, hi = math.log(DT_RANGE[0]), math.log(DT_RANGE[1])
        self.log_dt = nn.Parameter(torch.rand(channels) * (hi - lo) + lo)
        modes = torch.arange(1, state + 1, dtype=torch.float32).log()  # S4D-Real: A_n = -n
        self.log_a = nn.Parameter(modes.repeat(channels, 1))
        self.b = nn.Parameter(torch.ones(channels, state))
        self.c = nn.Parameter(torch.randn(channels, state) / math.sqrt(state))
        self.d = nn.Parameter(torch.randn(channels))
        self.out = nn.Linear(channels, channels)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(
        self, x: torch.Tensor, state: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        b, t, c = x.shape
        h0 = x.new_zeros(b, c, self.c.shape[1]) if state is None else state
        a = -torch.exp(self.log_a)  # [C, N]
        dta = torch.exp(self.log_dt)[:, None] * a  # [C, N], negative
        decay = torch.exp(dta)
        b_bar = (decay - 1) / a * self.b
        steps = torch.arange(t, device=x.device, dtype=x.dtype)
        powers = torch.exp(dta[..., None] * steps)  # Ā^k, [C, N, T]
        kernel = torch.einsum("cn,cnk->ck", self.c * b_bar, powers)  # [C, T]
        lag = torch.arange(t, device=x.device)
        lag = lag[:, None] - lag[None, :]  # t - s
        toeplitz = kernel[:, lag.clamp(min=0)] * (lag >= 0).to(x.dtype)  # [C, T, T]
        y = torch.einsum("cts,bsc->btc", toeplitz, x)
        y = y + torch.einsum("bcn,cnt->btc", h0 * self.c, powers * decay[..., None])
        y = y + self.d * x
        h = torch.einsum("cns,bsc->bcn", powers.flip(-1) * b_bar[..., None], x)
        h = h + h0 * torch.exp(dta * t)
        return x + self.out(F.gelu(y)), h


def _build(ctx: UnitContext) -> nn.Module:
    return DiagonalSSM(ctx.in_channels, ctx.params["state"])


SSM = Unit(
    name="ssm",
    version=1,
    category="recurrent",
    doc=(
        "Diagonal state-space layer (S4D-Real): per channel, `state` decaying modes read "
        "as one long causal convolution; x + zero-initialised projection of its output."
    ),
    source=(
        "Gu, Gupta, Goel & Ré 2022, On the Parameterization and Initialization of Diagonal "
        "State Space Models (S4D), arXiv:2206.11893; Smith et al. 2023, S5, arXiv:2208.04933"
    ),
    params=(Int("state", 16, 1, 64, "decaying modes per channel (N)", log=True),),
    build=_build,
    stateful=True,
    starts_as_identity=True,
    widening=Widening(
        inputs={"out.weight": 1},
        per_channel={
            **dict.fromkeys(("log_dt", "log_a", "b", "c", "d", "out.bias"), 0),
            "out.weight": 0,
        },
        carry="same",
    ),
    tensors=(
        Tensor("log_dt", "C"),
        Tensor("log_a", "C", "state"),
        Tensor("b", "C", "state"),
        Tensor("c", "C", "state"),
        Tensor("d", "C"),
        Tensor("out.weight", "C", "C"),
        Tensor("out.bias", "C"),
    ),
    flops="6 * C * state * T + 2 * C * T * T + 2 * T * C * C",
)

UNITS = (SSM,)
