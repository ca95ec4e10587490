"""Crossover without chaos (DESIGN §3.3): genes aligned by uid, as in NEAT.

Matching nodes and edges come from either parent at random, each with its own weights;
disjoint genes come from the fitter parent only, so the child has the fitter parent's
topology with some genes swapped in from the other. Frozen nodes come as they are from
the parent where they are frozen. Swapped-in wires can leave from or enter places the
fitter topology does not have, so a repair pass follows; a child that cannot be repaired
is a copy of the fitter parent, and ``detail`` says so.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

import networkx as nx
import torch

from openbrains.engine.errors import GraphError
from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT, Edge, Graph, Node
from openbrains.engine.shapes import Plan, infer_specs, live_nodes, resolve
from openbrains.engine.units import REGISTRY

Tensor = torch.Tensor
ATTEMPTS = 3
BEST, OTHER = 0, 1


@dataclass
class _Child:
    """The child under construction: which parent each gene came from, and what repair did."""

    graph: Graph
    parents: tuple[Graph, Graph]  # (fitter, other)
    source: dict[str, int]  # gene uid → BEST or OTHER; genes repair created are absent
    notes: dict[str, int] = field(default_factory=dict)

    def note(self, what: str, n: int = 1) -> None:
        self.notes[what] = self.notes.get(what, 0) + n

    @property
    def best(self) -> Graph:
        return self.parents[BEST]


def _fitness(f: float | None) -> float:
    return -math.inf if f is None or math.isnan(f) else float(f)


def crossover(
    a: Graph,
    wa: Mapping[str, Tensor],
    fit_a: float | None,
    b: Graph,
    wb: Mapping[str, Tensor],
    fit_b: float | None,
    rng: random.Random,
) -> tuple[Graph, dict[str, Tensor], str]:
    """A child of ``a`` and ``b``, the tensors it starts from, and a line saying how it was made.

    The child always validates. Ties in fitness pick the "fitter" parent at random.
    """
    fa, fb = _fitness(fit_a), _fitness(fit_b)
    a_first = fa > fb or (fa == fb and rng.random() < 0.5)
    names = ("a", "b") if a_first else ("b", "a")
    best, other = (a, b) if a_first else (b, a)
    weights = (wa, wb) if a_first else (wb, wa)
    plans = (infer_specs(best), infer_specs(other))
    reason = ""
    for _ in range(ATTEMPTS):
        child = _combine(best, other, rng)
        try:
            _repair(child, rng)
            plan = infer_specs(child.graph)
        except GraphError as exc:
            reason = str(exc)
            continue
        if not _frozen_intact(child, plans, plan):
            reason = "a frozen node's inputs would change"
            continue
        detail = _describe(child, names)
        child.graph.lineage = {"mutation": "crossover", "detail": detail}
        return child.graph, _gather(child, weights), detail
    fallback = best.copy()
    detail = f"crossover fell back to a copy of the fitter parent {names[0]} ({reason})"
    fallback.lineage = {"mutation": "crossover", "detail": detail}
    return fallback, dict(weights[BEST]), detail


# ----- alignment --------------------------------------------------------------------------
def _pick_node(uid: str, best: Graph, other: Graph, rng: random.Random) -> int:
    if uid not in other.nodes or best.nodes[uid].frozen:
        return BEST
    if other.nodes[uid].frozen:
        return OTHER
    if best.nodes[uid].unit in (INPUT_UNIT, OUTPUT_UNIT):
        return BEST  # the interface is the task's, and the fitter parent's is the one trained
    return BEST if rng.random() < 0.5 else OTHER


def _combine(best: Graph, other: Graph, rng: random.Random) -> _Child:
    """The fitter parent's genes, with each matching one taken from either parent."""
    g = Graph(
        causal=best.causal,
        codecs=copy.deepcopy(best.codecs),
        hparams=_mix_hparams(best.hparams, other.hparams, rng),
        tasks=copy.deepcopy(best.tasks),
        extra=copy.deepcopy(best.extra),
        packages=dict(best.packages),
    )
    child = _Child(g, (best, other), {})
    for uid in best.nodes:
        src = _pick_node(uid, best, other, rng)
        g.nodes[uid] = copy.deepcopy(child.parents[src].nodes[uid])
        child.source[uid] = src
    for uid, edge in best.edges.items():
        src = BEST
        if uid in other.edges:
            frozen = g.nodes[edge.dst].frozen
            src = child.source[edge.dst] if frozen else int(rng.random() < 0.5)
        g.edges[uid] = copy.deepcopy(child.parents[src].edges[uid])
        child.source[uid] = src
    return child


