"""Mutation: one small, always-valid change to a graph, with the tensors its child starts from.

Growth is function-preserving where DESIGN §3.2 says it can be (a new unit enters behind a
zero-initialised residual gate, or straight on the wire when it starts as the identity; a
new wire behind a zero adapter; a widened layer duplicates units Net2Net-style), so a
child costs a fine-tune rather than a fresh start. Frozen nodes are never touched: not
removed, not re-parametrised, no wires added into or taken from them, and their inputs keep
the shapes their weights were trained for.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from openbrains.engine.errors import GraphError
from openbrains.engine.evolve.random import SizeBounds, hidden_units, sample_params
from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT, Edge, Graph, Node
from openbrains.engine.shapes import EdgePlan, Plan, PortPlan, infer_specs, live_nodes, resolve
from openbrains.engine.train.trainer import (
    CLASSIFICATION_HPARAMS,
    DEFAULT_HPARAMS,
    OPTIMIZERS,
    SCHEDULES,
    SMOOTHINGS,
)
from openbrains.engine.units import REGISTRY, Param, Unit

Tensor = torch.Tensor

MERGE_UNITS = ("sum", "concat", "gate", "residual")
LR_RANGE = (1e-4, 0.1)
BATCH_SIZES = (8, 16, 32, 64, 128, 256)
# Params whose value is baked into a unit's (fixed, seeded) weights: changing one must
# re-draw the weights, or the child would silently keep the parent's.
WEIGHT_SHAPING_PARAMS = {"reservoir": {"radius", "density", "input_scale"}}
TRIES = 8
DEFAULT_BOUNDS = SizeBounds()

DEFAULT_WEIGHTS: dict[str, float] = {
    "add_unit": 3.0,
    "remove_unit": 1.0,
    "add_edge": 2.0,
    "remove_edge": 1.0,
    "change_unit": 1.0,
    "widen": 2.0,
    "narrow": 1.0,
    "change_param": 2.0,
    "change_activation": 1.0,
    "change_merge": 1.0,
    "change_hparams": 1.0,
    "reset_weights": 0.5,
}


@dataclass
class Mutation:
    """A child graph and the full set of tensors it should start from.

    ``weights`` are the parent's (shared, not copied), adjusted by function-preserving
    surgery and without the keys of removed genes; feed them to ``inherit_weights``.
    ``preserving`` says the child computes exactly what the parent did until it trains.
    """

    graph: Graph
    weights: dict[str, Tensor]
    name: str
    detail: str
    preserving: bool


@dataclass
class _Ctx:
    """What every operator sees: the parent, its tensors and its resolved shapes."""

    graph: Graph
    weights: Mapping[str, Tensor]
    rng: random.Random
    bounds: SizeBounds
    plan: Plan
    _frozen_sig: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def frozen_signatures(self) -> dict[str, Any]:
        if self._frozen_sig is None:
            self._frozen_sig = _frozen_signatures(self.graph, self.plan)
        return self._frozen_sig


# ----- small helpers ---------------------------------------------------------------------
def _tag(node: Node) -> str:
    return f"{node.unit} {node.uid}"


def _is_io(node: Node) -> bool:
    return node.unit in (INPUT_UNIT, OUTPUT_UNIT)


def _editable(graph: Graph) -> list[Node]:
    """Hidden nodes evolution may change (not I/O, not frozen), in graph order."""
    return [n for n in graph.nodes.values() if not _is_io(n) and not n.frozen]


def _hidden_count(graph: Graph) -> int:
    return sum(1 for n in graph.nodes.values() if not _is_io(n))


def _sample(rng: random.Random, items: list[Any], k: int = TRIES) -> list[Any]:
    """Up to ``k`` distinct items in random order: the targets an operator tries."""
    return rng.sample(items, min(k, len(items)))


def _without_node(weights: Mapping[str, Tensor], uid: str) -> dict[str, Tensor]:
    prefix = f"node/{uid}/"
    return {k: v for k, v in weights.items() if not k.startswith(prefix)}


def _node_keys(weights: Mapping[str, Tensor], uid: str) -> list[str]:
    prefix = f"node/{uid}/"
    return [k for k in weights if k.startswith(prefix)]


def _gene_uid(key: str) -> str:
    return key.split("/", 2)[1]


def _frozen_signatures(graph: Graph, plan: Plan) -> dict[str, Any]:
    """For each live frozen node: its genes and the input shapes its weights depend on."""
    out: dict[str, Any] = {}
    for node in graph.nodes.values():
        if node.frozen:
            np_ = plan.nodes.get(node.uid)
            shapes = (
                None
                if np_ is None
                else tuple((pp.merged.channels, pp.merged.meta.grid) for pp in np_.ports)
            )
            wires = [(e.uid, e.src, e.dst_port) for e in graph.in_edges(node.uid)]
            out[node.uid] = (node.to_dict(), shapes, wires)
    return out


def _finish(
    ctx: _Ctx, child: Graph, weights: Mapping[str, Tensor], name: str, detail: str, preserving: bool
) -> Mutation | None:
    """The mutation if ``child`` validates and leaves every frozen node as it was, else None."""
    try:
        plan = infer_specs(child)
    except GraphError:
        return None
    if _frozen_signatures(child, plan) != ctx.frozen_signatures:
        return None
    uids = child.uids()
    kept = {k: v for k, v in weights.items() if _gene_uid(k) in uids}
    child.lineage = {"mutation": name, "detail": detail}
    return Mutation(child, kept, name, detail, preserving)


def _place_between(child: Graph, uid: str, a: str, b: str, shift: float) -> None:
    """Canvas position for a new node: between its neighbours when they have positions."""
    pa, pb = child.nodes[a].pos, child.nodes[b].pos
    if pa is not None and pb is not None:
        child.nodes[uid].pos = ((pa[0] + pb[0]) / 2, (pa[1] + pb[1]) / 2 + shift)


# ----- structural operators ---------------------------------------------------------------
def add_unit(ctx: _Ctx) -> Mutation | None:
    """A random unit N put on a random wire A→B, function-preservingly (``_insert``)."""
    if _hidden_count(ctx.graph) + 1 > ctx.bounds.max_nodes:
        return None
    specs = resolve(ctx.graph).plans
    edges = [
        e
        for e in ctx.graph.edges.values()
        if e.src in specs
        and not specs[e.src].out.meta.is_tokens
        and not ctx.graph.nodes[e.dst].frozen
    ]
    pool = hidden_units(ctx.graph.causal)
    for edge in _sample(ctx.rng, edges):
        unit = ctx.rng.choice(pool)
        params = sample_params(unit, ctx.rng, ctx.bounds, ctx.graph.causal)
        m = _insert(ctx, edge, unit, params)
        if m is not None:
            return m
    return None


def _insert(ctx: _Ctx, edge: Edge, unit: Unit, params: dict[str, Any]) -> Mutation | None:
    """N on A→B. A unit that starts as the identity (``Unit.starts_as_identity``) goes
    straight on the wire: A→N→B. Any other is fed from A and joined back through a residual
    R (alpha = 0) that outputs exactly A's signal until training opens the gate.

    Either way the existing edge object is re-pointed to leave from N (or R), keeping its
    uid and its place in ``graph.edges``, so B's input order and its adapter weights stay
    valid.
    """
    direct = unit.starts_as_identity
    if _hidden_count(ctx.graph) + (1 if direct else 2) > ctx.bounds.max_nodes:
        return None
    child = ctx.graph.copy()
    new = child.add_node(unit.name, params, rng=ctx.rng)
    a = ctx.graph.nodes[edge.src]
    if direct:
        child.connect(edge.src, new.uid, rng=ctx.rng)
        child.edges[edge.uid].src = new.uid
        _place_between(child, new.uid, edge.src, edge.dst, 0.0)
        detail = f"add {_tag(new)} after {_tag(a)} (on the wire into {edge.dst})"
    else:
        gate = child.add_node("residual", {}, rng=ctx.rng)
        child.connect(edge.src, gate.uid, rng=ctx.rng)
        child.connect(edge.src, new.uid, rng=ctx.rng)
        child.connect(new.uid, gate.uid, rng=ctx.rng)
        child.edges[edge.uid].src = gate.uid
        _place_between(child, new.uid, edge.src, edge.dst, 40.0)
        _place_between(child, gate.uid, edge.src, edge.dst, 0.0)
        detail = f"add {_tag(new)} after {_tag(a)} (residual {gate.uid} into {edge.dst})"
    return _finish(ctx, child, ctx.weights, "add_unit", detail, True)


def insert_unit(
    graph: Graph,
    weights: Mapping[str, Tensor],
    edge: str,
    unit: str,
    params: Mapping[str, Any],
    rng: random.Random,
    bounds: SizeBounds = DEFAULT_BOUNDS,
) -> Mutation | None:
    """``add_unit`` with the unit, its params and the wire chosen (tests, hand edits)."""
    ctx = _context(graph, weights, rng, bounds)
    return _insert(ctx, ctx.graph.edges[edge], REGISTRY.get(unit), dict(params))


def remove_unit(ctx: _Ctx) -> Mutation | None:
    """Remove a hidden node and wire its inputs straight to its consumers (a bypass)."""
    candidates = [
        n
        for n in _editable(ctx.graph)
        if not any(ctx.graph.nodes[e.dst].frozen for e in ctx.graph.out_edges(n.uid))
    ]
    for node in _sample(ctx.rng, candidates):
        child = ctx.graph.copy()
        sources = list(dict.fromkeys(e.src for e in child.in_edges(node.uid)))
        for out in child.out_edges(node.uid):
            if not sources:
                break
            out.src = sources[0]  # same edge object: the consumer's input order is kept
            for extra in sources[1:]:
                if len(child.in_edges(out.dst, out.dst_port)) < ctx.bounds.max_fan_in:
                    child.connect(extra, out.dst, rng=ctx.rng, dst_port=out.dst_port)
        child.remove_node(node.uid)
        detail = f"remove {_tag(node)}"
        m = _finish(ctx, child, _without_node(ctx.weights, node.uid), "remove_unit", detail, False)
        if m is not None:
            return m
    return None


def _zero_wire_preserves(unit_name: str, merge: str, inputs_before: int) -> bool:
    """Whether a wire whose adapter outputs zeros leaves this unit's output unchanged."""
    if merge == "sum" or unit_name == "residual":
        return True
    return unit_name == "gate" and inputs_before >= 2  # alone, a gate computes x·σ(x)


