"""Shape resolution (DESIGN §3.1): walk the DAG in order and decide, for every port, which
edges need a channel adapter and a time alignment, and what each node outputs.

Torch-free, so validation, the canvas and the compiler share one answer. Errors name the
node or edge at fault. Only *live* nodes (those that feed an output) must resolve; dead
branches are reported in ``Plan.dead`` and left out of the compiled brain.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from openbrains.engine.errors import GraphError, MissingUnitError
from openbrains.engine.graph import INPUT_UNIT, Edge, Graph, Node
from openbrains.engine.signal import SignalSpec
from openbrains.engine.units import Port, Unit, UnitContext, get_unit


@dataclass
class EdgePlan:
    """How one wire's signal is made to fit its port: channel adapter and time alignment."""

    edge: Edge
    source: SignalSpec
    adapter: tuple[int, int] | None  # (C_src, C_dst) when a learned Linear is needed
    time: str  # "same" | "static" | "broadcast" | "dynamic"
    time_target: int | None


@dataclass
class PortPlan:
    port: Port
    edges: list[EdgePlan]
    merged: SignalSpec


@dataclass
class NodePlan:
    node: Node
    unit: Unit
    params: dict[str, Any]
    ports: list[PortPlan]
    out: SignalSpec
    seed: int


@dataclass
class Plan:
    """The resolved graph: live nodes in topological order with their port plans."""

    graph: Graph
    order: list[str]
    nodes: dict[str, NodePlan]
    dead: dict[str, str] = field(default_factory=dict)  # uid → why it is left out

    @property
    def inputs(self) -> list[NodePlan]:
        """Input nodes in graph order (stable under mutations that reorder the DAG)."""
        return [self.nodes[n.uid] for n in self.graph.input_nodes() if n.uid in self.nodes]

    @property
    def outputs(self) -> list[NodePlan]:
        """Output nodes in graph order, which fixes the order a Brain returns them in."""
        return [self.nodes[n.uid] for n in self.graph.output_nodes() if n.uid in self.nodes]

    def context(self, uid: str) -> UnitContext:
        p = self.nodes[uid]
        return UnitContext(
            params=p.params,
            inputs=tuple(pp.merged for pp in p.ports),
            causal=self.graph.causal,
            seed=p.seed,
        )


def _describe(node: Node) -> str:
    return f"node {node.uid!r} ({node.unit})"


def _resolve_unit(node: Node, package: str | None = None) -> tuple[Unit, dict[str, Any]]:
    unit = get_unit(node.unit, package=package, node=node.uid)
    if node.version > unit.version:
        raise MissingUnitError(
            f"{_describe(node)} needs unit {node.unit!r} v{node.version}, but v{unit.version} is "
            f"installed (package {unit.package!r}); upgrade it",
            node.unit,
            unit.package,
            node=node.uid,
        )
    params = (
        unit.migrate(dict(node.params), node.version)
        if node.version < unit.version
        else node.params
    )
    return unit, unit.check_params(params, where=_describe(node))


def _align_time(src: SignalSpec, target: int | None, causal: bool, where: str, edge: Edge) -> str:
    if src.time == target:
        return "same" if target is not None else "dynamic"
    if causal and src.time != 1:
        raise GraphError(
            f"{where}: edge {edge.uid!r} brings time {src.time or 'variable'} but the port runs "
            f"at time {target or 'variable'}; a causal graph keeps time end to end",
            edge=edge.uid,
        )
    if src.time is None or target is None:
        return "dynamic"
    return "broadcast" if src.time == 1 else "static"


def _plan_port(
    node: Node,
    unit: Unit,
    port: Port,
    edges: list[Edge],
    specs: dict[str, SignalSpec],
    causal: bool,
) -> PortPlan:
    where = _describe(node)
    if not edges:
        raise GraphError(
            f"{where} has nothing connected to its input port {port.name!r}", node=node.uid
        )
    for e in edges:
        if e.src_port != "out":
            raise GraphError(f"edge {e.uid!r} leaves from unknown port {e.src_port!r}", edge=e.uid)
        src = specs[e.src]
        if not port.accepts(src.meta.is_tokens):
            want = "token ids (from a text input)" if port.kind == "tokens" else "float features"
            got = "token ids" if src.meta.is_tokens else "float features"
            raise GraphError(
                f"edge {e.uid!r}: {where} port {port.name!r} takes {want}, but the wire brings {got}",
                edge=e.uid,
            )
    if port.kind == "tokens" and len(edges) > 1:
        raise GraphError(f"{where} port {port.name!r} takes exactly one token wire", node=node.uid)
    first = specs[edges[0].src]
    target_c = None if unit.merge == "concat" else first.channels
    target_t = first.time
    plans = []
    for e in edges:
        src = specs[e.src]
        adapter = (
            (src.channels, target_c) if target_c is not None and src.channels != target_c else None
        )
        mode = (
            _align_time(src, target_t, causal, where, e)
            if e is not edges[0]
            else ("same" if target_t is not None else "dynamic")
        )
        plans.append(EdgePlan(e, src, adapter, mode, target_t))
    channels = (
        sum(specs[e.src].channels for e in edges) if unit.merge == "concat" else first.channels
    )
    merged = SignalSpec(channels, target_t, first.meta)
    return PortPlan(port, plans, merged)


