"""Multi-head self-attention over time. Causal when asked, and always in causal graphs.
Projects back to the input width so it drops into residual paths."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from openbrains.engine.footprint import Tensor
from openbrains.engine.units import Bool, Choice, Int, Unit, UnitContext
from openbrains.engine.widening import Widening


class SelfAttention(nn.Module):
    def __init__(self, c_in: int, heads: int, head_dim: int, causal: bool) -> None:
        super().__init__()
        self.heads, self.head_dim, self.causal = heads, head_dim, causal
        inner = heads * head_dim
        self.qkv = nn.Linear(c_in, 3 * inner)
        self.proj = nn.Linear(inner, c_in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        qkv = self.qkv(x).view(b, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_causal=self.causal)
        return self.proj(y.transpose(1, 2).reshape(b, t, -1))


def _build(ctx: UnitContext) -> nn.Module:
    p = ctx.params
    return SelfAttention(ctx.in_channels, p["heads"], p["head_dim"], p["causal"] or ctx.causal)


ATTENTION = Unit(
    name="attention",
    version=1,
    category="attention",
    doc="Multi-head self-attention over time (scaled dot product), output width = input width.",
    params=(
        Choice("heads", 2, (1, 2, 4, 8), "attention heads"),
        Int("head_dim", 16, 4, 64, "channels per head", log=True),
        Bool("causal", False, "mask the future (forced on in causal graphs)"),
    ),
    build=_build,
    source="Vaswani et al. 2017, Attention Is All You Need, arXiv:1706.03762",
    tensors=(
        Tensor("qkv.weight", "3 * heads * head_dim", "C"),
        Tensor("qkv.bias", "3 * heads * head_dim"),
        Tensor("proj.weight", "C", "heads * head_dim"),
        Tensor("proj.bias", "C"),
    ),
    flops="8 * T * C * heads * head_dim + 4 * T * T * heads * head_dim",
    widening=Widening(
        inputs={"qkv.weight": 1},
        per_channel={"proj.weight": 0, "proj.bias": 0},
        carry="same",
    ),
)

UNITS = (ATTENTION,)
