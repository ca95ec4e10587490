"""Token ids → vectors. Reads a token signal (channel 0 holds ids, ``meta.vocab`` set);
for text the vocabulary is the 256 byte values."""

from __future__ import annotations

import torch
from torch import nn

from openbrains.engine.footprint import Tensor
from openbrains.engine.signal import SignalSpec
from openbrains.engine.units import Int, Port, Unit, UnitContext
from openbrains.engine.widening import Widening


class Embedding(nn.Module):
    def __init__(self, vocab: int, width: int) -> None:
        super().__init__()
        self.vocab = vocab
        self.table = nn.Embedding(vocab, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ids = x[..., 0].long().clamp_(0, self.vocab - 1)
        return self.table(ids)


def _infer(ctx: UnitContext) -> SignalSpec:
    return ctx.input.with_channels(ctx.params["width"])


def _build(ctx: UnitContext) -> nn.Module:
    return Embedding(ctx.input.meta.vocab or 256, ctx.params["width"])


EMBEDDING = Unit(
    name="embedding",
    version=1,
    category="embedding",
    doc="Looks up a learned vector per token id (bytes: 256 ids).",
    params=(Int("width", 32, 2, 1024, "vector size", log=True),),
    inputs=(Port("in", "tokens"),),
    infer=_infer,
    build=_build,
    source="Bengio et al. 2003, A Neural Probabilistic Language Model, JMLR 3:1137",
    tensors=(Tensor("table.weight", "V", "width"),),
    flops="0",
    widening=Widening(outputs={"table.weight": 1}),
)

UNITS = (EMBEDDING,)
