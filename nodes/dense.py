"""Fully connected layer, applied to every time step independently (so it is causal)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from openbrains.engine.footprint import Tensor
from openbrains.engine.units import Bool, Int, Unit, UnitContext, width_from
from openbrains.engine.widening import linear
from openbrains.nodes.activation import activation_fn, activation_param


class Dense(nn.Module):
    def __init__(self, c_in: int, width: int, activation: str, bias: bool) -> None:
        super().__init__()
        self.linear = nn.Linear(c_in, width, bias=bias)
        self.act = activation_fn(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.linear(x, self.linear.weight, self.linear.bias)
        return y if self.act is None else self.act(y)


def _build(ctx: UnitContext) -> nn.Module:
    p = ctx.params
    return Dense(ctx.in_channels, p["width"], p["activation"], p["bias"])


DENSE = Unit(
    name="dense",
    version=1,
    category="learning",
    doc="Fully connected layer on each time step, with an optional nonlinearity.",
    params=(
        Int("width", 32, 1, 4096, "output channels", log=True),
        activation_param("relu"),
        Bool("bias", True, "learn an additive bias"),
    ),
    infer=width_from("width"),
    build=_build,
    source="Rosenblatt 1958, The Perceptron, Psychological Review 65:386",
    tensors=(
        Tensor("linear.weight", "width", "C"),
        Tensor("linear.bias", "width", when="bias"),
    ),
    flops="2 * T * C * width",
    widening=linear("linear.weight", "linear.bias"),
)

UNITS = (DENSE,)
