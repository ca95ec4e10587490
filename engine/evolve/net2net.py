"""Net2Net surgery across a graph: a layer gets more (or fewer) channels, and every tensor
that reads those channels follows, so a widened child computes exactly what its parent did.

What each unit's tensors mean (which axis holds its outputs, which reads its inputs) is
declared by the unit itself (``Unit.widening``, engine.widening); this module only applies
those facts, so a plugin unit widens as exactly as a built-in one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch

from openbrains.engine.graph import OUTPUT_UNIT, Graph, Node
from openbrains.engine.shapes import EdgePlan, Plan, PortPlan
from openbrains.engine.widening import Remap, Widening

Tensor = torch.Tensor

__all__ = ["Remap", "widen_weights"]


class _Stale(ValueError):
    """A tensor whose shape does not fit the parent graph (weights from elsewhere)."""


def _index(remap: Remap) -> Tensor:
    return torch.tensor(remap.index, dtype=torch.long)


def _counts(remap: Remap) -> Tensor:
    idx = _index(remap)
    return torch.bincount(idx, minlength=remap.width)[idx]


def _take(t: Tensor, dim: int, remap: Remap, divide: bool = False) -> Tensor:
    if t.dim() <= dim or t.shape[dim] != remap.width:
        raise _Stale(f"axis {dim} of {tuple(t.shape)} is not {remap.width}")
    out = t.index_select(dim, _index(remap))
    if divide:
        shape = [1] * t.dim()
        shape[dim] = len(remap.index)
        out = out / _counts(remap).to(out.dtype).view(shape)
    return out


def _take_grouped(t: Tensor, dim: int, remap: Remap, divide: bool = False) -> Tensor:
    """Axis ``dim`` holds the same number of entries for each channel, one channel's after
    another (grouped convolutions): remap whole groups."""
    if t.dim() <= dim or remap.width == 0 or t.shape[dim] % remap.width:
        raise _Stale(f"axis {dim} of {tuple(t.shape)} is not groups of {remap.width}")
    return _take(t, dim, remap.spread(t.shape[dim] // remap.width), divide)


def _take_blocks(t: Tensor, dim: int, gates: int, remap: Remap) -> Tensor:
    """Axis ``dim`` stacks ``gates`` blocks of the channels (a recurrent layer's gates):
    remap each block."""
    if gates == 1:
        return _take(t, dim, remap)
    if t.dim() <= dim or t.shape[dim] != gates * remap.width:
        raise _Stale(f"{tuple(t.shape)} is not {gates} blocks of {remap.width}")
    head, tail = t.shape[:dim], t.shape[dim + 1 :]
    blocks = _take(t.reshape(*head, gates, remap.width, *tail), dim + 1, remap)
    return blocks.reshape(*head, gates * len(remap.index), *tail)


def _resize_producer(w: dict[str, Tensor], facts: Widening | None, uid: str, remap: Remap) -> bool:
    """Remap the output channels of the resized node in ``w``; False if it cannot be exact
    (then ``w`` is left as it was)."""
    if facts is None or not facts.outputs:
        return False
    pre = f"node/{uid}/"
    first = next(iter(facts.outputs))
    if pre + first not in w or any(pre + k not in w for k in facts.feedback):
        return False
    staged = dict(w)
    try:
        for key, axis in facts.outputs.items():
            if pre + key in staged:
                staged[pre + key] = _take_blocks(staged[pre + key], axis, facts.gates, remap)
        for key, axis in facts.feedback.items():
            staged[pre + key] = _take(staged[pre + key], axis, remap, divide=True)
    except _Stale:
        return False
    w.update(staged)
    return True


def _remap_linear(old: Tensor, rows: Remap | None, cols: Remap | None) -> Tensor:
    """A linear map [out, in] re-expressed for remapped outputs (copied) and inputs (split)."""
    if rows is not None:
        old = _take(old, 0, rows)
    return old if cols is None else _take(old, 1, cols, divide=True)


@dataclass
class _Surgery:
    """Net2Net across the graph: which remap each node's output carries, and the tensors."""

    child: Graph
    old: Plan
    new: Plan
    w: dict[str, Tensor]
    remaps: dict[str, Remap | None] = field(default_factory=dict)
    exact: bool = True

    def fail(self) -> None:
        self.exact = False

    def apply(self, key: str, fn: Callable[[Tensor], Tensor]) -> None:
        """Rewrite tensor ``key``; a missing or mis-shaped one makes the surgery inexact."""
        if key not in self.w:
            self.fail()
            return
        try:
            self.w[key] = fn(self.w[key])
        except _Stale:
            self.fail()

    def run(self, uid: str, remap: Remap) -> None:
        if uid not in self.new.nodes:  # a dead node (no path to an output) has no plan
            self.exact = False
            return
        facts = self.new.nodes[uid].unit.widening
        self.exact = _resize_producer(self.w, facts, uid, remap)
        if not self.exact:
            return  # the producer's units are fresh: nothing downstream can be exact
        self.remaps[uid] = remap
        for u in self.new.order:
            if u != uid and u in self.old.nodes:
                self.remaps[u] = self._node(u)

    def _node(self, uid: str) -> Remap | None:
        ports = [
            self._port(pp_new, pp_old)
            for pp_new, pp_old in zip(self.new.nodes[uid].ports, self.old.nodes[uid].ports)
        ]
        if all(r is None for r in ports):
            return None
        node = self.child.nodes[uid]
        if node.frozen or len(ports) != 1:
            self.fail()
            return None
        return self._unit(node, ports[0])

    def _port(self, new: PortPlan, old: PortPlan) -> Remap | None:
        """The remap of a port's merged input, adjusting the adapters of its wires."""
        src = [self.remaps.get(ep.edge.src) for ep in new.edges]
        if all(r is None for r in src):
            return None
        if len(new.edges) != len(old.edges):
            self.fail()
            return None
        if self.new.nodes[new.edges[0].edge.dst].unit.merge == "concat":
            return self._concat(old, src)
        for ep_new, ep_old, r in zip(new.edges[1:], old.edges[1:], src[1:]):
            self._adapter(ep_new, ep_old, src[0], r)
        return src[0]

    def _concat(self, old: PortPlan, src: list[Remap | None]) -> Remap:
        index: list[int] = []
        offset = 0
        for ep, r in zip(old.edges, src):
            width = ep.source.channels
            index.extend(offset + i for i in (r or Remap.identity(width)).index)
            offset += width
        return Remap(tuple(index), offset)

    def _adapter(
        self, new: EdgePlan, old: EdgePlan, rows: Remap | None, cols: Remap | None
    ) -> None:
        """Make a later wire's adapter land on the (remapped) first wire's channels."""
        if rows is None and cols is None:
            return
        key = f"edge/{new.edge.uid}/weight"
        if new.adapter is None:  # only exact when no change was needed at all
            if old.adapter is not None or rows != cols:
                self.fail()
            return
        if old.adapter is None:
            self.w[key] = torch.eye(old.source.channels)
        self.apply(key, lambda t: _remap_linear(t, rows, cols))

    def _unit(self, node: Node, r: Remap) -> Remap | None:
        """What a node does with remapped input channels (as its unit declares); returns
        its output's remap."""
        if node.unit == OUTPUT_UNIT:
            self._output(node.uid, r)
            return None
        facts = self.new.nodes[node.uid].unit.widening
        if facts is None:  # nothing declared: the child is valid, just not exact
            self.fail()
            return None
        pre = f"node/{node.uid}/"
        for key, axis in facts.inputs.items():
            self.apply(pre + key, lambda t, axis=axis: _take(t, axis, r, divide=True))
        for key, axis in facts.per_channel.items():
            self.apply(pre + key, lambda t, axis=axis: _take(t, axis, r))
        for key, axis in facts.grouped.items():
            self.apply(pre + key, lambda t, axis=axis: _take_grouped(t, axis, r))
        for key, axis in facts.grouped_inputs.items():
            self.apply(pre + key, lambda t, axis=axis: _take_grouped(t, axis, r, divide=True))
        if callable(facts.carry):
            c_old = self.old.nodes[node.uid].ports[0].merged.channels
            return facts.carry(r, c_old, self.new.nodes[node.uid].out.channels)
        if facts.carry == "mixed":
            self.fail()
        return None if facts.carry == "none" else r

    def _output(self, uid: str, r: Remap) -> None:
        """The output node's own adapter (present only when the widths differ)."""
        c_out = self.new.nodes[uid].out.channels
        had = self.old.nodes[uid].ports[0].merged.channels != c_out
        if self.new.nodes[uid].ports[0].merged.channels == c_out:
            self.fail()  # the adapter vanished: the copies would enter unmixed
            return
        key = f"node/{uid}/adapter."
        if not had:  # the widths matched, so the parent's adapter was the identity
            self.w[key + "weight"] = torch.eye(c_out)
            self.w[key + "bias"] = torch.zeros(c_out)
        self.apply(key + "weight", lambda t: _remap_linear(t, None, r))


def widen_weights(
    child: Graph, old: Plan, new: Plan, uid: str, remap: Remap, weights: Mapping[str, Tensor]
) -> tuple[dict[str, Tensor], bool]:
    """Net2Net: the parent's tensors with node ``uid`` resized by ``remap`` and every reader
    of its channels adjusted; True when the child computes exactly what the parent did
    (assuming ``weights`` holds all of the parent's tensors)."""
    surgery = _Surgery(child, old, new, dict(weights))
    surgery.run(uid, remap)
    return surgery.w, surgery.exact