def add_edge(ctx: _Ctx) -> Mutation | None:
    """A new wire S→D. Behind a zero-initialised adapter into a summing port it preserves."""
    g = ctx.graph
    specs = resolve(g).plans
    live = live_nodes(g)
    srcs = [
        u for u, p in specs.items() if g.nodes[u].unit != OUTPUT_UNIT and not p.out.meta.is_tokens
    ]
    dsts = [
        n.uid
        for n in g.nodes.values()
        if n.uid in live
        and n.uid in specs
        and not n.frozen
        and n.unit != INPUT_UNIT
        and REGISTRY.get(n.unit).inputs
        and REGISTRY.get(n.unit).inputs[0].kind != "tokens"
        and len(g.in_edges(n.uid)) < ctx.bounds.max_fan_in
    ]
    if not srcs or not dsts:
        return None
    for _ in range(TRIES):
        dst = ctx.rng.choice(dsts)
        linked = {e.src for e in g.in_edges(dst)}
        below = g.descendants(dst) | {dst} | linked
        options = [s for s in srcs if s not in below]
        if not options:
            continue
        src = ctx.rng.choice(options)
        m = _add_edge(ctx, src, dst)
        if m is not None:
            return m
    return None


def _add_edge(ctx: _Ctx, src: str, dst: str) -> Mutation | None:
    child = ctx.graph.copy()
    port = REGISTRY.get(child.nodes[dst].unit).inputs[0].name
    before = len(child.in_edges(dst, port))
    edge = child.connect(src, dst, rng=ctx.rng, dst_port=port)
    try:
        plan = infer_specs(child)
    except GraphError:
        return None
    ep = next(ep for pp in plan.nodes[dst].ports for ep in pp.edges if ep.edge.uid == edge.uid)
    unit = plan.nodes[dst].unit
    preserving = ep.adapter is not None and _zero_wire_preserves(unit.name, unit.merge, before)
    weights = dict(ctx.weights)
    if preserving:
        c_src, c_dst = ep.adapter  # type: ignore[misc]
        weights[f"edge/{edge.uid}/weight"] = torch.zeros(c_dst, c_src)
    how = " (zero adapter)" if preserving else ""
    detail = f"wire {_tag(child.nodes[src])} → {_tag(child.nodes[dst])}{how}"
    return _finish(ctx, child, weights, "add_edge", detail, preserving)


