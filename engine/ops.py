"""Small tensor functions the compiled code calls: time alignment between wires.

Kept module-level (not lambdas) so torch.fx can name them in generated code.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def resize_time(x: torch.Tensor, steps: int) -> torch.Tensor:
    """``[B, T, C] → [B, steps, C]``: adaptive average pooling down, nearest repeat up."""
    t = x.shape[1]
    if t == steps:
        return x
    if t == 1:
        return x.expand(-1, steps, -1)
    y = x.transpose(1, 2)
    y = (
        F.adaptive_avg_pool1d(y, steps)
        if steps < t
        else F.interpolate(y, size=steps, mode="nearest")
    )
    return y.transpose(1, 2)


def broadcast_time(x: torch.Tensor, steps: int) -> torch.Tensor:
    """A ``T=1`` signal repeated along time (a global vector joining a sequence)."""
    return x.expand(-1, steps, -1)


def align_like(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Time alignment decided at run time, for variable-length inputs."""
    return resize_time(x, ref.shape[1])


def absent_input(ref: torch.Tensor, time: int, channels: int) -> torch.Tensor:
    """The signal of an input a task does not give: zeros ``[B, time, channels]`` with the
    batch of a given input (``time`` 0: the given input's time)."""
    return ref.new_zeros(ref.shape[0], time or ref.shape[1], channels)


def add_all(*xs: torch.Tensor) -> torch.Tensor:
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


def concat_channels(*xs: torch.Tensor) -> torch.Tensor:
    return torch.cat(xs, dim=-1)
