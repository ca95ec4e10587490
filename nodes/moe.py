"""Sparse mixture of experts: a learned gate picks the top k of several small dense experts.

Shazeer et al. 2017, "Outrageously Large Neural Networks: The Sparsely-Gated
Mixture-of-Experts Layer", arXiv:1701.06538; the load-balancing loss is the one of
Fedus, Zoph & Shazeer 2021, "Switch Transformers", arXiv:2101.03961.

Per step: gate logits g = W_g·x; the k largest keep their softmax weight, the others get
none; each expert is a one-hidden-layer ReLU MLP; the output is the gate-weighted sum.
At these sizes gathering tokens per expert costs more than it saves, so every expert runs
on every step and the unselected ones are multiplied by zero: the function is sparse, the
arithmetic dense, and the forward has no data-dependent shapes (it traces and exports; a C
emitter may skip the experts whose weight is zero).

The balancing loss (weight ``balance``) is attached as a local loss on the detached input
(``nodes/local_signal.py``), so it trains the gate alone.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from openbrains.engine.footprint import Tensor
from openbrains.engine.units import Float, Int, Unit, UnitContext, width_from
from openbrains.engine.widening import Widening
from openbrains.nodes.local_signal import with_local_loss


def _uniform(*shape: int, fan_in: int) -> nn.Parameter:
    bound = 1 / math.sqrt(fan_in)
    return nn.Parameter(torch.empty(*shape).uniform_(-bound, bound))


class MixtureOfExperts(nn.Module):
    def __init__(
        self, channels: int, width: int, experts: int, top_k: int, hidden: int, balance: float
    ) -> None:
        super().__init__()
        self.top_k, self.balance = min(top_k, experts), balance
        self.gate = nn.Linear(channels, experts, bias=False)
        self.w1 = _uniform(experts, hidden, channels, fan_in=channels)
        self.b1 = _uniform(experts, hidden, fan_in=channels)
        self.w2 = _uniform(experts, width, hidden, fan_in=hidden)
        self.b2 = _uniform(experts, width, fan_in=hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.gate(x)  # [B, T, E]
        kth = torch.topk(logits, self.top_k, dim=-1).values[..., -1:]
        chosen = logits >= kth
        weights = torch.softmax(logits.masked_fill(~chosen, float("-inf")), dim=-1)
        hidden = torch.relu(torch.einsum("btc,ehc->bteh", x, self.w1) + self.b1)
        each = torch.einsum("bteh,ewh->btew", hidden, self.w2) + self.b2
        y = torch.einsum("bte,btew->btw", weights, each)
        if not self.training or self.balance == 0.0:
            return y
        return with_local_loss(y, self.balance * self._imbalance(x.detach(), chosen))

    def _imbalance(self, x: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
        """Switch loss: experts · Σ_e (share of picks of e) · (mean gate probability of e)."""
        experts = chosen.shape[-1]
        probs = torch.softmax(self.gate(x), dim=-1).reshape(-1, experts).mean(0)
        picks = chosen.reshape(-1, experts).to(x.dtype).mean(0) / self.top_k
        return experts * (picks * probs).sum()


def _build(ctx: UnitContext) -> nn.Module:
    p = ctx.params
    return MixtureOfExperts(
        ctx.in_channels, p["width"], p["experts"], p["top_k"], p["hidden"], p["balance"]
    )


MOE = Unit(
    name="moe",
    version=1,
    category="learning",
    doc=(
        "Sparse mixture of experts: a gate keeps the top k of `experts` small ReLU MLPs "
        "per step and mixes their outputs by its softmax weights."
    ),
    source=(
        "Shazeer et al. 2017, Outrageously Large Neural Networks: The Sparsely-Gated "
        "Mixture-of-Experts Layer, arXiv:1701.06538; Fedus et al. 2021, Switch Transformers, "
        "arXiv:2101.03961"
    ),
    params=(
        Int("width", 32, 1, 1024, "output channels", log=True),
        Int("experts", 4, 2, 8, "number of experts"),
        Int("top_k", 2, 1, 4, "experts used per step (at most `experts`)"),
        Int("hidden", 16, 2, 256, "hidden units of each expert", log=True),
        Float("balance", 0.01, 0.0, 0.1, "weight of the load-balancing loss"),
    ),
    infer=width_from("width"),
    build=_build,
    widening=Widening(outputs={"w2": 1, "b2": 1}, inputs={"gate.weight": 1, "w1": 2}),
    tensors=(
        Tensor("gate.weight", "experts", "C"),
        Tensor("w1", "experts", "hidden", "C"),
        Tensor("b1", "experts", "hidden"),
        Tensor("w2", "experts", "width", "hidden"),
        Tensor("b2", "experts", "width"),
    ),
    flops="2 * T * experts * (C + hidden * C + width * hidden + width)",
)

UNITS = (MOE,)