def remove_edge(ctx: _Ctx) -> Mutation | None:
    """Drop a wire whose destination keeps another input and whose source stays useful."""
    g = ctx.graph
    live = live_nodes(g)
    candidates = [
        e
        for e in g.edges.values()
        if not g.nodes[e.dst].frozen and len(g.in_edges(e.dst, e.dst_port)) >= 2
    ]
    for edge in _sample(ctx.rng, candidates):
        child = g.copy()
        child.remove_edge(edge.uid)
        if not live <= live_nodes(child):
            continue
        detail = f"unwire {_tag(g.nodes[edge.src])} → {_tag(g.nodes[edge.dst])}"
        m = _finish(ctx, child, ctx.weights, "remove_edge", detail, False)
        if m is not None:
            return m
    return None


def change_unit(ctx: _Ctx) -> Mutation | None:
    """Give a hidden node another unit (same uid, so its wires stay) with fresh params."""
    pool = hidden_units(ctx.graph.causal)
    candidates = [n for n in _editable(ctx.graph) if _reads_floats(n)]
    for node in _sample(ctx.rng, candidates):
        unit = ctx.rng.choice([u for u in pool if u.name != node.unit])
        child = ctx.graph.copy()
        target = child.nodes[node.uid]
        target.unit, target.version = unit.name, unit.version
        target.params = sample_params(unit, ctx.rng, ctx.bounds, child.causal)
        detail = f"change {_tag(node)} into {unit.name}"
        weights = _without_node(ctx.weights, node.uid)
        m = _finish(ctx, child, weights, "change_unit", detail, False)
        if m is not None:
            return m
    return None


