"""Depthwise-separable convolution: each input channel filtered on its own (``multiplier``
filters per channel), then a 1×1 convolution mixes them into ``width`` channels.

A k×k convolution from C to W channels costs C·W·k² weights; the separable one
C·m·k² + C·m·W. Under a small parameter bound that is the difference between a net of
8 channels and one of 20 (docs/decisions.md, "Session 15: small image brains get
depthwise units"). Over the grid of ``meta.grid`` like ``conv2d``; without one it slides over time,
left-padded in causal graphs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from openbrains.engine.footprint import Tensor
from openbrains.engine.units import Int, Unit, UnitContext
from openbrains.engine.widening import Widening
from openbrains.nodes.activation import activation_param, make_activation
from openbrains.nodes.conv import conv2d_spec, over_grid, stride_one, uses_grid


class SepConv2d(nn.Module):
    """[B, h*w, C] → [B, h'*w', width] over the image grid."""

    def __init__(
        self,
        c_in: int,
        width: int,
        kernel: int,
        stride: int,
        multiplier: int,
        grid: tuple[int, int],
        act: str,
    ) -> None:
        super().__init__()
        mid = c_in * multiplier
        self.dw = nn.Conv2d(
            c_in, mid, kernel, stride=stride, padding=kernel // 2, groups=c_in, bias=False
        )
        self.pw = nn.Conv2d(mid, width, 1)
        self.grid = tuple(grid)
        self.act = make_activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return over_grid(x, self.grid, lambda y: self.act(self.pw(self.dw(y))))


class SepConv1d(nn.Module):
    """[B, T, C] → [B, T', width] over time (left-only padding when causal)."""

    def __init__(
        self,
        c_in: int,
        width: int,
        kernel: int,
        stride: int,
        multiplier: int,
        causal: bool,
        act: str,
    ) -> None:
        super().__init__()
        mid = c_in * multiplier
        self.dw = nn.Conv1d(c_in, mid, kernel, stride=stride, groups=c_in, bias=False)
        self.pw = nn.Conv1d(mid, width, 1)
        total = kernel - 1
        self.pad = (total, 0) if causal else (total // 2, total - total // 2)
        self.act = make_activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.pad(x.transpose(1, 2), self.pad)
        return self.act(self.pw(self.dw(y))).transpose(1, 2)


def _build(ctx: UnitContext) -> nn.Module:
    p = ctx.params
    args = (ctx.in_channels, p["width"], p["kernel"], p["stride"], p["multiplier"])
    if uses_grid(ctx):
        return SepConv2d(*args, ctx.input.meta.grid, p["activation"])
    return SepConv1d(*args, ctx.causal, p["activation"])


_CELLS = (
    "(((rows + 2 * (kernel // 2) - kernel) // stride + 1)"
    " * ((cols + 2 * (kernel // 2) - kernel) // stride + 1) if has_grid"
    " else (T - 1) // stride + 1)"
)

SEPCONV2D = Unit(
    name="sepconv2d",
    version=1,
    category="conv",
    doc=(
        "Depthwise-separable 2-D convolution: a k×k filter per input channel, then a 1×1 "
        "convolution to `width` channels; over time without a grid."
    ),
    params=(
        Int("width", 16, 1, 512, "output channels", log=True),
        Int("kernel", 3, 1, 7, "square kernel size of the per-channel filters"),
        Int("stride", 1, 1, 2, "step between windows (shrinks the grid)"),
        Int("multiplier", 1, 1, 4, "per-channel filters for each input channel"),
        activation_param("relu"),
    ),
    infer=conv2d_spec,
    build=_build,
    causal=stride_one,
    source=(
        "Sifre 2014, Rigid-Motion Scattering for Image Classification (PhD thesis); "
        "Chollet 2017, Xception, CVPR, arXiv:1610.02357; Howard et al. 2017, MobileNets, "
        "arXiv:1704.04861"
    ),
    tensors=(
        Tensor("dw.weight", "C * multiplier", "1", "kernel", "kernel", when="has_grid"),
        Tensor("dw.weight", "C * multiplier", "1", "kernel", when="not has_grid"),
        Tensor("pw.weight", "width", "C * multiplier", "1", "1", when="has_grid"),
        Tensor("pw.weight", "width", "C * multiplier", "1", when="not has_grid"),
        Tensor("pw.bias", "width"),
    ),
    flops=f"2 * C * multiplier * (kernel ** (1 + has_grid) + width) * {_CELLS}",
    # its own width grows exactly (the 1×1 mix); a copied input channel copies its
    # filters, and the mix splits their columns between the copies
    widening=Widening(
        outputs={"pw.weight": 0, "pw.bias": 0},
        grouped={"dw.weight": 0},
        grouped_inputs={"pw.weight": 1},
    ),
)

UNITS = (SEPCONV2D,)
