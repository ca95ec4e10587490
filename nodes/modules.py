"""torch modules shared by several unit families."""

from __future__ import annotations

import torch
from torch import nn

from openbrains.engine.ops import resize_time


class OutputAdapter(nn.Module):
    """Maps the last signal to the output's width (learned Linear) and time (pooling)."""

    def __init__(self, c_in: int, c_out: int, time: int | None) -> None:
        super().__init__()
        self.adapter = nn.Linear(c_in, c_out) if c_in != c_out else None
        self.time = time

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.time is not None and x.shape[1] != self.time:
            x = resize_time(x, self.time)
        if self.adapter is not None:
            x = self.adapter(x)
        return x
