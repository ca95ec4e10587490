"""Showing a graph next to the one before it: what was added, changed and removed.

"Follow champion" and the parent | child view both lay the graph out afresh with
``engine.layout.layered_layout`` (cards never overlap; a wire that skips layers gets a
lane of its own, so no wire runs under a card) over the *union* of the two graphs, so a
removed node keeps a slot of its own and is drawn there as a dimmed ghost. The marks stay
until the next graph is shown: a person reads them at their own pace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openbrains.canvas.catalog import Catalog
from openbrains.canvas.items.node import WIDTH as NODE_WIDTH
from openbrains.canvas.scene import GraphScene
from openbrains.engine.graph import Graph
from openbrains.engine.layout import Layout, layered_layout


@dataclass
class GraphDiff:
    """Node and wire uids in the newer graph only, in the older only, and the nodes whose
    unit, params or flags differ (with a few words on how)."""

    added: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    changed: dict[str, str] = field(default_factory=dict)
    rewired: set[str] = field(default_factory=set)  # same wire uid, other ends: also in added

    def marks(self) -> dict[str, str]:
        out = dict.fromkeys(self.added, "added")
        out.update(dict.fromkeys(self.removed, "removed"))
        out.update(dict.fromkeys(self.changed, "changed"))
        return out

    def summary(self, old: Graph, new: Graph) -> str:
        """One line: "+2 nodes, −1 node, 1 changed, +3 wires"."""
        parts = []
        for sign, uids, graph in (("+", self.added, new), ("−", self.removed, old)):
            n = sum(1 for u in uids if u in graph.nodes)
            w = sum(1 for u in uids if u in graph.edges)
            if n:
                parts.append(f"{sign}{n} node{'s' if n > 1 else ''}")
            if w:
                parts.append(f"{sign}{w} wire{'s' if w > 1 else ''}")
        if self.changed:
            parts.append(f"{len(self.changed)} changed")
        return ", ".join(parts) or "no change in structure"


def _value(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def describe_change(old: dict[str, Any], new: dict[str, Any]) -> str:
    """``{"width": 32}`` → ``{"width": 48}``: "width 32 → 48"."""
    keys = sorted(set(old) | set(new))
    return ", ".join(
        f"{k} {_value(old.get(k, '—'))} → {_value(new.get(k, '—'))}"
        for k in keys
        if old.get(k) != new.get(k)
    )


def diff_graphs(old: Graph, new: Graph) -> GraphDiff:
    d = GraphDiff()
    d.added = {u for u in new.nodes if u not in old.nodes}
    d.added |= {u for u in new.edges if u not in old.edges}
    d.removed = {u for u in old.nodes if u not in new.nodes}
    d.removed |= {u for u in old.edges if u not in new.edges}
    for uid, n in new.nodes.items():
        o = old.nodes.get(uid)
        if o is None:
            continue
        words = []
        if o.unit != n.unit:
            words.append(f"{o.unit} → {n.unit}")
        if o.params != n.params:
            words.append(describe_change(o.params, n.params))
        if (o.frozen, o.trainable) != (n.frozen, n.trainable):
            words.append("flags")
        if words:
            d.changed[uid] = "; ".join(words)
    for uid, e in new.edges.items():  # a wire whose ends moved is a new wire to the eye
        o = old.edges.get(uid)
        if o is not None and (o.src, o.dst, o.src_port, o.dst_port) != (
            e.src,
            e.dst,
            e.src_port,
            e.dst_port,
        ):
            d.added.add(uid)
            d.rewired.add(uid)
    return d


def union_graph(old: Graph, new: Graph, diff: GraphDiff) -> Graph:
    """``new`` plus what ``old`` had and ``new`` lost: the graph the layout places."""
    both = new.copy()
    for uid in diff.removed:
        if uid in old.nodes:
            both.nodes[uid] = old.nodes[uid]
    for uid in diff.removed:
        e = old.edges.get(uid)
        if e is not None and e.src in both.nodes and e.dst in both.nodes:
            both.edges[uid] = e
    return both


def lay_out(scene: GraphScene, graph: Graph) -> Layout:
    """``layered_layout`` of ``graph`` with the sizes of the cards ``scene`` shows for it."""
    sizes = {}
    for uid in graph.nodes:
        item = scene.nodes.get(uid) or scene.ghost_nodes.get(uid)
        if item is not None:
            sizes[uid] = (NODE_WIDTH, float(item.height))
    return layered_layout(graph, sizes)


def show_changes(
    scene: GraphScene,
    graph: Graph,
    old: Graph | None,
    catalog: Catalog,
    ghosts: bool = True,
    layout_of: Graph | None = None,
) -> GraphDiff:
    """Make ``scene`` show ``graph`` laid out afresh, marked against ``old`` (when given).

    ``graph``'s node positions are set (in place) to the layout's. With ``ghosts``, what
    ``old`` had and ``graph`` lacks stays in view, dimmed. ``layout_of``: lay out this
    graph instead (the parent | child view gives both sides the layout of their union,
    so a node sits at the same spot on both)."""
    diff = diff_graphs(old, graph) if old is not None else GraphDiff()
    scene.clear_ghosts()
    if ghosts and old is not None:
        scene.make_ghosts(u for u in diff.removed if u in old.nodes)
    scene.sync(graph, catalog)
    if ghosts and old is not None:
        for uid in diff.removed:
            if uid in old.edges:
                scene.add_ghost_wire(old.edges[uid])
    if layout_of is None:
        layout_of = union_graph(old, graph, diff) if ghosts and old is not None else graph
    layout = lay_out(scene, layout_of)
    for uid, node in graph.nodes.items():
        node.pos = layout.positions[uid]
    scene.sync(graph, catalog)
    for uid, item in scene.ghost_nodes.items():
        if uid in layout.positions:
            item.setPos(*layout.positions[uid])
    scene.set_marks(diff.marks(), diff.changed)
    for uid, wire in (*scene.wires.items(), *scene.ghost_wires.items()):
        wire.set_lanes(layout.lanes.get(uid, []))
    return diff