def _reads_floats(node: Node) -> bool:
    unit = REGISTRY.get(node.unit)
    return bool(unit.inputs) and all(p.kind != "tokens" for p in unit.inputs)


# ----- width (Net2Net) -------------------------------------------------------------------
@dataclass(frozen=True)
class Remap:
    """Channel ``j`` of a signal in the child copies channel ``index[j]`` of the parent's,
    which had ``width`` channels.

    A channel copied k times is read by k columns downstream, each divided by k, so every
    linear reader's sum (and hence the function) stays what it was.
    """

    index: tuple[int, ...]
    width: int

    def tensor(self) -> Tensor:
        return torch.tensor(self.index, dtype=torch.long)

    def counts(self) -> Tensor:
        idx = self.tensor()
        return torch.bincount(idx, minlength=self.width)[idx]

    @staticmethod
    def identity(n: int) -> Remap:
        return Remap(tuple(range(n)), n)


class _Stale(ValueError):
    """A tensor whose shape does not fit the parent graph (weights from elsewhere)."""


def _take(t: Tensor, dim: int, remap: Remap, divide: bool = False) -> Tensor:
    if t.dim() <= dim or t.shape[dim] != remap.width:
        raise _Stale(f"axis {dim} of {tuple(t.shape)} is not {remap.width}")
    out = t.index_select(dim, remap.tensor())
    if divide:
        shape = [1] * t.dim()
        shape[dim] = len(remap.index)
        out = out / remap.counts().to(out.dtype).view(shape)
    return out


