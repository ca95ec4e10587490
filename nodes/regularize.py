"""Dropout: zeroes random channels while training, nothing at inference."""

from __future__ import annotations

from torch import nn

from openbrains.engine.units import Float, Unit
from openbrains.engine.widening import CHANNELWISE

DROPOUT = Unit(
    name="dropout",
    version=1,
    category="regularize",
    doc="Randomly zeroes a fraction of values while training (identity at inference).",
    params=(Float("p", 0.1, 0.0, 0.5, "fraction dropped"),),
    build=lambda ctx: nn.Dropout(ctx.params["p"]),
    source="Srivastava et al. 2014, Dropout, JMLR 15:1929",
    flops="0",
    widening=CHANNELWISE,
)

UNITS = (DROPOUT,)
