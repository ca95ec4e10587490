"""How many weights a brain may allocate while it is being compiled.

A graph is a few hundred bytes of JSON, yet one output node of a million channels fed by
another of a million asks for a trillion weights. Compiling counts every module's
parameters and buffers as it builds them and stops at ``Limits.max_weights``; a module
that could be large (its inputs times its outputs above ``PROBE_AT``) is first built on
PyTorch's ``meta`` device, which allocates nothing, so it is refused before it exists.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from openbrains.engine.errors import GraphError
from openbrains.engine.units import UnitContext

# channels in × channels out from which a module is measured before it is built: below it
# a module holds at most a few million weights (a 7×7 kernel, four attention matrices)
PROBE_AT = 1 << 16


def module_weights(module: nn.Module) -> int:
    """Elements in a module's parameters and buffers (what its state dict will hold)."""
    return sum(t.numel() for t in module.parameters()) + sum(t.numel() for t in module.buffers())


class WeightBudget:
    """The weights one compile may still allocate."""

    def __init__(self, limit: int | None = None) -> None:
        if limit is None:
            from openbrains.engine.format.safety import DEFAULT_LIMITS

            limit = DEFAULT_LIMITS.max_weights
        self.limit = limit
        self.used = 0

    def spend(self, count: int, node: str | None = None, edge: str | None = None) -> None:
        self.used += count
        if self.used > self.limit:
            where = f"node {node!r}" if node else f"the adapter of edge {edge!r}"
            raise GraphError(
                f"the graph needs more than {self.limit:,} weights (at {where}); "
                "that is the limit for one brain",
                node=node,
                edge=edge,
            )

    def build(
        self,
        build: Callable[[UnitContext], nn.Module | None],
        ctx: UnitContext,
        uid: str,
        out_channels: int,
    ) -> nn.Module | None:
        """``build(ctx)`` once it is known to fit; counted against the budget."""
        if _maybe_large(ctx, out_channels):
            try:
                with torch.device("meta"):
                    probe = build(ctx)
            except GraphError:
                raise
            except Exception:  # a unit that cannot build on meta is measured once built
                probe = None
            if probe is not None:
                self.spend(module_weights(probe), node=uid)
                return build(ctx)
        module = build(ctx)
        if module is not None:
            self.spend(module_weights(module), node=uid)
        return module


def _maybe_large(ctx: UnitContext, out_channels: int) -> bool:
    fan_in = sum(s.channels for s in ctx.inputs)
    vocab = max((s.meta.vocab or 0 for s in ctx.inputs), default=0)
    return max(fan_in, vocab, 1) * max(out_channels, 1) >= PROBE_AT
