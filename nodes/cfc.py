"""Closed-form continuous-time cell (CfC), the closed-form solution of a liquid
time-constant network.

Hasani et al. 2022, "Closed-form continuous-time neural networks", Nature Machine
Intelligence 4:992, arXiv:2106.13898 (liquid time-constant networks: Hasani et al. 2021,
AAAI, arXiv:2006.04439).

Per step, with elapsed time 1 between steps: a backbone z = lecun_tanh(W·[x_t, h_{t-1}] + b)
feeds four heads; h_t = tanh(f1)·(1 - σ(t_a + t_b)) + σ(t_a + t_b)·tanh(f2). The sigmoid is
the closed-form time gate that replaces an ODE solver. The input half of the backbone is
computed for the whole chunk at once; the recurrence is a fixed loop over steps (it traces),
carrying h across chunks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from openbrains.engine.footprint import Tensor
from openbrains.engine.units import Int, Unit, UnitContext, width_from


def lecun_tanh(x: torch.Tensor) -> torch.Tensor:
    return 1.7159 * torch.tanh(0.666 * x)


class CfC(nn.Module):
    def __init__(self, channels: int, width: int, backbone: int) -> None:
        super().__init__()
        self.channels = channels
        self.backbone = nn.Linear(channels + width, backbone)
        self.heads = nn.Linear(backbone, 4 * width)  # f1, f2, t_a, t_b stacked

    def forward(
        self, x: torch.Tensor, state: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        b = x.shape[0]
        width = self.heads.weight.shape[0] // 4
        h = x.new_zeros(b, width) if state is None else state
        w_in, w_rec = self.backbone.weight.split([self.channels, width], dim=1)
        drive = F.linear(x, w_in, self.backbone.bias)  # [B, T, backbone]
        w_rec_t = w_rec.t()
        outs = []
        for drive_i in drive.unbind(1):
            z = lecun_tanh(drive_i + h @ w_rec_t)
            f1, f2, t_a, t_b = self.heads(z).chunk(4, dim=-1)
            gate = torch.sigmoid(t_a + t_b)  # σ(t_a·Δt + t_b) with Δt = 1
            h = torch.tanh(f1) * (1 - gate) + gate * torch.tanh(f2)
            outs.append(h)
        return torch.stack(outs, dim=1), h


def _build(ctx: UnitContext) -> nn.Module:
    return CfC(ctx.in_channels, ctx.params["width"], ctx.params["backbone"])


CFC = Unit(
    name="cfc",
    version=1,
    category="recurrent",
    doc=(
        "Closed-form continuous-time (liquid) cell: a backbone and a sigmoid time gate "
        "blending two tanh heads; carries its hidden state across stream chunks."
    ),
    source=(
        "Hasani et al. 2022, Closed-form continuous-time neural networks, Nat. Mach. Intell. "
        "4:992, arXiv:2106.13898"
    ),
    params=(
        Int("width", 32, 2, 512, "hidden units (output channels)", log=True),
        Int("backbone", 32, 4, 256, "units of the shared backbone layer", log=True),
    ),
    infer=width_from("width"),
    build=_build,
    stateful=True,
    tensors=(
        Tensor("backbone.weight", "backbone", "C + width"),
        Tensor("backbone.bias", "backbone"),
        Tensor("heads.weight", "4 * width", "backbone"),
        Tensor("heads.bias", "4 * width"),
    ),
    flops="2 * T * backbone * (C + 5 * width)",
)

UNITS = (CFC,)
