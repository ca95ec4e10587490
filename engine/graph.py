"""The genome: a DAG of nodes and edges as plain data, with no torch in sight.

Nodes and edges carry stable uids so that weights (``node/<uid>/…``), crossover (NEAT-style
alignment) and the canvas all refer to the same thing across mutations and files. Unknown
keys read from a file are kept in ``extra`` and written back, so newer files round-trip.
"""

from __future__ import annotations

import copy
import hashlib
import random
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import networkx as nx
import orjson

from openbrains.engine.errors import GraphError
from openbrains.engine.lineage import check_lineage
from openbrains.engine.taskrecord import TaskRecord, tasks_from_dict, tasks_to_dict

if TYPE_CHECKING:
    from openbrains.engine.format.safety import Limits

UID_RE = re.compile(r"^[a-z0-9_]{1,32}$")
GID_RE = re.compile(r"^[0-9a-f]{32}$")
INPUT_UNIT = "input"
OUTPUT_UNIT = "output"


def new_uid(
    rng: random.Random | None = None, taken: set[str] | frozenset[str] = frozenset()
) -> str:
    """A fresh 8-hex-digit uid not in ``taken`` (seeded ``rng`` gives reproducible graphs)."""
    r = rng or random.Random()
    while True:
        uid = f"{r.getrandbits(32):08x}"
        if uid not in taken:
            return uid


def _check_uid(uid: Any, what: str) -> str:
    if not isinstance(uid, str) or not UID_RE.match(uid):
        raise GraphError(f"{what} uid {uid!r} is not 1–32 characters of a-z, 0-9 and _")
    return uid


def _expect(
    d: Any, key: str, types: type | tuple[type, ...], where: str, default: Any = ...
) -> Any:
    if not isinstance(d, dict):
        raise GraphError(f"{where}: expected an object, got {type(d).__name__}")
    if key not in d:
        if default is ...:
            raise GraphError(f"{where}: missing key {key!r}")
        return default
    value = d[key]
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
        names = "/".join(t.__name__ for t in _as_tuple(types))
        raise GraphError(f"{where}: key {key!r} must be {names}, got {type(value).__name__}")
    return value


def _check_size(nodes: int, edges: int, limits: Limits | None) -> None:
    if limits is None:
        from openbrains.engine.format.safety import DEFAULT_LIMITS as limits
    if nodes > limits.max_nodes:
        raise GraphError(f"{nodes:,} nodes, over the limit of {limits.max_nodes:,}")
    if edges > limits.max_edges:
        raise GraphError(f"{edges:,} edges, over the limit of {limits.max_edges:,}")


def _as_tuple(t: type | tuple[type, ...]) -> tuple[type, ...]:
    return t if isinstance(t, tuple) else (t,)


