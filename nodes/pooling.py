"""Pooling over the grid (2-D) or over time (1-D), locally or globally. In causal graphs it
becomes a running form: each step pools over itself and its past, and time is kept."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from openbrains.engine.signal import SignalSpec
from openbrains.engine.units import Choice, Int, Unit, UnitContext
from openbrains.engine.widening import CHANNELWISE


def _causal_window_avg(x: torch.Tensor, size: int | None) -> torch.Tensor:
    c = torch.cumsum(x, dim=1)
    t = x.shape[1]
    steps = torch.arange(1, t + 1, device=x.device, dtype=x.dtype).view(1, t, 1)
    if size is None or size >= t:
        return c / steps
    shifted = F.pad(c, (0, 0, size, 0))[:, :t]
    return (c - shifted) / steps.clamp(max=size)


def _causal_window_max(x: torch.Tensor, size: int | None) -> torch.Tensor:
    if size is None:
        return torch.cummax(x, dim=1).values
    y = F.pad(x.transpose(1, 2), (size - 1, 0), mode="replicate")
    return F.max_pool1d(y, size, stride=1).transpose(1, 2)


class Pool(nn.Module):
    def __init__(
        self, kind: str, size: int, scope: str, grid: tuple[int, int] | None, causal: bool
    ) -> None:
        super().__init__()
        self.kind, self.size, self.scope, self.grid, self.causal = kind, size, scope, grid, causal

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.causal:
            window = None if self.scope == "global" else self.size
            return (_causal_window_avg if self.kind == "avg" else _causal_window_max)(x, window)
        if self.scope == "global":
            return x.mean(1, keepdim=True) if self.kind == "avg" else x.amax(1, keepdim=True)
        if self.grid is not None:  # channels-last view of [B, h*w, C]: no copies
            b, _t, c = x.shape
            y = x.reshape(b, self.grid[0], self.grid[1], c).permute(0, 3, 1, 2)
            k = (min(self.size, self.grid[0]), min(self.size, self.grid[1]))
            y = (F.avg_pool2d if self.kind == "avg" else F.max_pool2d)(y, k, k, ceil_mode=True)
            return y.permute(0, 2, 3, 1).reshape(b, -1, c)
        y = x.transpose(1, 2)
        k = min(self.size, y.shape[-1])
        y = (F.avg_pool1d if self.kind == "avg" else F.max_pool1d)(y, k, k, ceil_mode=True)
        return y.transpose(1, 2)


def _pooled(n: int, size: int) -> int:
    k = min(size, n)
    return math.ceil(n / k)


def _infer(ctx: UnitContext) -> SignalSpec:
    p, spec = ctx.params, ctx.input
    if ctx.causal:
        return spec
    if p["scope"] == "global":
        return spec.with_time(1)
    if spec.meta.grid is not None:
        h, w = spec.meta.grid
        grid = (_pooled(h, p["size"]), _pooled(w, p["size"]))
        return spec.with_time(grid[0] * grid[1], grid)
    return spec.with_time(None if spec.time is None else _pooled(spec.time, p["size"]))


def _build(ctx: UnitContext) -> nn.Module:
    p = ctx.params
    grid = None if ctx.causal else ctx.input.meta.grid
    return Pool(p["kind"], p["size"], p["scope"], grid, ctx.causal)


POOL = Unit(
    name="pool",
    version=1,
    category="pooling",
    doc="Average or max pooling over the grid or time; global pooling keeps one step.",
    params=(
        Choice("kind", "avg", ("avg", "max"), "average or maximum"),
        Int("size", 2, 2, 4, "window and stride"),
        Choice("scope", "window", ("window", "global"), "pool windows, or all steps at once"),
    ),
    infer=_infer,
    build=_build,
    source=(
        "LeCun et al. 1998, Gradient-Based Learning Applied to Document Recognition "
        "(subsampling layers), Proc. IEEE 86:2278"
    ),
    flops="0",
    widening=CHANNELWISE,
)

UNITS = (POOL,)