def _take_gated(t: Tensor, gates: int, remap: Remap, cols: bool = False) -> Tensor:
    """Rows of a recurrent layer stack ``gates`` blocks of H units: remap each block; with
    ``cols`` (the hidden-to-hidden matrix) the H input columns too, divided."""
    if t.shape[0] != gates * remap.width:
        raise _Stale(f"{tuple(t.shape)} is not {gates} blocks of {remap.width}")
    g = t.reshape(gates, remap.width, *t.shape[1:])
    g = _take(g, 1, remap)
    if cols:
        g = _take(g, 2, remap, divide=True)
    return g.reshape(-1, *g.shape[2:])


# Producer tensors whose units are the layer's output channels: key → axis.
_OUT_AXES: dict[str, dict[str, int]] = {
    "dense": {"linear.weight": 0, "linear.bias": 0},
    "conv1d": {"conv.weight": 0, "conv.bias": 0},
    "conv2d": {"conv.weight": 0, "conv.bias": 0},
    "hebbian": {"weight": 0},
    "embedding": {"table.weight": 1},
    "kan": {"base.weight": 0, "base.bias": 0, "spline.weight": 0},
    "lif": {"input.weight": 0, "input.bias": 0},
    "moe": {"w2": 1, "b2": 1},
}
_GATES = {"gru": 3, "lstm": 4}
_RNN_KEYS = ("rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0")
# Readers that see their input only through a linear map: the key whose axis 1 is input.
_IN_KEYS: dict[str, str] = {
    "dense": "linear.weight",
    "conv1d": "conv.weight",
    "conv2d": "conv.weight",
    "gru": "rnn.weight_ih_l0",
    "lstm": "rnn.weight_ih_l0",
    "hebbian": "weight",
    "reservoir": "w_in",
    "lif": "input.weight",
    "local_dense": "linear.weight",
}
# Units whose output keeps the input's channels (a residual block, or attention projecting
# back): the tensors that read the input linearly (axis 1, split) and those with one entry
# per channel (axis 0, copied); the output then carries the input's remap exactly.
_RESIDUAL_MIXERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "attention": (("qkv.weight",), ("proj.weight", "proj.bias")),
    "ssm": (("out.weight",), ("log_dt", "log_a", "b", "c", "d", "out.weight", "out.bias")),
    "rwkv": (
        ("key.weight", "value.weight", "receptance.weight"),
        ("mix_k", "mix_v", "mix_r", "output.weight"),
    ),
    "hopfield": (("query.weight",), ("out.weight", "out.bias")),
}
# Units that act on each channel alone, so copied channels stay copies.
_CHANNELWISE = {"activation", "dropout", "pool", *MERGE_UNITS}
# Units that keep the width but mix channels: copies are only approximately copies.
_SAME_WIDTH = {"layernorm", "rmsnorm"}


def _resize_producer(w: dict[str, Tensor], unit: str, uid: str, remap: Remap) -> bool:
    """Remap the output units of the resized node in ``w``; False if it cannot be exact
    (then ``w`` is left as it was)."""
    staged = dict(w)
    try:
        ok = _resize_outputs(staged, unit, f"node/{uid}/", remap)
    except _Stale:
        return False
    if ok:
        w.update(staged)
    return ok


