"""Children start where their parents stopped (DESIGN §3.2): copy every inherited tensor
into a freshly initialised brain, key by key.

Mutation and crossover already did the function-preserving surgery (Net2Net widening,
zero-initialised residual gates and adapters) on the tensors they hand over; this module
only moves them into the child and says what fitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

from openbrains.engine.compile import Brain, compile_graph
from openbrains.engine.graph import Graph


@dataclass
class InheritReport:
    """Which of the child's tensors came from the parent(s): whole, in part, or not at all."""

    copied: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)
    fresh: list[str] = field(default_factory=list)

    @property
    def fraction(self) -> float:
        """Share of the child's tensors that inherited something (1.0 for an empty brain)."""
        total = len(self.copied) + len(self.partial) + len(self.fresh)
        return 1.0 if total == 0 else (len(self.copied) + len(self.partial)) / total

    def summary(self) -> str:
        return f"{len(self.copied)} copied, {len(self.partial)} partial, {len(self.fresh)} fresh"


def _leading_slice(dst: torch.Tensor, src: torch.Tensor) -> tuple[slice, ...] | None:
    """The overlapping leading block of two tensors of the same rank, or None."""
    if dst.dim() != src.dim() or dst.dim() == 0:
        return None
    if not (dst.is_floating_point() and src.is_floating_point()):
        return None
    block = tuple(slice(0, min(a, b)) for a, b in zip(dst.shape, src.shape))
    return block if all(s.stop > 0 for s in block) else None


@torch.no_grad()
def inherit_weights(
    child: Brain, sources: Mapping[str, torch.Tensor], exact_only: bool = False
) -> InheritReport:
    """Copy every tensor of ``sources`` whose key the child has into the child, in place.

    Same shape: copied whole. Different shape (a layer that was narrowed or widened, an
    input that changed width): the overlapping leading slice is copied and the rest keeps
    its fresh initialisation, because a narrowed layer keeps most of what its units learned
    and a widened one keeps all of it; ``exact_only`` turns that off. Keys the child lacks
    are ignored (removed nodes); keys the sources lack stay fresh (new nodes).
    """
    report = InheritReport()
    for key, dst in child.weights().items():
        src = sources.get(key)
        if src is None:
            report.fresh.append(key)
            continue
        src = src.detach().to(device=dst.device)
        if tuple(src.shape) == tuple(dst.shape):
            dst.copy_(src.to(dst.dtype))
            report.copied.append(key)
            continue
        block = None if exact_only else _leading_slice(dst, src)
        if block is None:
            report.fresh.append(key)
            continue
        dst[block] = src[block].to(dst.dtype)
        report.partial.append(key)
    return report


def child_brain(
    graph: Graph,
    inherited: Mapping[str, torch.Tensor],
    seed: int | None = None,
    exact_only: bool = False,
) -> tuple[Brain, InheritReport]:
    """Compile ``graph`` with a fresh (seeded) initialisation, then inherit what fits."""
    brain = compile_graph(graph, seed=seed)
    return brain, inherit_weights(brain, inherited, exact_only=exact_only)
