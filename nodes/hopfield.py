"""Associative memory read: one or more update steps of a modern Hopfield network.

Ramsauer et al. 2021, "Hopfield Networks is All You Need", ICLR, arXiv:2008.02217 (the
continuous modern Hopfield network; dense associative memory: Krotov & Hopfield 2016,
arXiv:1606.01164).

The unit stores ``patterns`` learned vectors M. Per step, the input is projected to a
state ξ and updated ``steps`` times by ξ ← softmax(β·ξ·Mᵀ)·M, which moves ξ to the stored
pattern it resembles (or a mixture, for small β); β = ``beta``/√dim. The block is
x + W_out·ξ with W_out zero at birth, so a new memory computes the identity. Per time step,
so causal; the loop is over a fixed number of steps.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from openbrains.engine.footprint import Tensor
from openbrains.engine.units import Float, Int, Unit, UnitContext
from openbrains.engine.widening import Widening


class HopfieldRead(nn.Module):
    def __init__(self, channels: int, patterns: int, dim: int, beta: float, steps: int) -> None:
        super().__init__()
        self.query = nn.Linear(channels, dim, bias=False)
        self.memory = nn.Parameter(torch.randn(patterns, dim))
        self.out = nn.Linear(dim, channels)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.scale, self.steps = beta / math.sqrt(dim), steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xi = self.query(x)
        memory = self.memory
        for _ in range(self.steps):
            xi = torch.softmax(self.scale * xi @ memory.t(), dim=-1) @ memory
        return x + self.out(xi)


def _build(ctx: UnitContext) -> nn.Module:
    p = ctx.params
    return HopfieldRead(ctx.in_channels, p["patterns"], p["dim"], p["beta"], p["steps"])


HOPFIELD = Unit(
    name="hopfield",
    version=1,
    category="attention",
    doc=(
        "Modern Hopfield associative memory: retrieves from `patterns` learned vectors "
        "by softmax attention, `steps` times; x + zero-initialised projection."
    ),
    source=(
        "Ramsauer et al. 2021, Hopfield Networks is All You Need, arXiv:2008.02217; "
        "Krotov & Hopfield 2016, Dense Associative Memory, arXiv:1606.01164"
    ),
    params=(
        Int("patterns", 32, 2, 256, "stored patterns", log=True),
        Int("dim", 16, 4, 64, "dimension of the patterns", log=True),
        Float("beta", 1.0, 0.1, 10.0, "inverse temperature (times 1/√dim)", log=True),
        Int("steps", 1, 1, 3, "update steps of the retrieval"),
    ),
    build=_build,
    starts_as_identity=True,
    widening=Widening(
        inputs={"query.weight": 1},
        per_channel={"out.weight": 0, "out.bias": 0},
        carry="same",
    ),
    tensors=(
        Tensor("query.weight", "dim", "C"),
        Tensor("memory", "patterns", "dim"),
        Tensor("out.weight", "C", "dim"),
        Tensor("out.bias", "C"),
    ),
    flops="4 * T * C * dim + 4 * T * steps * patterns * dim",
)

UNITS = (HOPFIELD,)
