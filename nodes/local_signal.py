"""A dense layer that learns from a *local* signal instead of the task's gradient.

Two signals, chosen by the ``signal`` param (so evolution can switch between them):

- ``forward_forward`` (Hinton 2022, "The Forward-Forward Algorithm: Some Preliminary
  Investigations", arXiv:2212.13345): the layer's *goodness* (mean squared activity) should
  be high on real inputs and low on negative ones. Negatives are the same batch with each
  channel shuffled independently across examples and steps, which keeps every feature's
  distribution and destroys the correlations between features. The output is the activity
  normalised to unit RMS, so the next layer cannot read the goodness itself.
- ``predictive_coding`` (Rao & Ballard 1999, Nature Neuroscience 2:79; with amortised
  inference as in Whittington & Bogacz 2017, Neural Computation 29:1229): a top-down weight
  predicts the layer's input from its output; the update follows the local prediction
  error, i.e. the gradient of ``|x - G·f(Wx)|²`` with respect to the layer's own W and G.

How it fits the one training loop (DESIGN §3.6, docs/decisions.md): the layer's weights
are ordinary parameters, but the output the graph sees is computed from *detached* copies
of them, so the task's gradient passes through the layer to upstream units and never
changes it; the local loss, computed on the detached input, is attached to the output by
``with_local_loss`` and reaches only the layer's own weights in the same backward pass.
The optimiser, its schedule, frozen flags and the batched (vmap) trainer then work unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from openbrains.engine.footprint import Tensor
from openbrains.engine.units import Choice, Float, Int, Unit, UnitContext, width_from
from openbrains.engine.widening import Widening

SIGNALS = ("forward_forward", "predictive_coding")
FF_THRESHOLD = 2.0  # goodness (mean squared activity) that separates real from negative


class _WithLocalLoss(torch.autograd.Function):
    """Identity on ``y``; in backward, a gradient of one for ``loss`` (so d loss / d θ is
    added to whatever the task's loss gives the same parameters)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(y: torch.Tensor, loss: torch.Tensor) -> torch.Tensor:
        return y.view_as(y)

    @staticmethod
    def setup_context(ctx: object, inputs: tuple, output: torch.Tensor) -> None:
        pass

    @staticmethod
    def backward(ctx: object, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return grad, grad.new_ones(())


def with_local_loss(y: torch.Tensor, loss: torch.Tensor) -> torch.Tensor:
    """``y`` unchanged, carrying ``loss`` into the backward pass of whatever uses ``y``.

    Whoever calls ``backward`` on the task's loss also minimises ``loss``; build ``loss``
    from detached inputs so its gradient stays inside the unit that made it.
    """
    return _WithLocalLoss.apply(y, loss)


def shuffled_channels(rows: torch.Tensor) -> torch.Tensor:
    """Each column of ``[N, C]`` permuted on its own: the product of the marginals."""
    order = torch.argsort(torch.rand(rows.shape, device=rows.device, dtype=rows.dtype), dim=0)
    return torch.gather(rows, 0, order)


class LocalDense(nn.Module):
    def __init__(self, c_in: int, width: int, signal: str, rate: float) -> None:
        super().__init__()
        self.linear = nn.Linear(c_in, width)
        self.predict = nn.Linear(width, c_in, bias=False) if signal == SIGNALS[1] else None
        self.signal, self.rate = signal, rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w, b = self.linear.weight, self.linear.bias
        y = torch.relu(F.linear(x, w.detach(), b.detach()))
        if self.signal == SIGNALS[0]:
            y = y * torch.rsqrt(y.pow(2).mean(-1, keepdim=True) + 1e-6)
        if not self.training:
            return y
        rows = x.detach().reshape(-1, x.shape[-1])
        loss = self._forward_forward(rows) if self.predict is None else self._predictive(rows)
        return with_local_loss(y, loss * self.rate)

    def _goodness(self, rows: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(rows)).pow(2).mean(-1)

    def _forward_forward(self, rows: torch.Tensor) -> torch.Tensor:
        pos = self._goodness(rows)
        neg = self._goodness(shuffled_channels(rows))
        return F.softplus(FF_THRESHOLD - pos).mean() + F.softplus(neg - FF_THRESHOLD).mean()

    def _predictive(self, rows: torch.Tensor) -> torch.Tensor:
        assert self.predict is not None
        error = rows - self.predict(torch.relu(self.linear(rows)))
        return error.pow(2).mean()


def _build(ctx: UnitContext) -> nn.Module:
    p = ctx.params
    return LocalDense(ctx.in_channels, p["width"], p["signal"], p["rate"])


LOCAL_DENSE = Unit(
    name="local_dense",
    version=1,
    category="local",
    doc=(
        "Dense ReLU layer trained by a local signal (forward-forward goodness or a "
        "predictive-coding error), not by the task's gradient, which it passes upstream."
    ),
    source=(
        "Hinton 2022, The Forward-Forward Algorithm, arXiv:2212.13345; Rao & Ballard 1999, "
        "Predictive coding in the visual cortex, Nat. Neurosci. 2:79"
    ),
    params=(
        Int("width", 32, 1, 1024, "output channels", log=True),
        Choice("signal", SIGNALS[0], SIGNALS, "which local learning signal trains the layer"),
        Float("rate", 1.0, 0.01, 10.0, "weight of the local loss beside the task's", log=True),
    ),
    infer=width_from("width"),
    build=_build,
    widening=Widening(inputs={"linear.weight": 1}),
    tensors=(
        Tensor("linear.weight", "width", "C"),
        Tensor("linear.bias", "width"),
        Tensor("predict.weight", "C", "width", when="signal == 'predictive_coding'"),
    ),
    flops="2 * T * C * width",
)

UNITS = (LOCAL_DENSE,)