@dataclass
class Node:
    """One instance of a unit: uid, unit name + version, params, flags and canvas position."""

    uid: str
    unit: str
    params: dict[str, Any] = field(default_factory=dict)
    version: int = 1
    frozen: bool = False
    trainable: bool = True
    pos: tuple[float, float] | None = None
    label: str = ""
    # global id (32 hex digits): the gene's identity across files, kept through copies,
    # exports, grafts and crossovers ("" until the node leaves the run it was born in)
    gid: str = ""
    # the tasks whose training has changed (or may change) this node's weights
    owner: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    KEYS = (
        "uid",
        "unit",
        "version",
        "params",
        "frozen",
        "trainable",
        "pos",
        "label",
        "gid",
        "owner",
    )

    @property
    def title(self) -> str:
        return self.label or self.params.get("name") or self.unit

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.extra)
        d.update(
            uid=self.uid,
            unit=self.unit,
            version=self.version,
            params=self.params,
            frozen=self.frozen,
            trainable=self.trainable,
            pos=list(self.pos) if self.pos is not None else None,
            label=self.label,
        )
        if self.gid:
            d["gid"] = self.gid
        if self.owner:
            d["owner"] = sorted(self.owner)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "node") -> Node:
        uid = _check_uid(_expect(d, "uid", str, where), "node")
        where = f"node {uid!r}"
        pos = _expect(d, "pos", (list, type(None)), where, None)
        if pos is not None:
            if len(pos) != 2 or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in pos
            ):
                raise GraphError(f"{where}: 'pos' must be two numbers, got {pos!r}", node=uid)
            pos = (float(pos[0]), float(pos[1]))
        version = _expect(d, "version", int, where, 1)
        if version < 1:
            raise GraphError(f"{where}: 'version' must be >= 1, got {version}", node=uid)
        gid = _expect(d, "gid", str, where, "")
        if gid and not GID_RE.match(gid):
            raise GraphError(f"{where}: 'gid' must be 32 lowercase hex digits", node=uid)
        owner = _expect(d, "owner", list, where, [])
        if not all(isinstance(t, str) for t in owner):
            raise GraphError(f"{where}: 'owner' must be a list of task names", node=uid)
        return cls(
            uid=uid,
            unit=_expect(d, "unit", str, where),
            version=version,
            params=dict(_expect(d, "params", dict, where, {})),
            frozen=_expect(d, "frozen", bool, where, False),
            trainable=_expect(d, "trainable", bool, where, True),
            pos=pos,
            label=_expect(d, "label", str, where, ""),
            gid=gid,
            owner=tuple(sorted(set(owner))),
            extra={k: v for k, v in d.items() if k not in cls.KEYS},
        )


@dataclass
class Edge:
    """A wire from ``src``'s output port to ``dst``'s input port; owns its channel adapter."""

    uid: str
    src: str
    dst: str
    src_port: str = "out"
    dst_port: str = "in"
    extra: dict[str, Any] = field(default_factory=dict)

    KEYS = ("uid", "src", "dst", "src_port", "dst_port")

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.extra)
        d.update(
            uid=self.uid,
            src=self.src,
            dst=self.dst,
            src_port=self.src_port,
            dst_port=self.dst_port,
        )
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "edge") -> Edge:
        uid = _check_uid(_expect(d, "uid", str, where), "edge")
        where = f"edge {uid!r}"
        return cls(
            uid=uid,
            src=_expect(d, "src", str, where),
            dst=_expect(d, "dst", str, where),
            src_port=_expect(d, "src_port", str, where, "out"),
            dst_port=_expect(d, "dst_port", str, where, "in"),
            extra={k: v for k, v in d.items() if k not in cls.KEYS},
        )


