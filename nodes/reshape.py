"""Flatten: all time steps side by side as one step, so a dense layer can see a whole image
or window at once (the classic conv → flatten → dense head). Needs a fixed time length."""

from __future__ import annotations

import torch
from torch import nn

from openbrains.engine.signal import SignalMeta, SignalSpec
from openbrains.engine.units import Unit, UnitContext
from openbrains.engine.widening import Remap, Widening


class Flatten(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], 1, -1)


def _infer(ctx: UnitContext) -> SignalSpec:
    spec = ctx.input
    if spec.time is None:
        raise ValueError("flatten needs a fixed time length, but its input has variable length")
    if spec.time * spec.channels > 1 << 20:
        raise ValueError(f"flatten would make {spec.time * spec.channels} channels (limit 1048576)")
    return SignalSpec(spec.time * spec.channels, 1, SignalMeta(spec.meta.modality))


def _flattened(remap: Remap, c_in: int, c_out: int) -> Remap:
    """Output channel ``t·C + i`` is input channel ``i`` at step ``t``: a remap of the input
    channels repeats once per step."""
    steps = c_out // len(remap.index)
    return Remap(tuple(t * c_in + i for t in range(steps) for i in remap.index), steps * c_in)


FLATTEN = Unit(
    name="flatten",
    version=1,
    category="pooling",
    doc="Puts all time steps side by side as one step (time × channels); needs a fixed length.",
    infer=_infer,
    build=lambda ctx: Flatten(),
    causal=False,
    flops="0",
    widening=Widening(carry=_flattened),
)

UNITS = (FLATTEN,)