def live_nodes(graph: Graph) -> set[str]:
    """Nodes from which some output node can be reached (outputs included)."""
    parents: dict[str, list[str]] = {}
    for e in graph.edges.values():
        parents.setdefault(e.dst, []).append(e.src)
    live: set[str] = set()
    stack = [n.uid for n in graph.output_nodes()]
    while stack:
        uid = stack.pop()
        if uid in live:
            continue
        live.add(uid)
        stack.extend(parents.get(uid, ()))
    return live


@dataclass
class Resolution:
    """Every node that could be resolved, and why the others could not (for editors and
    generators, which work on graphs that are not finished yet)."""

    order: list[str]
    plans: dict[str, NodePlan]
    errors: dict[str, GraphError]


def resolve(graph: Graph) -> Resolution:
    """Resolve what can be resolved; raises only for a cycle (no order exists then)."""
    order = graph.topological_order()
    specs: dict[str, SignalSpec] = {}
    plans: dict[str, NodePlan] = {}
    errors: dict[str, GraphError] = {}
    incoming: dict[str, list[Edge]] = {}  # once, not a scan of every edge per node
    for e in graph.edges.values():
        incoming.setdefault(e.dst, []).append(e)
    for uid in order:
        try:
            plan = _plan_node(graph, graph.nodes[uid], specs, _seed(uid), incoming.get(uid, []))
        except GraphError as exc:  # ParamError and MissingUnitError included
            if exc.node is None and exc.edge is None:
                exc.node = uid
            errors[uid] = exc
            continue
        specs[uid] = plan.out
        plans[uid] = plan
    return Resolution(order, plans, errors)


def _check_io(graph: Graph) -> None:
    if not graph.input_nodes():
        raise GraphError("the graph has no input node")
    if not graph.output_nodes():
        raise GraphError("the graph has no output node")
    for kind, nodes in (("input", graph.input_nodes()), ("output", graph.output_nodes())):
        seen: dict[str, str] = {}
        for n in nodes:
            name = n.params.get("name")
            if not isinstance(name, str) or not name:
                raise GraphError(f"{kind} node {n.uid!r} has no name", node=n.uid)
            if name in seen:
                raise GraphError(
                    f"two {kind} nodes are called {name!r}: {seen[name]!r} and {n.uid!r}",
                    node=n.uid,
                )
            seen[name] = n.uid


def infer_specs(graph: Graph) -> Plan:
    """Resolve every live node or raise ``GraphError`` naming the node or edge at fault."""
    res = resolve(graph)
    _check_io(graph)
    live = live_nodes(graph) | {n.uid for n in graph.input_nodes()}
    for uid in res.order:  # the first problem in graph order is the one to report
        exc = res.errors.get(uid)
        if exc is not None and (uid in live or isinstance(exc, MissingUnitError)):
            raise exc
    dead = {uid: str(exc) for uid, exc in res.errors.items()}
    dead.update({uid: "does not feed any output" for uid in res.plans if uid not in live})
    live_order = [uid for uid in res.order if uid in live]
    plans = {uid: res.plans[uid] for uid in live_order}
    for out in graph.output_nodes():
        ancestors = _ancestors(graph, out.uid)
        if not any(plans[u].node.unit == INPUT_UNIT for u in live_order if u in ancestors):
            raise GraphError(
                f"output {out.params.get('name')!r} is not reachable from any input", node=out.uid
            )
    return Plan(graph, live_order, plans, dead)


class _Unresolved(GraphError):
    """A node whose inputs could not be resolved (fine unless it feeds an output)."""


def _ancestors(graph: Graph, uid: str) -> set[str]:
    parents: dict[str, list[str]] = {}
    for e in graph.edges.values():
        parents.setdefault(e.dst, []).append(e.src)
    seen: set[str] = set()
    stack = [uid]
    while stack:
        for p in parents.get(stack.pop(), ()):
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return seen


def _seed(uid: str) -> int:
    """Deterministic per-node seed (for fixed random weights such as a reservoir's)."""
    return zlib.crc32(uid.encode())


def _plan_node(
    graph: Graph, node: Node, specs: dict[str, SignalSpec], seed: int, in_edges: list[Edge]
) -> NodePlan:
    unit, params = _resolve_unit(node, graph.packages.get(node.unit))
    if graph.causal and not unit.supports_causal(params):
        raise GraphError(
            f"{_describe(node)} cannot run in a causal graph (it would see the future)",
            node=node.uid,
        )
    port_names = {p.name for p in unit.inputs}
    for e in in_edges:
        if e.dst_port not in port_names:
            raise GraphError(
                f"edge {e.uid!r} enters {_describe(node)} at unknown port {e.dst_port!r}",
                edge=e.uid,
            )
        if e.src not in specs:
            raise _Unresolved(
                f"{_describe(node)} depends on node {e.src!r}, which does not resolve",
                node=node.uid,
            )
    ports = [
        _plan_port(
            node, unit, port, [e for e in in_edges if e.dst_port == port.name], specs, graph.causal
        )
        for port in unit.inputs
    ]
    ctx = UnitContext(
        params=params, inputs=tuple(p.merged for p in ports), causal=graph.causal, seed=seed
    )
    try:
        out = unit.infer(ctx)
    except GraphError:
        raise
    except (ValueError, KeyError, ZeroDivisionError) as exc:
        raise GraphError(f"{_describe(node)}: {exc}", node=node.uid) from None
    if graph.causal and node.unit != INPUT_UNIT and ports and out.time != ports[0].merged.time:
        raise GraphError(f"{_describe(node)} changes time length in a causal graph", node=node.uid)
    return NodePlan(node, unit, params, ports, out, seed)