def _mix_hparams(best: Mapping, other: Mapping, rng: random.Random) -> dict:
    return {
        k: copy.deepcopy(other[k] if k in other and rng.random() < 0.5 else v)
        for k, v in best.items()
    }


# ----- repair -----------------------------------------------------------------------------
def _repair(child: _Child, rng: random.Random) -> None:
    """Make the child valid: structure first, then revert genes that do not resolve."""
    _drop_dangling(child)
    _break_cycles(child)
    _feed_starved(child, rng)
    _reconnect_outputs(child, rng)
    _drop_dead_ends(child)
    for _ in range(2 * len(child.source) + 4):
        try:
            infer_specs(child.graph)
            return
        except GraphError as exc:
            if not _revert_at(child, exc):
                raise
            _break_cycles(child)
    infer_specs(child.graph)


def _drop_dangling(child: _Child) -> None:
    g = child.graph
    for e in [e for e in g.edges.values() if e.src not in g.nodes or e.dst not in g.nodes]:
        del g.edges[e.uid]
        child.source.pop(e.uid, None)
        child.note("dropped wires to missing nodes")


def _break_cycles(child: _Child) -> None:
    """Drop, per cycle, a wire swapped in from the other parent (the fitter one is acyclic)."""
    g = child.graph
    while True:
        try:
            cycle = nx.find_cycle(g.to_networkx())
        except nx.NetworkXNoCycle:
            return
        keys = [k for _u, _v, k in cycle]
        swapped = [k for k in keys if child.source.get(k) != BEST]
        victim = (swapped or keys)[-1]
        del g.edges[victim]
        child.source.pop(victim, None)
        child.note("broke cycles")


def _restore_edge(child: _Child, uid: str) -> bool:
    """Put back the fitter parent's version of wire ``uid`` if that closes no cycle."""
    g, edge = child.graph, child.best.edges[uid]
    if edge.src not in g.nodes and not _restore_node(child, edge.src):
        return False
    if edge.dst not in g.nodes:
        return False
    if g.nodes[edge.dst].frozen and child.source.get(edge.dst) != BEST:
        return False
    old = g.edges.pop(uid, None)
    if g.would_cycle(edge.src, edge.dst):
        if old is not None:
            g.edges[uid] = old
        return False
    _insert_edge(g, copy.deepcopy(edge), child.best)
    child.source[uid] = BEST
    return True


def _restore_node(child: _Child, uid: str) -> bool:
    """Bring back a node of the fitter parent that repair removed, fed as it was there."""
    g, best = child.graph, child.best
    if uid not in best.nodes:
        return False
    nodes = dict(g.nodes)
    nodes[uid] = copy.deepcopy(best.nodes[uid])
    order = {u: i for i, u in enumerate(best.nodes)}
    g.nodes = dict(sorted(nodes.items(), key=lambda kv: order.get(kv[0], len(order))))
    child.source[uid] = BEST
    for e in best.in_edges(uid):
        _restore_edge(child, e.uid)
    child.note("restored nodes")
    return True


def _insert_edge(g: Graph, edge: Edge, best: Graph) -> None:
    """Insert at the wire's place in the fitter parent's order (keeps port input order)."""
    order = list(best.edges)
    rank = {u: i for i, u in enumerate(order)}
    items = [*g.edges.items(), (edge.uid, edge)]
    items.sort(key=lambda kv: rank.get(kv[0], len(order)))
    g.edges = dict(items)


