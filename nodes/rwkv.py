"""Gated linear-attention time mix (RWKV-4), causal and streaming.

Peng et al. 2023, "RWKV: Reinventing RNNs for the Transformer Era", arXiv:2305.13048
(the "time-mixing" block); linear attention as an RNN: Katharopoulos et al. 2020,
"Transformers are RNNs", arXiv:2006.16236.

Each step mixes the current input with the previous one (token shift), forms key k,
value v and receptance r, and reads a softmax-free attention over the whole past with a
learned per-channel exponential decay w > 0 and a bonus u for the current step:

    wkv_t = (Σ_{i<t} e^{-(t-1-i)·w + k_i}·v_i + e^{u + k_t}·v_t) / (same without v)
    out_t = x_t + W_o·(σ(r_t) ⊙ wkv_t)            (W_o zero at birth: identity)

The sums are carried as a running numerator, denominator and shared exponent, the
numerically safe form of the reference kernel, so the state is four ``[B, ·]`` tensors and a
stream cut into chunks computes what the whole sequence does. Keys, values and receptance
are computed for the whole chunk at once; the recurrence is a fixed loop of a dozen small
tensor ops per step (no data-dependent control flow, so it traces). A parallel form exists
(wkv is a masked softmax per channel, blockwise) and is what the tests check this against;
on CPU it was 1.2–4× slower for training than this loop except at the tiniest sizes
(docs/decisions.md).
"""

from __future__ import annotations

import torch
from torch import nn

from openbrains.engine.footprint import Tensor
from openbrains.engine.units import Int, Unit, UnitContext
from openbrains.engine.widening import Widening

State = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
NO_EXPONENT = -1e38  # the shared exponent before any step was seen (e^-1e38 = 0)


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
        b, _, c = x.shape
        if state is None:
            zeros = x.new_zeros(b, self.time_decay.shape[0])
            state = (x.new_zeros(b, c), zeros, zeros, torch.full_like(zeros, NO_EXPONENT))
        last, num, den, top = state
        prev = torch.cat([last[:, None], x[:, :-1]], dim=1)  # token shift
        k = self.key(x * self.mix_k + prev * (1 - self.mix_k))
        v = self.value(x * self.mix_v + prev * (1 - self.mix_v))
        r = torch.sigmoid(self.receptance(x * self.mix_r + prev * (1 - self.mix_r)))
        w, u = -torch.exp(self.time_decay), self.time_first
        outs = []
        for kt, vt in zip(k.unbind(1), v.unbind(1)):
            now = u + kt  # the current step, with its bonus
            p = torch.maximum(top, now)
            e_past, e_now = torch.exp(top - p), torch.exp(now - p)
            outs.append((e_past * num + e_now * vt) / (e_past * den + e_now))
            aged = top + w  # the past, one step older
            p = torch.maximum(aged, kt)
            e_past, e_now = torch.exp(aged - p), torch.exp(kt - p)
            num, den, top = e_past * num + e_now * vt, e_past * den + e_now, p
        wkv = torch.stack(outs, dim=1)
        return x + self.output(r * wkv), (x[:, -1], num, den, top)


def _build(ctx: UnitContext) -> nn.Module:
    return TimeMix(ctx.in_channels, ctx.params["inner"])


RWKV = Unit(
    name="rwkv",
    version=1,
    category="attention",
    doc=(
        "Gated linear attention over the past with a learned per-channel decay (RWKV-4 "
        "time mix); a fixed-size recurrent state; x + zero-initialised projection."
    ),
    source=(
        "Peng et al. 2023, RWKV: Reinventing RNNs for the Transformer Era, arXiv:2305.13048; "
        "Katharopoulos et al. 2020, Transformers are RNNs, arXiv:2006.16236"
    ),
    params=(Int("inner", 32, 4, 256, "attention channels (keys, values, receptance)", log=True),),
    build=_build,
    stateful=True,
    starts_as_identity=True,
    widening=Widening(
        inputs=dict.fromkeys(("key.weight", "value.weight", "receptance.weight"), 1),
        per_channel=dict.fromkeys(("mix_k", "mix_v", "mix_r", "output.weight"), 0),
        carry="same",
    ),
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
    flops="8 * T * C * inner",
)

UNITS = (RWKV,)