def _resize_outputs(w: dict[str, Tensor], unit: str, pre: str, remap: Remap) -> bool:
    if unit in _OUT_AXES:
        axes = _OUT_AXES[unit]
        if pre + next(iter(axes)) not in w:
            return False
        for name, axis in axes.items():
            if pre + name in w:
                w[pre + name] = _take(w[pre + name], axis, remap)
        return True
    if unit in _GATES:
        if any(pre + n not in w for n in _RNN_KEYS):
            return False
        for n in _RNN_KEYS:
            w[pre + n] = _take_gated(w[pre + n], _GATES[unit], remap, cols=n == _RNN_KEYS[1])
        return True
    if unit == "reservoir" and pre + "w" in w and pre + "w_in" in w:
        w[pre + "w_in"] = _take(w[pre + "w_in"], 0, remap)
        w[pre + "w"] = _take(_take(w[pre + "w"], 0, remap), 1, remap, divide=True)
        return True
    return False


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
        self.exact = _resize_producer(self.w, self.child.nodes[uid].unit, uid, remap)
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
        """What a node does with remapped input channels; returns its output's remap."""
        pre = f"node/{node.uid}/"
        if node.unit in _IN_KEYS:
            self.apply(pre + _IN_KEYS[node.unit], lambda t: _take(t, 1, r, divide=True))
            return None
        if node.unit in _RESIDUAL_MIXERS:
            reads, per_channel = _RESIDUAL_MIXERS[node.unit]
            for name in reads:
                self.apply(pre + name, lambda t: _take(t, 1, r, divide=True))
            for name in per_channel:
                self.apply(pre + name, lambda t: _take(t, 0, r))
            return r
        if node.unit == "batchnorm":  # per channel: copied channels keep copied statistics
            for name in ("weight", "bias", "running_mean", "running_var"):
                self.apply(pre + name, lambda t: _take(t, 0, r))
            return r
        if node.unit == OUTPUT_UNIT:
            self._output(node.uid, r)
            return None
        if node.unit == "flatten":
            c_old = self.old.nodes[node.uid].ports[0].merged.channels
            steps = self.new.nodes[node.uid].out.channels // len(r.index)
            index = tuple(t * c_old + i for t in range(steps) for i in r.index)
            return Remap(index, steps * c_old)
        if node.unit in _CHANNELWISE:
            return r
        self.fail()
        return r if node.unit in _SAME_WIDTH else None

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


def _width_param(node: Node) -> Param | None:
    p = REGISTRY.get(node.unit).param_map.get("width")
    return p if p is not None and p.kind == "int" and p.mutable else None


def _width_range(p: Param, bounds: SizeBounds) -> tuple[int, int]:
    lo = max(int(p.low or 1), bounds.min_width)
    return lo, max(lo, min(int(p.high or lo), bounds.max_width))


def _new_width(rng: random.Random, w: int, lo: int, hi: int, grow: bool) -> int | None:
    if grow:
        return None if w >= hi else min(hi, max(w + 1, round(w * rng.uniform(1.2, 2.0))))
    return None if w <= lo else max(lo, min(w - 1, round(w * rng.uniform(0.5, 0.85))))


def _remap(rng: random.Random, w: int, w1: int) -> Remap:
    """Which old unit each new unit copies: all old ones plus random duplicates (widen), or
    a random subset in order (narrow)."""
    if w1 >= w:
        return Remap((*range(w), *(rng.randrange(w) for _ in range(w1 - w))), w)
    return Remap(tuple(sorted(rng.sample(range(w), w1))), w)


def _resize(ctx: _Ctx, grow: bool) -> Mutation | None:
    name = "widen" if grow else "narrow"
    candidates = [n for n in _editable(ctx.graph) if _width_param(n) is not None]
    for node in _sample(ctx.rng, candidates):
        p = _width_param(node)
        assert p is not None
        w = int(node.params.get("width", p.default))
        w1 = _new_width(ctx.rng, w, *_width_range(p, ctx.bounds), grow)
        if w1 is None or w1 == w:
            continue
        child = ctx.graph.copy()
        child.nodes[node.uid].params["width"] = w1
        try:
            new_plan = infer_specs(child)
        except GraphError:
            continue
        weights, exact = widen_weights(
            child, ctx.plan, new_plan, node.uid, _remap(ctx.rng, w, w1), ctx.weights
        )
        preserving = grow and exact
        detail = f"{name} {_tag(node)} {w} → {w1}" + (" (Net2Net)" if preserving else "")
        m = _finish(ctx, child, weights, name, detail, preserving)
        if m is not None:
            return m
    return None


def widen(ctx: _Ctx) -> Mutation | None:
    """More units in a layer; function-preserving where every reader reads linearly."""
    return _resize(ctx, grow=True)


def narrow(ctx: _Ctx) -> Mutation | None:
    """Fewer units in a layer: a random subset survives with its weights (not preserving)."""
    return _resize(ctx, grow=False)