def _ports_of(node: Node) -> list[tuple[str, str]]:
    if node.unit not in REGISTRY:
        return []
    return [(p.name, p.kind) for p in REGISTRY.get(node.unit).inputs]


def _feed_starved(child: _Child, rng: random.Random) -> None:
    """Live nodes with an empty input port get a wire from an ancestor (the fitter parent's
    own wire where it fits, else the nearest ancestor that resolves)."""
    g = child.graph
    live = live_nodes(g)
    for uid in g.topological_order():
        if uid not in live:
            continue
        for port, kind in _ports_of(g.nodes[uid]):
            if not g.in_edges(uid, port) and not _refeed(child, uid, port, kind, rng):
                raise GraphError(f"node {uid!r} lost its inputs and no ancestor fits", node=uid)


def _refeed(child: _Child, uid: str, port: str, kind: str, rng: random.Random) -> bool:
    best_in = [e.uid for e in child.best.in_edges(uid, port)]
    if any(_restore_edge(child, e) for e in best_in):
        child.note("restored wires")
        return True
    g = child.graph
    for src in _ancestors_by_distance(child.best, uid):
        if src in g.nodes and not g.would_cycle(src, uid) and _emits(g, src, kind):
            g.connect(src, uid, rng=rng, dst_port=port)
            child.note("rewired starved nodes")
            return True
    return False


def _ancestors_by_distance(g: Graph, uid: str) -> list[str]:
    """Ancestors of ``uid`` in ``g``, nearest first."""
    parents: dict[str, list[str]] = {}
    for e in g.edges.values():
        parents.setdefault(e.dst, []).append(e.src)
    order, seen, frontier = [], {uid}, [uid]
    while frontier:
        nxt = []
        for u in frontier:
            for p in parents.get(u, ()):
                if p not in seen:
                    seen.add(p)
                    order.append(p)
                    nxt.append(p)
        frontier = nxt
    return order


def _emits(g: Graph, uid: str, kind: str) -> bool:
    """Whether ``uid`` resolves to a signal a port of ``kind`` accepts."""
    plan = resolve(g).plans.get(uid)
    if plan is None or g.nodes[uid].unit == OUTPUT_UNIT:
        return False
    return kind == "any" or plan.out.meta.is_tokens == (kind == "tokens")


def _reconnect_outputs(child: _Child, rng: random.Random) -> None:
    """Outputs no input reaches get the fitter parent's wires back, or a wire from the
    latest node an input reaches."""
    g = child.graph
    for out in g.output_nodes():
        if _reached(g, out.uid):
            continue
        for e in g.in_edges(out.uid):
            del g.edges[e.uid]
            child.source.pop(e.uid, None)
        if any(_restore_edge(child, e.uid) for e in child.best.in_edges(out.uid)) and _reached(
            g, out.uid
        ):
            child.note("reconnected outputs")
            continue
        reached = _reachable_from_inputs(g)
        options = [
            u
            for u in g.topological_order()
            if u in reached and u != out.uid and _emits(g, u, "float")
        ]
        if not options:
            raise GraphError(f"output {out.uid!r} cannot be reconnected", node=out.uid)
        g.connect(options[-1], out.uid, rng=rng)
        child.note("reconnected outputs")


def _reachable_from_inputs(g: Graph) -> set[str]:
    seen: set[str] = set()
    for n in g.input_nodes():
        seen |= {n.uid} | g.descendants(n.uid)
    return seen


def _reached(g: Graph, uid: str) -> bool:
    return bool(g.in_edges(uid)) and uid in _reachable_from_inputs(g)


