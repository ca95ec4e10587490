"""GRU and LSTM over time. State is explicit: ``forward(x, state)`` returns ``(y, state)``
so a brain can run a stream chunk by chunk and carry memory across chunks."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from openbrains.engine.footprint import Tensor
from openbrains.engine.units import Int, Unit, width_from
from openbrains.engine.widening import Widening


class GRU(nn.Module):
    def __init__(self, c_in: int, hidden: int) -> None:
        super().__init__()
        self.rnn = nn.GRU(c_in, hidden, batch_first=True)

    def forward(self, x: torch.Tensor, state: torch.Tensor | None) -> tuple[torch.Tensor, Any]:
        return self.rnn(x, state)


class LSTM(nn.Module):
    def __init__(self, c_in: int, hidden: int) -> None:
        super().__init__()
        self.rnn = nn.LSTM(c_in, hidden, batch_first=True)

    def forward(self, x: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        return self.rnn(x, state)


def _rnn_widening(gates: int) -> Widening:
    """Rows stack ``gates`` blocks of the hidden units; the hidden-to-hidden matrix also
    reads them back (its columns)."""
    keys = ("rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0")
    return Widening(
        outputs=dict.fromkeys(keys, 0),
        gates=gates,
        feedback={"rnn.weight_hh_l0": 1},
        inputs={"rnn.weight_ih_l0": 1},
    )


_HIDDEN = Int("width", 32, 2, 1024, "hidden units (output channels)", log=True)

GRU_UNIT = Unit(
    name="gru",
    version=1,
    category="recurrent",
    doc="Gated recurrent unit over time; carries its hidden state across stream chunks.",
    params=(_HIDDEN,),
    infer=width_from("width"),
    build=lambda ctx: GRU(ctx.in_channels, ctx.params["width"]),
    stateful=True,
    source=(
        "Cho et al. 2014, Learning Phrase Representations using RNN Encoder-Decoder, "
        "arXiv:1406.1078"
    ),
    tensors=(
        Tensor("rnn.weight_ih_l0", "3 * width", "C"),
        Tensor("rnn.weight_hh_l0", "3 * width", "width"),
        Tensor("rnn.bias_ih_l0", "3 * width"),
        Tensor("rnn.bias_hh_l0", "3 * width"),
    ),
    flops="6 * T * width * (C + width)",
    widening=_rnn_widening(gates=3),
)

LSTM_UNIT = Unit(
    name="lstm",
    version=1,
    category="recurrent",
    doc="Long short-term memory over time; carries (h, c) across stream chunks.",
    params=(_HIDDEN,),
    infer=width_from("width"),
    build=lambda ctx: LSTM(ctx.in_channels, ctx.params["width"]),
    stateful=True,
    source="Hochreiter & Schmidhuber 1997, Long Short-Term Memory, Neural Comput. 9:1735",
    tensors=(
        Tensor("rnn.weight_ih_l0", "4 * width", "C"),
        Tensor("rnn.weight_hh_l0", "4 * width", "width"),
        Tensor("rnn.bias_ih_l0", "4 * width"),
        Tensor("rnn.bias_hh_l0", "4 * width"),
    ),
    flops="8 * T * width * (C + width)",
    widening=_rnn_widening(gates=4),
)


UNITS = (GRU_UNIT, LSTM_UNIT)