@dataclass
class Graph:
    """Nodes and edges (insertion-ordered) plus what travels with a genome.

    ``causal``: every output step may only depend on inputs up to that step (completion and
    streaming tasks). ``codecs``: per input/output name, how outside data is encoded (a
    harness choice recorded so a shared file can be fed the same way). ``hparams``: the
    training genes (learning rate, batch size, optimiser). ``lineage``, ``tasks``,
    ``scores``: where it came from, what it learned and how well.
    """

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[str, Edge] = field(default_factory=dict)
    causal: bool = False
    codecs: dict[str, Any] = field(default_factory=dict)
    hparams: dict[str, Any] = field(default_factory=dict)
    lineage: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    scores: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # unit name → package that provides it, from the file's manifest (not part of graph.json);
    # lets a missing unit say which package to install, and survives a load + save.
    packages: dict[str, str] = field(default_factory=dict, compare=False)

    KEYS = ("nodes", "edges", "causal", "codecs", "hparams", "lineage", "tasks", "scores")

    # ----- editing -------------------------------------------------------------------
    def uids(self) -> set[str]:
        return set(self.nodes) | set(self.edges)

    def add_node(
        self,
        unit: str,
        params: dict[str, Any] | None = None,
        uid: str | None = None,
        rng: random.Random | None = None,
        **flags: Any,
    ) -> Node:
        """Add a node of ``unit`` at its current registered version; returns it."""
        from openbrains.engine.units import get_unit

        uid = uid or new_uid(rng, self.uids())
        if uid in self.nodes:
            raise GraphError(f"node uid {uid!r} already exists", node=uid)
        version = flags.pop("version", None) or get_unit(unit).version
        node = Node(
            uid=_check_uid(uid, "node"),
            unit=unit,
            params=dict(params or {}),
            version=version,
            **flags,
        )
        self.nodes[uid] = node
        return node

    def connect(
        self,
        src: str,
        dst: str,
        uid: str | None = None,
        rng: random.Random | None = None,
        src_port: str = "out",
        dst_port: str = "in",
    ) -> Edge:
        """Add a wire; refuses unknown nodes and wires that would close a cycle."""
        for end in (src, dst):
            if end not in self.nodes:
                raise GraphError(f"cannot connect: no node {end!r}", node=end)
        if self.would_cycle(src, dst):
            raise GraphError(
                f"connecting {self.nodes[src].title!r} → {self.nodes[dst].title!r} would make a cycle",
                node=dst,
            )
        uid = uid or new_uid(rng, self.uids())
        if uid in self.edges:
            raise GraphError(f"edge uid {uid!r} already exists", edge=uid)
        edge = Edge(
            uid=_check_uid(uid, "edge"), src=src, dst=dst, src_port=src_port, dst_port=dst_port
        )
        self.edges[uid] = edge
        return edge

    def remove_node(self, uid: str) -> None:
        """Remove a node and every wire touching it."""
        self.nodes.pop(uid)
        for e in [e for e in self.edges.values() if uid in (e.src, e.dst)]:
            del self.edges[e.uid]

    def remove_edge(self, uid: str) -> None:
        del self.edges[uid]

    def would_cycle(self, src: str, dst: str) -> bool:
        if src == dst:
            return True
        return src in self.descendants(dst) if dst in self.nodes else False

    def descendants(self, uid: str) -> set[str]:
        out: set[str] = set()
        stack = [uid]
        children = self.children_map()
        while stack:
            for c in children.get(stack.pop(), ()):
                if c not in out:
                    out.add(c)
                    stack.append(c)
        return out

    # ----- queries -------------------------------------------------------------------
    def in_edges(self, uid: str, port: str | None = None) -> list[Edge]:
        return [
            e for e in self.edges.values() if e.dst == uid and (port is None or e.dst_port == port)
        ]

    def out_edges(self, uid: str) -> list[Edge]:
        return [e for e in self.edges.values() if e.src == uid]

    def children_map(self) -> dict[str, list[str]]:
        m: dict[str, list[str]] = {}
        for e in self.edges.values():
            m.setdefault(e.src, []).append(e.dst)
        return m

    def input_nodes(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.unit == INPUT_UNIT]

    def output_nodes(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.unit == OUTPUT_UNIT]

    @property
    def input_names(self) -> list[str]:
        return [str(n.params.get("name", "")) for n in self.input_nodes()]

    @property
    def output_names(self) -> list[str]:
        return [str(n.params.get("name", "")) for n in self.output_nodes()]

    def to_networkx(self) -> nx.MultiDiGraph:
        """Nodes carry ``node=``; edges are keyed by uid and carry ``edge=``."""
        g = nx.MultiDiGraph()
        for uid, node in self.nodes.items():
            g.add_node(uid, node=node)
        for e in self.edges.values():
            g.add_edge(e.src, e.dst, key=e.uid, edge=e)
        return g

    def topological_order(self) -> list[str]:
        """Nodes in a stable topological order (ties broken by insertion order)."""
        index = {uid: i for i, uid in enumerate(self.nodes)}
        try:
            return list(nx.lexicographical_topological_sort(self.to_networkx(), key=index.get))
        except nx.NetworkXUnfeasible:
            cycle = self.find_cycle()
            names = " → ".join(self.nodes[u].title + f" ({u})" for u in cycle)
            raise GraphError(f"the graph has a cycle: {names}", node=cycle[0]) from None

    def find_cycle(self) -> list[str]:
        try:
            return [u for u, _v, *_ in nx.find_cycle(self.to_networkx())]
        except nx.NetworkXNoCycle:
            return []

    def units_used(self) -> dict[str, int]:
        """Unit name → version, as the manifest records them."""
        return {n.unit: n.version for n in self.nodes.values()}

    # ----- validation ----------------------------------------------------------------
    def validate(self) -> None:
        """Raise ``GraphError`` naming the node or edge at fault if this cannot compile."""
        from openbrains.engine.shapes import infer_specs

        infer_specs(self)

    # ----- serialization -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = copy.deepcopy(self.extra)
        d.update(
            nodes=[n.to_dict() for n in self.nodes.values()],
            edges=[e.to_dict() for e in self.edges.values()],
            causal=self.causal,
            codecs=copy.deepcopy(self.codecs),
            hparams=copy.deepcopy(self.hparams),
            lineage=copy.deepcopy(self.lineage),
            tasks=tasks_to_dict(self.tasks),
            scores=copy.deepcopy(self.scores),
        )
        return d

    @classmethod
    def from_dict(cls, d: Any, limits: Limits | None = None) -> Graph:
        """Parse (structure and types only); unknown units are fine here — see ``validate``.

        More nodes or edges than ``limits`` allow (the defaults of ``engine.format.Limits``)
        are refused before any is read: a graph's cost to compile and run grows with them.
        """
        where = "graph"
        nodes_raw = _expect(d, "nodes", list, where)
        edges_raw = _expect(d, "edges", list, where)
        _check_size(len(nodes_raw), len(edges_raw), limits)
        g = cls(
            causal=_expect(d, "causal", bool, where, False),
            codecs=copy.deepcopy(_expect(d, "codecs", dict, where, {})),
            hparams=copy.deepcopy(_expect(d, "hparams", dict, where, {})),
            lineage=check_lineage(copy.deepcopy(_expect(d, "lineage", dict, where, {}))),
            tasks=tasks_from_dict(_expect(d, "tasks", dict, where, {})),
            scores=copy.deepcopy(_expect(d, "scores", dict, where, {})),
            extra=copy.deepcopy({k: v for k, v in d.items() if k not in cls.KEYS}),
        )
        for i, nd in enumerate(nodes_raw):
            node = Node.from_dict(nd, where=f"nodes[{i}]")
            if node.uid in g.nodes:
                raise GraphError(f"node uid {node.uid!r} appears twice", node=node.uid)
            g.nodes[node.uid] = node
        for i, ed in enumerate(edges_raw):
            edge = Edge.from_dict(ed, where=f"edges[{i}]")
            if edge.uid in g.edges or edge.uid in g.nodes:
                raise GraphError(f"edge uid {edge.uid!r} is used twice", edge=edge.uid)
            for end in (edge.src, edge.dst):
                if end not in g.nodes:
                    raise GraphError(
                        f"edge {edge.uid!r} refers to a node {end!r} that does not exist",
                        edge=edge.uid,
                    )
            g.edges[edge.uid] = edge
        return copy.deepcopy(g)

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict(), option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)

    @classmethod
    def from_json(cls, data: bytes | str) -> Graph:
        return cls.from_dict(orjson.loads(data))

    def copy(self) -> Graph:
        return copy.deepcopy(self)

    def structure_hash(self) -> str:
        """sha256 of nodes + edges (+ causal): equal for graphs with the same genes."""
        d = {"nodes": [n.to_dict() for n in self.nodes.values()], "causal": self.causal}
        d["edges"] = [e.to_dict() for e in self.edges.values()]
        for n in d["nodes"]:  # where a gene is drawn, which file it came from, who trained it
            for key in ("pos", "gid", "owner"):
                n.pop(key, None)
        return hashlib.sha256(orjson.dumps(d, option=orjson.OPT_SORT_KEYS)).hexdigest()