def _drop_dead_ends(child: _Child) -> None:
    """Hidden nodes that feed no output are removed (frozen ones are kept as they are)."""
    g = child.graph
    live = live_nodes(g)
    dead = [
        n.uid
        for n in g.nodes.values()
        if n.uid not in live and n.unit not in (INPUT_UNIT, OUTPUT_UNIT) and not n.frozen
    ]
    for uid in dead:
        for e in g.in_edges(uid) + g.out_edges(uid):
            child.source.pop(e.uid, None)
        g.remove_node(uid)
        child.source.pop(uid, None)
    if dead:
        child.note("removed dead ends", len(dead))


def _differs(child: _Child, uid: str) -> bool:
    return child.source.get(uid, BEST) != BEST


def _revert_node(child: _Child, uid: str) -> bool:
    """The fitter parent's version of a node and of its input wires; False if nothing changed."""
    g, best = child.graph, child.best
    if g.nodes[uid].frozen and _differs(child, uid):
        return False  # frozen in the other parent: it keeps that parent's wiring
    changed = False
    if _differs(child, uid) and not g.nodes[uid].frozen:
        g.nodes[uid] = copy.deepcopy(best.nodes[uid])
        child.source[uid] = BEST
        changed = True
    if uid in best.nodes:
        for e in best.in_edges(uid):
            if e.uid not in g.edges or _differs(child, e.uid):
                changed = _restore_edge(child, e.uid) or changed
    for e in g.in_edges(uid):
        if e.uid not in best.edges or best.edges[e.uid].dst != uid:
            del g.edges[e.uid]  # a swapped-in or repair wire the fitter parent lacks
            child.source.pop(e.uid, None)
            changed = True
    return changed


def _revert_at(child: _Child, exc: GraphError) -> bool:
    """Revert the genes at fault (or the nearest swapped-in gene upstream of them)."""
    g = child.graph
    uid = exc.node
    if exc.edge is not None and exc.edge in g.edges:
        uid = g.edges[exc.edge].dst
    if uid is None or uid not in g.nodes:
        return False
    child.note("reverted genes")
    if _revert_node(child, uid):
        return True
    return any(_revert_node(child, up) for up in _ancestors_by_distance(g, uid))


# ----- checks and weights -----------------------------------------------------------------
def _frozen_intact(child: _Child, plans: tuple[Plan, Plan], plan: Plan) -> bool:
    """Each frozen node that ran in its parent runs in the child on inputs of the same shape."""
    for node in child.graph.nodes.values():
        if not node.frozen:
            continue
        src = child.source.get(node.uid, BEST)
        before = plans[src].nodes.get(node.uid)
        if before is None:
            continue
        after = plan.nodes.get(node.uid)
        if after is None or _shapes(before) != _shapes(after):
            return False
    return True


def _shapes(np_: object) -> tuple:
    return tuple((pp.merged.channels, pp.merged.meta.grid) for pp in np_.ports)  # type: ignore[attr-defined]


def _gather(
    child: _Child, weights: tuple[Mapping[str, Tensor], Mapping[str, Tensor]]
) -> dict[str, Tensor]:
    """Each gene's tensors from the parent its params came from."""
    out: dict[str, Tensor] = {}
    for src in (BEST, OTHER):
        for key, t in weights[src].items():
            kind, uid = key.split("/", 2)[:2]
            genes = child.graph.nodes if kind == "node" else child.graph.edges
            if uid in genes and child.source.get(uid) == src:
                out[key] = t
    return out


def _describe(child: _Child, names: tuple[str, str]) -> str:
    best, other = child.parents
    genes = set(best.nodes) | set(best.edges)
    matching = genes & (set(other.nodes) | set(other.edges))
    swapped = sum(1 for u in matching if child.source.get(u) == OTHER)
    text = (
        f"crossover: {len(matching)} matching genes ({swapped} from {names[1]}), "
        f"{len(genes - matching)} disjoint from {names[0]} (fitter)"
    )
    if child.notes:
        text += "; repair: " + ", ".join(f"{k} ×{v}" for k, v in child.notes.items())
    return text
