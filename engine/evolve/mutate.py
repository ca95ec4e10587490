"""Mutation: one small, always-valid change to a graph, with the tensors its child starts from.

Growth is function-preserving where DESIGN §3.2 says it can be (a new unit enters behind a
zero-initialised residual gate, or straight on the wire when it starts as the identity; a
new wire behind a zero adapter; a widened layer duplicates units Net2Net-style), so a
child costs a fine-tune rather than a fresh start. Frozen nodes are never touched: not
removed, not re-parametrised, no wires added into or taken from them, and their inputs keep
the shapes their weights were trained for.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from openbrains.engine.errors import GraphError
from openbrains.engine.evolve.net2net import Remap, widen_weights
from openbrains.engine.evolve.random import SizeBounds, hidden_units, sample_params
from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT, Edge, Graph, Node
from openbrains.engine.shapes import Plan, infer_specs, live_nodes, resolve
from openbrains.engine.train import genes
from openbrains.engine.units import REGISTRY, Param, Unit

Tensor = torch.Tensor

MERGE_UNITS = ("sum", "concat", "gate", "residual")
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


def _set_param(ctx: _Ctx, node: Node, p: Param, name: str) -> Mutation | None:
    value = node.params.get(p.name, p.default)
    new = p.mutate(value, ctx.rng)
    if new == value:
        return None
    child = ctx.graph.copy()
    child.nodes[node.uid].params[p.name] = new
    weights: Mapping[str, Tensor] = ctx.weights
    if p.redraws:  # baked into the unit's fixed weights: the child must draw them again
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


def change_hparams(ctx: _Ctx) -> Mutation | None:
    """Change one training gene (engine.train.genes: lr, batch size, optimiser, schedule,
    and label smoothing where the graph carries it); the weights are untouched."""
    child = ctx.graph.copy()
    key = ctx.rng.choice(genes.evolvable(child.hparams))
    gene = genes.gene(key)
    new = gene.mutate(child.hparams.get(key, gene.param.default), ctx.rng)
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
