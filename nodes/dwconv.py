"""Depthwise convolution: each channel filtered on its own (``multiplier`` filters per
channel), with no mixing between channels.

Its use in small image brains is the head: a ``valid`` depthwise filter as large as the
last small grid weighs each cell of each channel (a learned pooling), for C·k² weights
where a flatten before the output costs cells × C × classes. Under 1,000 parameters that
head took a hand-made MNIST net from 0.979 with a global average to 0.983
(docs/benchmarks.md, ``bench/mnist_hand.py``). ``valid`` shrinks the grid, using the whole
grid where it is smaller than the kernel; without a grid it slides over time (``same``,
left-padded in causal graphs).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from openbrains.engine.footprint import Tensor
from openbrains.engine.signal import SignalSpec
from openbrains.engine.units import Choice, Int, Unit, UnitContext
from openbrains.engine.widening import Remap, Widening
from openbrains.nodes.activation import activation_param, make_activation
from openbrains.nodes.conv import conv_time, over_grid, stride_one, uses_grid


def _grid_out(side: int, kernel: int, stride: int, valid: bool) -> tuple[int, int]:
    """(kernel used, output side) along one grid axis."""
    if valid:
        k = min(kernel, side)
        return k, (side - k) // stride + 1
    return kernel, (side + 2 * (kernel // 2) - kernel) // stride + 1


class DepthwiseConv2d(nn.Module):
    """[B, h*w, C] → [B, h'*w', C·multiplier] over the image grid."""

    def __init__(self, c_in: int, p: dict, grid: tuple[int, int], valid: bool, act: str) -> None:
        super().__init__()
        (kh, _), (kw, _) = (_grid_out(side, p["kernel"], p["stride"], valid) for side in grid)
        pad = 0 if valid else p["kernel"] // 2
        self.conv = nn.Conv2d(
            c_in, c_in * p["multiplier"], (kh, kw), stride=p["stride"], padding=pad, groups=c_in
        )
        self.grid = tuple(grid)
        self.act = make_activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return over_grid(x, self.grid, lambda y: self.act(self.conv(y)))


class DepthwiseConv1d(nn.Module):
    """[B, T, C] → [B, T', C·multiplier] over time (left-only padding when causal)."""

    def __init__(self, c_in: int, p: dict, causal: bool, act: str) -> None:
        super().__init__()
        k = p["kernel"]
        self.conv = nn.Conv1d(c_in, c_in * p["multiplier"], k, stride=p["stride"], groups=c_in)
        self.pad = (k - 1, 0) if causal else ((k - 1) // 2, k - 1 - (k - 1) // 2)
        self.act = make_activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(F.pad(x.transpose(1, 2), self.pad))).transpose(1, 2)


def _infer(ctx: UnitContext) -> SignalSpec:
    p = ctx.params
    spec = ctx.input.with_channels(ctx.input.channels * p["multiplier"])
    if not uses_grid(ctx):
        return spec if p["stride"] == 1 else spec.with_time(conv_time(spec.time, p["stride"]))
    valid = p["padding"] == "valid"
    sides = [_grid_out(side, p["kernel"], p["stride"], valid)[1] for side in ctx.input.meta.grid]
    return spec.with_time(sides[0] * sides[1], (sides[0], sides[1]))


def _build(ctx: UnitContext) -> nn.Module:
    p = ctx.params
    if uses_grid(ctx):
        grid = ctx.input.meta.grid
        return DepthwiseConv2d(ctx.in_channels, p, grid, p["padding"] == "valid", p["activation"])
    return DepthwiseConv1d(ctx.in_channels, p, ctx.causal, p["activation"])


def _spread(remap: Remap, c_in: int, c_out: int) -> Remap:
    """Output channel ``i·m + q`` is filter ``q`` of input channel ``i``: a copied input
    channel copies its ``m`` filters."""
    return remap.spread(c_out // len(remap.index))


# the kernel used along each grid axis, and the grid's output cells
_KH = "(min(kernel, rows) if padding == 'valid' else kernel)"
_KW = "(min(kernel, cols) if padding == 'valid' else kernel)"
_PAD = "(0 if padding == 'valid' else kernel // 2)"
_CELLS = (
    f"(((rows + 2 * {_PAD} - {_KH}) // stride + 1) * ((cols + 2 * {_PAD} - {_KW}) // stride + 1)"
    " if has_grid else (T - 1) // stride + 1)"
)

DWCONV2D = Unit(
    name="dwconv2d",
    version=1,
    category="conv",
    doc=(
        "Depthwise 2-D convolution: `multiplier` k×k filters per channel, no mixing between "
        "channels; `valid` shrinks the grid (a learned pooling as a head); over time "
        "without a grid."
    ),
    params=(
        Int("kernel", 3, 1, 7, "square kernel size (at most the grid's side when valid)"),
        Int("stride", 1, 1, 2, "step between windows (shrinks the grid)"),
        Int("multiplier", 1, 1, 4, "filters for each input channel"),
        Choice("padding", "same", ("same", "valid"), "keep the grid, or only whole windows"),
        activation_param("identity"),
    ),
    infer=_infer,
    build=_build,
    causal=stride_one,
    source=(
        "Sifre 2014, Rigid-Motion Scattering for Image Classification (PhD thesis); "
        "Howard et al. 2017, MobileNets, arXiv:1704.04861"
    ),
    tensors=(
        Tensor("conv.weight", "C * multiplier", "1", _KH, _KW, when="has_grid"),
        Tensor("conv.weight", "C * multiplier", "1", "kernel", when="not has_grid"),
        Tensor("conv.bias", "C * multiplier"),
    ),
    flops=f"2 * C * multiplier * ({_KH} * {_KW} if has_grid else kernel) * {_CELLS}",
    # a copied input channel copies its filters; the output's channels follow in groups
    widening=Widening(grouped={"conv.weight": 0, "conv.bias": 0}, carry=_spread),
)

UNITS = (DWCONV2D,)
