"""Layered layout for graphs that nobody drew: topological generations left to right.

Torch-free, so the canvas and the file writer share it. Nodes that already have a
position (placed by hand) keep it; only the others are placed.
"""

from __future__ import annotations

import networkx as nx
from openbrains.engine.graph import Graph

LAYER_DX = 230.0
ROW_DY = 120.0


def layered_positions(graph: Graph) -> dict[str, tuple[float, float]]:
    """A position for every node: column = topological generation, rows centred."""
    g = nx.DiGraph()
    g.add_nodes_from(graph.nodes)
    g.add_edges_from((e.src, e.dst) for e in graph.edges.values())
    order = {uid: i for i, uid in enumerate(graph.nodes)}
    out: dict[str, tuple[float, float]] = {}
    for col, generation in enumerate(nx.topological_generations(g)):
        rows = sorted(generation, key=order.__getitem__)
        top = -(len(rows) - 1) * ROW_DY / 2
        for row, uid in enumerate(rows):
            out[uid] = (col * LAYER_DX, top + row * ROW_DY)
    return out


def auto_layout(graph: Graph, keep_placed: bool = True) -> Graph:
    """Give unplaced nodes a position (in place); returns the graph for chaining."""
    positions = layered_positions(graph)
    for uid, node in graph.nodes.items():
        if node.pos is None or not keep_placed:
            node.pos = positions[uid]
    return graph
