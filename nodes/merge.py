"""Merges: how several wires become one. ``sum`` and ``concat`` are pure wiring (no
module); ``gate`` multiplies the first input by a sigmoid of the others; ``residual`` adds
the others to the first through a learned scalar that starts at zero, so a branch added
behind it leaves the function unchanged until training opens the gate (DESIGN §3.2)."""

from __future__ import annotations

import torch
from torch import nn

from openbrains.engine.footprint import Tensor
from openbrains.engine.units import Unit
from openbrains.engine.widening import CHANNELWISE


class Gate(nn.Module):
    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        if len(xs) == 1:
            return xs[0] * torch.sigmoid(xs[0])
        g = xs[1]
        for x in xs[2:]:
            g = g + x
        return xs[0] * torch.sigmoid(g)


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.zeros(()))

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        if len(xs) == 1:
            return xs[0]
        branch = xs[1]
        for x in xs[2:]:
            branch = branch + x
        return xs[0] + self.alpha * branch


SUM = Unit(
    name="sum",
    version=1,
    category="merge",
    doc="Adds its inputs (learned adapters bring them to the first input's width).",
    merge="sum",
    flops="0",
    widening=CHANNELWISE,
)

CONCAT = Unit(
    name="concat",
    version=1,
    category="merge",
    doc="Joins its inputs along channels.",
    merge="concat",
    flops="0",
    widening=CHANNELWISE,
)

GATE = Unit(
    name="gate",
    version=1,
    category="merge",
    doc="First input times sigmoid(sum of the others); alone, x·sigmoid(x).",
    merge="list",
    build=lambda ctx: Gate(),
    source="Dauphin et al. 2017, Language Modeling with Gated Convolutional Networks, arXiv:1612.08083",
    flops="0",
    widening=CHANNELWISE,
)

RESIDUAL = Unit(
    name="residual",
    version=1,
    category="merge",
    doc="First input plus a zero-initialised learned scale times the others.",
    merge="list",
    build=lambda ctx: Residual(),
    source=(
        "He et al. 2016, Deep Residual Learning, arXiv:1512.03385; zero-initialised gate: "
        "Bachlechner et al. 2020, ReZero, arXiv:2003.04887"
    ),
    tensors=(Tensor("alpha"),),
    flops="0",
    widening=CHANNELWISE,
)

UNITS = (SUM, CONCAT, GATE, RESIDUAL)
