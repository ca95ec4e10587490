"""Convolutions. ``conv1d`` slides over time; ``conv2d`` slides over the image grid that
``meta.grid`` describes and falls back to 1-D when there is none. In causal graphs both
pad on the left only, so step t never sees a later step."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from openbrains.engine.footprint import Tensor
from openbrains.engine.signal import SignalSpec
from openbrains.engine.units import Int, Unit, UnitContext
from openbrains.engine.widening import linear
from openbrains.nodes.activation import activation_param, make_activation


def conv_time(t: int | None, stride: int) -> int | None:
    return None if t is None else (t - 1) // stride + 1


class Conv1d(nn.Module):
    """[B, T, C] → [B, T', width] with explicit padding (left-only when causal)."""

    def __init__(
        self,
        c_in: int,
        width: int,
        kernel: int,
        stride: int,
        dilation: int,
        activation: str,
        causal: bool,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv1d(c_in, width, kernel, stride=stride, dilation=dilation)
        total = dilation * (kernel - 1)
        self.pad = (total, 0) if causal else (total // 2, total - total // 2)
        self.act = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.pad(x.transpose(1, 2), self.pad)
        return self.act(self.conv(y)).transpose(1, 2)


class Conv2d(nn.Module):
    """[B, h*w, C] → [B, h'*w', width]: reshape to the grid, convolve, flatten back."""

    def __init__(
        self,
        c_in: int,
        width: int,
        kernel: int,
        stride: int,
        grid: tuple[int, int],
        activation: str,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, width, kernel, stride=stride, padding=kernel // 2)
        self.grid = grid
        self.act = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return over_grid(x, self.grid, lambda y: self.act(self.conv(y)))


def over_grid(
    x: torch.Tensor, grid: tuple[int, int], fn: Callable[[torch.Tensor], torch.Tensor]
) -> torch.Tensor:
    """``fn`` (an NCHW image op) applied to ``[B, h*w, C]`` and flattened back to
    ``[B, h'*w', C']``. The layout is NHWC in memory: channels-last views, no copies."""
    b, _t, c = x.shape
    y = fn(x.reshape(b, grid[0], grid[1], c).permute(0, 3, 1, 2))
    return y.permute(0, 2, 3, 1).reshape(b, -1, y.shape[1])


def _conv1d_infer(ctx: UnitContext) -> SignalSpec:
    p = ctx.params
    spec = ctx.input.with_channels(p["width"])
    if p["stride"] == 1:
        return spec
    return spec.with_time(conv_time(spec.time, p["stride"]))


def _conv1d_build(ctx: UnitContext) -> nn.Module:
    p = ctx.params
    return Conv1d(
        ctx.in_channels,
        p["width"],
        p["kernel"],
        p["stride"],
        p["dilation"],
        p["activation"],
        ctx.causal,
    )


def uses_grid(ctx: UnitContext) -> bool:
    """Whether a 2-D unit convolves a grid here (it slides over time when there is none)."""
    return ctx.input.meta.grid is not None and not ctx.causal


def conv2d_spec(ctx: UnitContext) -> SignalSpec:
    """The output of a 2-D convolution of ``width``, ``kernel`` and ``stride`` (params)."""
    p = ctx.params
    spec = ctx.input.with_channels(p["width"])
    if not uses_grid(ctx):
        return spec if p["stride"] == 1 else spec.with_time(conv_time(spec.time, p["stride"]))
    h, w = ctx.input.meta.grid  # type: ignore[misc]
    k, s = p["kernel"], p["stride"]
    grid = ((h + 2 * (k // 2) - k) // s + 1, (w + 2 * (k // 2) - k) // s + 1)
    return spec.with_time(grid[0] * grid[1], grid)


def _conv2d_build(ctx: UnitContext) -> nn.Module:
    p = ctx.params
    if not uses_grid(ctx):
        return Conv1d(
            ctx.in_channels, p["width"], p["kernel"], p["stride"], 1, p["activation"], ctx.causal
        )
    return Conv2d(
        ctx.in_channels, p["width"], p["kernel"], p["stride"], ctx.input.meta.grid, p["activation"]
    )


def stride_one(params: Mapping[str, Any]) -> bool:
    return params["stride"] == 1


CONV1D = Unit(
    name="conv1d",
    version=1,
    category="conv",
    doc="1-D convolution over time (left-padded in causal graphs).",
    params=(
        Int("width", 32, 1, 1024, "output channels", log=True),
        Int("kernel", 3, 1, 15, "taps along time"),
        Int("stride", 1, 1, 4, "step between windows (shortens time)"),
        Int("dilation", 1, 1, 8, "spacing between taps"),
        activation_param("relu"),
    ),
    infer=_conv1d_infer,
    build=_conv1d_build,
    causal=stride_one,
    source=(
        "LeCun et al. 1989, Backpropagation Applied to Handwritten Zip Code Recognition, "
        "Neural Comput. 1:541; dilations: van den Oord et al. 2016, WaveNet, arXiv:1609.03499"
    ),
    tensors=(Tensor("conv.weight", "width", "C", "kernel"), Tensor("conv.bias", "width")),
    flops="2 * ((T - 1) // stride + 1) * width * C * kernel",
    widening=linear("conv.weight", "conv.bias"),
)

CONV2D = Unit(
    name="conv2d",
    version=1,
    category="conv",
    doc="2-D convolution over the image grid (meta.grid); 1-D over time without a grid.",
    params=(
        Int("width", 16, 1, 512, "output channels", log=True),
        Int("kernel", 3, 1, 7, "square kernel size (odd sizes keep the grid aligned)"),
        Int("stride", 1, 1, 2, "step between windows (shrinks the grid)"),
        activation_param("relu"),
    ),
    infer=conv2d_spec,
    build=_conv2d_build,
    causal=stride_one,
    source=(
        "LeCun et al. 1989, Backpropagation Applied to Handwritten Zip Code Recognition, "
        "Neural Comput. 1:541"
    ),
    tensors=(
        Tensor("conv.weight", "width", "C", "kernel", "kernel", when="has_grid"),
        Tensor("conv.weight", "width", "C", "kernel", when="not has_grid"),
        Tensor("conv.bias", "width"),
    ),
    flops=(
        "2 * width * C * (kernel * kernel * ((rows + 2 * (kernel // 2) - kernel) // stride + 1)"
        " * ((cols + 2 * (kernel // 2) - kernel) // stride + 1) if has_grid"
        " else kernel * ((T - 1) // stride + 1))"
    ),
    widening=linear("conv.weight", "conv.bias"),
)

UNITS = (CONV1D, CONV2D)
