"""Gated linear-attention time mix (RWKV-4), causal and streaming, computed in parallel.

Peng et al. 2023, "RWKV: Reinventing RNNs for the Transformer Era", arXiv:2305.13048
(the "time-mixing" block); linear attention as an RNN: Katharopoulos et al. 2020,
"Transformers are RNNs", arXiv:2006.16236.

Each step mixes the current input with the previous one (token shift), forms key k,
value v and receptance r, and reads a softmax-free attention over the whole past with a
learned per-channel exponential decay w > 0 and a bonus u for the current step:

    wkv_t = (Σ_{i<t} e^{-(t-1-i)·w + k_i}·v_i + e^{u + k_t}·v_t) / (same without v)
    out_t = x_t + W_o·(σ(r_t) ⊙ wkv_t)            (W_o zero at birth: identity)

wkv_t is a weighted mean of values whose weights are exponentials, i.e. a softmax over the
past per channel with the logits (t-1-i)·(-w) + k_i: within a block of steps it is computed
at once as a masked softmax (future logits -inf, so step t never sees a later step, to the
bit). Everything before the block is summarised by the state: the weighted mean of its
values and the log of its total weight, which enters each row as one more logit, aged by
the decay. The state is therefore (last input, mean value, log weight), the same for any
chunking of a stream; long inputs run block by block (a fixed loop over blocks).
"""

from __future__ import annotations

import torch
from openbrains.engine.footprint import Tensor
from openbrains.engine.units import Int, Unit, UnitContext
from torch import nn

State = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
NO_WEIGHT = -1e38  # log weight of an empty past (e^-1e38 = 0)
BLOCK = 16  # steps per parallel block: work grows with its square, op count with its inverse


class TimeMix(nn.Module):
    def __init__(self, channels: int, inner: int) -> None:
        super().__init__()
        self.time_decay = nn.Parameter(torch.linspace(-4.0, 1.0, inner))  # w = exp(·)
        self.time_first = nn.Parameter(torch.zeros(inner))  # u
        ramp = torch.linspace(0.0, 1.0, channels)
        self.mix_k = nn.Parameter(0.2 + 0.6 * ramp)
        self.mix_v = nn.Parameter(0.3 + 0.6 * ramp)
        self.mix_r = nn.Parameter(0.1 + 0.4 * ramp)
        self.key = nn.Linear(channels, inner, bias=False)
        self.value = nn.Linear(channels, inner, bias=False)
        self.receptance = nn.Linear(channels, inner, bias=False)
        self.output = nn.Linear(inner, channels, bias=False)
        nn.init.zeros_(self.output.weight)

    def forward(self, x: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        b, t, c = x.shape
        inner = self.time_decay.shape[0]
        if state is None:
            zeros = x.new_zeros(b, inner)
            state = (x.new_zeros(b, c), zeros, torch.full_like(zeros, NO_WEIGHT))
        last, mean, log_weight = state
        prev = torch.cat([last[:, None], x[:, :-1]], dim=1)  # token shift
        k = self.key(x * self.mix_k + prev * (1 - self.mix_k)).transpose(1, 2)  # [B, A, T]
        v = self.value(x * self.mix_v + prev * (1 - self.mix_v)).transpose(1, 2)
        r = torch.sigmoid(self.receptance(x * self.mix_r + prev * (1 - self.mix_r)))
        outs = []
        for start in range(0, t, BLOCK):
            wkv, mean, log_weight = self._block(
                k[..., start : start + BLOCK], v[..., start : start + BLOCK], mean, log_weight
            )
            outs.append(wkv)
        wkv = torch.cat(outs, dim=-1).transpose(1, 2)  # [B, T, A]
        return x + self.output(r * wkv), (x[:, -1], mean, log_weight)

    def _block(
        self, k: torch.Tensor, v: torch.Tensor, mean: torch.Tensor, log_weight: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """wkv for one block ([B, A, L] keys and values) and the state after it.

        Row t's logits over [carried past, step 0 … step L-1] are a bias that depends only
        on the params (t·w; (t-1-i)·w before t; u at t; -inf after t) plus the column's own
        key (the carried log weight for the past): one broadcast add, no [B, A, L, L] copies.
        """
        steps = k.shape[-1]
        w = -torch.exp(self.time_decay)[:, None, None]  # [A, 1, 1] log decay per step
        pos = torch.arange(steps, device=k.device)
        lag = (pos[:, None] - 1 - pos[None, :]).to(k.dtype)  # [L, L]: t-1-i
        bias = torch.where(lag >= 0, lag * w, self.time_first[:, None, None])
        bias = bias.masked_fill(lag < -1, float("-inf"))  # [A, L, L]
        bias = torch.cat([pos.to(k.dtype)[:, None] * w, bias], dim=-1)  # [A, L, 1 + L]
        keys = torch.cat([log_weight[..., None], k], dim=-1)  # [B, A, 1 + L]
        values = torch.cat([mean[..., None], v], dim=-1)
        weights = torch.softmax(bias + keys[..., None, :], dim=-1)  # [B, A, L, 1 + L]
        wkv = (weights @ values[..., None])[..., 0]
        # the state after the block: every step and the carried past, aged to its end
        age = torch.cat([pos.new_full((1,), steps), steps - 1 - pos]).to(k.dtype) * w[..., 0]
        final = age + keys  # [B, A, 1 + L]
        new_mean = (torch.softmax(final, dim=-1) * values).sum(-1)
        return wkv, new_mean, torch.logsumexp(final, dim=-1)


def _build(ctx: UnitContext) -> nn.Module:
    return TimeMix(ctx.in_channels, ctx.params["inner"])


RWKV = Unit(
    name="rwkv",
    version=1,
    category="attention",
    doc=(
        "Gated linear attention over the past with a learned per-channel decay (RWKV-4 "
        "time mix), parallel over time; a fixed-size state; x + zero-initialised projection."
    ),
    source=(
        "Peng et al. 2023, RWKV: Reinventing RNNs for the Transformer Era, arXiv:2305.13048; "
        "Katharopoulos et al. 2020, Transformers are RNNs, arXiv:2006.16236"
    ),
    params=(Int("inner", 32, 4, 256, "attention channels (keys, values, receptance)", log=True),),
    build=_build,
    stateful=True,
    starts_as_identity=True,
    tensors=(
        Tensor("time_decay", "inner"),
        Tensor("time_first", "inner"),
        Tensor("mix_k", "C"),
        Tensor("mix_v", "C"),
        Tensor("mix_r", "C"),
        Tensor("key.weight", "inner", "C"),
        Tensor("value.weight", "inner", "C"),
        Tensor("receptance.weight", "inner", "C"),
        Tensor("output.weight", "C", "inner"),
    ),
    flops="8 * T * C * inner + 2 * inner * (T + 256 * (T // 16) + (T % 16) ** 2)",
)

UNITS = (RWKV,)