# ----- parameter operators ------------------------------------------------------------------
def _activation_param(node: Node) -> str | None:
    if node.unit == "activation":
        return "kind"
    p = REGISTRY.get(node.unit).param_map.get("activation")
    return "activation" if p is not None and p.kind == "choice" and p.mutable else None


def _other_params(node: Node) -> list[Param]:
    """Mutable params that no dedicated operator owns (width, activation)."""
    skip = {"width", _activation_param(node)}
    return [p for p in REGISTRY.get(node.unit).params if p.mutable and p.name not in skip]


def _new_value(p: Param, value: Any, rng: random.Random) -> Any:
    """A different value: a neighbour for numbers, another choice for choices and bools."""
    if p.kind == "bool":
        return not value
    if p.kind == "choice":
        others = [c for c in p.choices if c != value]
        return rng.choice(others) if others else value
    return p.perturb(value, rng)


def _set_param(ctx: _Ctx, node: Node, p: Param, name: str) -> Mutation | None:
    value = node.params.get(p.name, p.default)
    new = _new_value(p, value, ctx.rng)
    if new == value:
        return None
    child = ctx.graph.copy()
    child.nodes[node.uid].params[p.name] = new
    weights: Mapping[str, Tensor] = ctx.weights
    if p.name in WEIGHT_SHAPING_PARAMS.get(node.unit, ()):
        weights = _without_node(weights, node.uid)
    shown = f"{new:.4g}" if isinstance(new, float) else repr(new)
    detail = f"set {p.name} of {_tag(node)} to {shown}"
    return _finish(ctx, child, weights, name, detail, False)


def change_param(ctx: _Ctx) -> Mutation | None:
    """Perturb one mutable param (kernel, heads, rate, …) of a hidden node."""
    candidates = [(n, p) for n in _editable(ctx.graph) for p in _other_params(n)]
    for node, p in _sample(ctx.rng, candidates):
        m = _set_param(ctx, node, p, "change_param")
        if m is not None:
            return m
    return None


def change_activation(ctx: _Ctx) -> Mutation | None:
    """Another nonlinearity for a dense/conv unit or an activation node."""
    candidates = [n for n in _editable(ctx.graph) if _activation_param(n) is not None]
    for node in _sample(ctx.rng, candidates):
        name = _activation_param(node)
        assert name is not None
        m = _set_param(ctx, node, REGISTRY.get(node.unit).param_map[name], "change_activation")
        if m is not None:
            return m
    return None


def change_merge(ctx: _Ctx) -> Mutation | None:
    """Swap a merge node among sum, concat, gate and residual (same uid, same wires)."""
    candidates = [n for n in _editable(ctx.graph) if n.unit in MERGE_UNITS]
    for node in _sample(ctx.rng, candidates):
        unit = REGISTRY.get(ctx.rng.choice([u for u in MERGE_UNITS if u != node.unit]))
        child = ctx.graph.copy()
        target = child.nodes[node.uid]
        target.unit, target.version, target.params = unit.name, unit.version, {}
        detail = f"change merge {_tag(node)} into {unit.name}"
        weights = _without_node(ctx.weights, node.uid)
        m = _finish(ctx, child, weights, "change_merge", detail, False)
        if m is not None:
            return m
    return None


def _new_hparam(key: str, value: Any, rng: random.Random) -> Any:
    if key == "lr":
        lo, hi = LR_RANGE
        return min(hi, max(lo, float(value) * math.exp(rng.gauss(0.0, 0.5))))
    options = {
        "batch_size": BATCH_SIZES,
        "schedule": SCHEDULES,
        "label_smoothing": SMOOTHINGS,
    }.get(key, OPTIMIZERS)
    if key == "batch_size" and value in options:  # a neighbouring size, not a leap
        i = options.index(value)
        return (
            options[max(0, i - 1)]
            if i == len(options) - 1 or (i > 0 and rng.random() < 0.5)
            else options[i + 1]
        )
    return rng.choice([o for o in options if o != value])


