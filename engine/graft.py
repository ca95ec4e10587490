"""Graft: copy a piece of one brain, with its weights, into another, without changing what
the other computes until it is trained.

The selected nodes of SRC (and the wires among them, with their adapters' weights) are
copied into DST. Every wire that entered the piece in SRC enters it again in OUT: from the
DST node with the same global id when DST has one (genes line up across files), else from
the node ``at``, through a boundary adapter (a ``dense`` layer to the width the piece was
trained on). The piece's ends feed a ``residual`` merge put behind ``at``: ``at`` plus a
learned scale, initialised to zero, times the piece. So OUT computes exactly what DST
computed (``at``'s consumers now read the residual, which passes ``at`` through) until
training opens the gate (DESIGN §3.2).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.errors import GraphError
from openbrains.engine.format.document import GraphFile
from openbrains.engine.gids import derived_gid, stamp_gids, structure_key
from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT, Graph, new_uid
from openbrains.engine.shapes import infer_specs

Tensors = dict[str, torch.Tensor]
ADAPTER_ACTIVATION = "identity"


@dataclass
class Grafted:
    """OUT's graph and weights, and what happened: SRC uid → OUT uid of the copied nodes,
    the boundary adapters and the residual gate added, and the tensors that kept SRC's
    values (``copied``) or started fresh because their shape changed at the new place."""

    graph: Graph
    weights: Tensors
    uids: dict[str, str]
    adapters: list[str] = field(default_factory=list)
    gate: str = ""
    copied: list[str] = field(default_factory=list)
    fresh: list[str] = field(default_factory=list)


def default_at(dst: Graph) -> str:
    """Where a graft attaches when the user does not say: the node feeding DST's first
    output (the top of its body)."""
    outputs = dst.output_nodes()
    if not outputs:
        raise GraphError("the graph to graft into has no output node")
    feeding = dst.in_edges(outputs[0].uid)
    if not feeding:
        raise GraphError(f"output {outputs[0].title!r} has nothing connected to it")
    return feeding[0].src


def graft_graph(
    src: Graph,
    nodes: list[str],
    dst: Graph,
    at: str | None = None,
    rng: random.Random | None = None,
) -> tuple[Graph, dict[str, str], dict[str, str], list[str], str]:
    """The structure of OUT: (graph, SRC uid → OUT uid for nodes, SRC edge uid → OUT edge
    uid for the wires inside the piece, adapter uids, gate uid). Raises ``GraphError``
    (one line) for nodes that do not exist, I/O nodes, a bad ``at`` and cycles."""
    rng = rng or random.Random()
    chosen = list(dict.fromkeys(nodes))
    if not chosen:
        raise GraphError("name at least one node to copy (--nodes UID[,UID…])")
    for uid in chosen:
        if uid not in src.nodes:
            raise GraphError(f"the source graph has no node {uid!r}", node=uid)
        if src.nodes[uid].unit in (INPUT_UNIT, OUTPUT_UNIT):
            raise GraphError(
                f"{uid!r} is an {src.nodes[uid].unit} node; graft copies hidden nodes",
                node=uid,
            )
    at = at or default_at(dst)
    if at not in dst.nodes:
        raise GraphError(f"the graph to graft into has no node {at!r} (--at)", node=at)
    if dst.nodes[at].unit == OUTPUT_UNIT:
        raise GraphError(f"--at {at!r} is an output node; name a node with an output")

    src = src.copy()
    stamp_gids(src, structure_key(src))
    out = dst.copy()
    stamp_gids(out, structure_key(dst))
    gids = {n.gid: n.uid for n in out.nodes.values()}
    consumers = [e.uid for e in out.out_edges(at)]
    x0 = max((n.pos[0] for n in out.nodes.values() if n.pos), default=0.0) + 160.0

    uids: dict[str, str] = {}
    for i, uid in enumerate(chosen):
        node = src.nodes[uid]
        new = uid if uid not in out.uids() else new_uid(rng, out.uids())
        pos = (x0, 120.0 * i) if node.pos is None else (node.pos[0] + x0, node.pos[1])
        copy = out.add_node(
            node.unit,
            dict(node.params),
            uid=new,
            version=node.version,
            frozen=node.frozen,
            trainable=node.trainable,
            label=node.label,
            pos=pos,
        )
        copy.owner = node.owner
        copy.gid = node.gid if node.gid not in gids else derived_gid(node.gid, new)
        uids[uid] = new

    edges: dict[str, str] = {}
    adapters: list[str] = []
    specs = infer_specs(src).nodes
    for e in src.edges.values():  # in SRC order: a port's first wire fixes its width
        if e.dst not in uids:
            continue
        if e.src in uids:
            new = e.uid if e.uid not in out.uids() else new_uid(rng, out.uids())
            out.connect(uids[e.src], uids[e.dst], uid=new, src_port=e.src_port, dst_port=e.dst_port)
            edges[e.uid] = new
            continue
        origin = gids.get(src.nodes[e.src].gid, at)
        if out.nodes[origin].unit == OUTPUT_UNIT:
            origin = at
        width = specs[e.src].out.channels if e.src in specs else None
        entry = origin
        if width is not None:  # a boundary adapter: back to the width the piece learned on
            adapter = out.add_node(
                "dense",
                {"width": width, "activation": ADAPTER_ACTIVATION},
                rng=rng,
                pos=(
                    x0 - 80.0,
                    out.nodes[uids[e.dst]].pos[1] if out.nodes[uids[e.dst]].pos else 0.0,
                ),
            )
            adapter.gid = derived_gid(adapter.uid, f"{origin}>{uids[e.dst]}")
            _connect(out, origin, adapter.uid, rng, "in", chosen)
            adapters.append(adapter.uid)
            entry = adapter.uid
        _connect(out, entry, uids[e.dst], rng, e.dst_port, chosen)

    ends = [uids[u] for u in chosen if not any(c in uids for c in src.children_map().get(u, ()))]
    gate = out.add_node("residual", {}, rng=rng, pos=(x0 + 160.0, 0.0))
    gate.gid = derived_gid(gate.uid, f"gate>{at}")
    out.connect(at, gate.uid, rng=rng)
    for uid in consumers:  # at's readers now read the gate, which passes at through
        out.edges[uid].src = gate.uid
    for end in ends:
        _connect(out, end, gate.uid, rng, "in", chosen)
    try:
        out.validate()
    except GraphError as exc:
        raise GraphError(f"the result would not run: {exc}", node=exc.node) from None
    return out, uids, edges, adapters, gate.uid


def _connect(g: Graph, a: str, b: str, rng: random.Random, port: str, chosen: list[str]) -> None:
    if g.would_cycle(a, b):
        raise GraphError(
            f"wiring {g.nodes[a].title!r} into {g.nodes[b].title!r} would make a cycle "
            f"(the piece {', '.join(chosen)} would read what it feeds); choose another --at",
            node=b,
        )
    g.connect(a, b, rng=rng, dst_port=port)


def graft(
    src: Graph,
    src_weights: Tensors,
    nodes: list[str],
    dst: Graph,
    dst_weights: Tensors,
    at: str | None = None,
    seed: int = 0,
) -> Grafted:
    """OUT with its weights: DST's, the piece's from SRC (renamed to OUT's uids), and fresh
    ones for the adapters and the gate (whose scale starts at zero)."""
    graph, uids, edges, adapters, gate = graft_graph(src, nodes, dst, at, random.Random(seed))
    given: Tensors = dict(dst_weights)
    for key, t in src_weights.items():
        kind, uid, rest = key.split("/", 2) if key.count("/") >= 2 else ("", "", "")
        if kind == "node" and uid in uids:
            given[f"node/{uids[uid]}/{rest}"] = t
        elif kind == "edge" and uid in edges:
            given[f"edge/{edges[uid]}/{rest}"] = t
    brain = compile_graph(graph, seed=seed)
    own = brain.weights()
    fit = {k: t for k, t in given.items() if k in own and tuple(t.shape) == tuple(own[k].shape)}
    brain.load_weights(fit, strict=False)
    piece = {f"node/{u}/" for u in uids.values()} | {f"edge/{u}/" for u in edges.values()}
    copied = sorted(k for k in fit if any(k.startswith(p) for p in piece))
    fresh = sorted(k for k in own if k not in fit and any(k.startswith(p) for p in piece))
    return Grafted(graph, brain.weights(), uids, adapters, gate, copied, fresh)


def graft_files(
    src: GraphFile, nodes: list[str], dst: GraphFile, at: str | None = None
) -> tuple[GraphFile, Grafted]:
    """``graft`` on two loaded files: OUT keeps DST's tasks, codecs, genes and probes (it
    computes what DST computed, so the probes still hold) and records both as parents."""
    from openbrains.engine.format.identity import content_id
    from openbrains.engine.lineage import Parent, child_lineage

    for doc, which in ((src, "source"), (dst, "target")):
        if doc.graph is None:
            raise GraphError(f"the {which} file ({doc.kind}) has no graph")
    assert src.graph is not None and dst.graph is not None
    done = graft(src.graph, src.weights, nodes, dst.graph, dst.weights, at)
    done.graph.lineage = child_lineage(
        [
            (
                Parent(content_id(dst.graph, dst.weights), "graft"),
                dst.graph.lineage,
                list(dst.graph.tasks),
            ),
            (
                Parent(content_id(src.graph, src.weights), "graft"),
                src.graph.lineage,
                list(src.graph.tasks),
            ),
        ]
    )
    doc = GraphFile(kind="graph", graph=done.graph, weights=done.weights, probes=dict(dst.probes))
    return doc, done
