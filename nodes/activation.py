"""Pointwise nonlinearities, as a unit of their own and as a param of dense/conv units."""

from __future__ import annotations

import torch
from torch import nn

from openbrains.engine.units import Choice, Unit, UnitContext
from openbrains.engine.widening import CHANNELWISE

ACTIVATIONS = ("relu", "gelu", "tanh", "sigmoid", "sin", "softplus", "identity")


class Sin(nn.Module):
    """sin(x): periodic features (SIREN-style) help on smooth and periodic targets."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x)


def make_activation(name: str) -> nn.Module:
    return {
        "relu": nn.ReLU,
        "gelu": nn.GELU,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "sin": Sin,
        "softplus": nn.Softplus,
        "identity": nn.Identity,
    }[name]()


FUNCTIONS = {
    "relu": torch.relu,
    "gelu": torch.nn.functional.gelu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "sin": torch.sin,
    "softplus": torch.nn.functional.softplus,
}


def activation_fn(name: str):
    """The functional form (None for identity): avoids a module call per layer, which is a
    measurable cost for micro-models (bench/overhead.py)."""
    return FUNCTIONS.get(name)


def activation_param(default: str = "relu") -> Choice:
    return Choice("activation", default, ACTIVATIONS, "nonlinearity applied to the output")


def _build(ctx: UnitContext) -> nn.Module:
    return make_activation(ctx.params["kind"])


ACTIVATION = Unit(
    name="activation",
    version=1,
    category="activation",
    doc="A pointwise nonlinearity: relu, gelu, tanh, sigmoid, sin, softplus or identity.",
    params=(Choice("kind", "relu", ACTIVATIONS, "which nonlinearity"),),
    build=_build,
    source=(
        "ReLU: Nair & Hinton 2010, ICML; GELU: Hendrycks & Gimpel 2016, arXiv:1606.08415; "
        "sin: Sitzmann et al. 2020, SIREN, arXiv:2006.09661"
    ),
    flops="0",
    widening=CHANNELWISE,
)

UNITS = (ACTIVATION,)