def change_hparams(ctx: _Ctx) -> Mutation | None:
    """Change one training gene (lr, batch size, optimiser, schedule, and label smoothing
    where the graph carries it: classification only); the weights are untouched."""
    child = ctx.graph.copy()
    optional = [k for k in CLASSIFICATION_HPARAMS if k in child.hparams]
    key = ctx.rng.choice([*DEFAULT_HPARAMS, *optional])
    old = child.hparams.get(key, DEFAULT_HPARAMS.get(key))
    new = _new_hparam(key, old, ctx.rng)
    child.hparams[key] = new
    shown = f"{new:.3g}" if isinstance(new, float) else str(new)
    return _finish(ctx, child, ctx.weights, "change_hparams", f"set {key} to {shown}", True)


def reset_weights(ctx: _Ctx) -> Mutation | None:
    """Forget one node's weights, so it re-initialises (escapes a dead or saturated unit)."""
    candidates = [n for n in _editable(ctx.graph) if _node_keys(ctx.weights, n.uid)]
    if not candidates:
        return None
    node = ctx.rng.choice(candidates)
    weights = _without_node(ctx.weights, node.uid)
    return _finish(ctx, ctx.graph.copy(), weights, "reset_weights", f"reset {_tag(node)}", False)


OPERATORS: dict[str, Callable[[_Ctx], Mutation | None]] = {
    "add_unit": add_unit,
    "remove_unit": remove_unit,
    "add_edge": add_edge,
    "remove_edge": remove_edge,
    "change_unit": change_unit,
    "widen": widen,
    "narrow": narrow,
    "change_param": change_param,
    "change_activation": change_activation,
    "change_merge": change_merge,
    "change_hparams": change_hparams,
    "reset_weights": reset_weights,
}


# ----- entry points ------------------------------------------------------------------------
def _context(
    graph: Graph, weights: Mapping[str, Tensor], rng: random.Random, bounds: SizeBounds
) -> _Ctx:
    return _Ctx(graph, weights, rng, bounds, infer_specs(graph))


def apply_operator(
    name: str,
    graph: Graph,
    weights: Mapping[str, Tensor],
    rng: random.Random,
    bounds: SizeBounds = DEFAULT_BOUNDS,
) -> Mutation | None:
    """Apply one named operator, or None where it has no valid target in this graph."""
    if name not in OPERATORS:
        raise KeyError(f"unknown mutation {name!r}; known: {sorted(OPERATORS)}")
    return OPERATORS[name](_context(graph, weights, rng, bounds))


def mutate(
    graph: Graph,
    weights: Mapping[str, Tensor],
    rng: random.Random,
    bounds: SizeBounds = DEFAULT_BOUNDS,
    ops: Mapping[str, float] | Iterable[str] | None = None,
) -> Mutation:
    """One random applicable mutation (``ops``: operator weights, or names with equal weight).

    Operators that find no valid target are set aside and another is drawn; if none of the
    chosen ones applies, the training genes change instead, which always applies. The
    parent must validate (``GraphError`` otherwise); the child always does.
    """
    ctx = _context(graph, weights, rng, bounds)
    table = _op_weights(ops)
    while table:
        names = list(table)
        name = rng.choices(names, [table[n] for n in names])[0]
        m = OPERATORS[name](ctx)
        if m is not None:
            return m
        del table[name]
    m = change_hparams(ctx)
    assert m is not None  # the parent validates and frozen nodes are untouched
    return m


def _op_weights(ops: Mapping[str, float] | Iterable[str] | None) -> dict[str, float]:
    if ops is None:
        table = dict(DEFAULT_WEIGHTS)
    elif isinstance(ops, Mapping):
        table = {k: float(v) for k, v in ops.items()}
    else:
        table = dict.fromkeys(ops, 1.0)
    unknown = set(table) - set(OPERATORS)
    if unknown:
        raise KeyError(f"unknown mutations {sorted(unknown)}; known: {sorted(OPERATORS)}")
    return {k: v for k, v in table.items() if v > 0}
