"""Layered layouts for graphs that nobody drew, left to right.

Torch-free, so the canvas and the file writer share it. ``auto_layout`` places the nodes
that have no position yet (topological generations, fixed spacing); ``layered_layout``
lays a whole graph out afresh for watching it (cards of given sizes that never overlap,
a lane for each wire that skips layers), which is what "follow champion", the
parent | child view and the population thumbnails draw.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT, Graph

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


# ----- a layout for watching: sized cards, no overlaps, a lane for every long wire ----------
DEFAULT_SIZE = (172.0, 76.0)  # a canvas card (canvas.items.node), when sizes are not given
COLUMN_GAP = 72.0  # between the widest cards of two neighbouring layers: wires bend here
ROW_GAP = 28.0  # between two cards of one layer
LANE = 14.0  # the height a wire passing through a layer reserves there
SWEEPS = 4


@dataclass
class Layout:
    """Where ``layered_layout`` puts things. ``positions``: node centres. ``lanes``: for a
    wire spanning several layers, the points where it enters and leaves each layer it
    passes (pairs, left to right), so it can run in its own lane instead of under cards."""

    positions: dict[str, tuple[float, float]]
    lanes: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    layers: list[list[str]] = field(default_factory=list)


def layered_layout(
    graph: Graph,
    sizes: Mapping[str, tuple[float, float]] | None = None,
    column_gap: float = COLUMN_GAP,
    row_gap: float = ROW_GAP,
    lane: float = LANE,
) -> Layout:
    """A layered (Sugiyama-style) layout of the whole graph, ignoring stored positions.

    Layers are longest paths from the inputs (outputs in the last layer); a wire that
    skips layers gets a placeholder in each layer it crosses, so it keeps a lane of its
    own; the order inside a layer comes from barycentre sweeps (fewest crossings kept);
    rows are placed as near their neighbours as the cards' heights allow, never
    overlapping (ordered least-squares placement). ``sizes``: width and height per node.
    """
    size = dict(sizes or {})
    order = {uid: i for i, uid in enumerate(graph.nodes)}
    edges = _forward_edges(graph, order)
    layer = _assign_layers(graph, order, edges)
    n_layers = max(layer.values(), default=-1) + 1
    up: dict[str, list[str]] = {uid: [] for uid in graph.nodes}
    down: dict[str, list[str]] = {uid: [] for uid in graph.nodes}
    chains: dict[str, list[str]] = {}  # edge uid → its placeholders, left to right
    for uid, src, dst in edges:
        prev = src
        chain = []
        for k in range(layer[src] + 1, layer[dst]):
            dummy = f"~{uid}~{k}"
            layer[dummy] = k
            up[dummy], down[dummy] = [], []
            chain.append(dummy)
            down[prev].append(dummy)
            up[dummy].append(prev)
            prev = dummy
        down[prev].append(dst)
        up[dst].append(prev)
        if chain:
            chains[uid] = chain
    layers: list[list[str]] = [[] for _ in range(n_layers)]
    for item in sorted(layer, key=lambda x: (order.get(x, len(order)), x)):
        layers[layer[item]].append(item)
    layers = _order_layers(layers, up, down)

    def height(item: str) -> float:
        return lane if item not in graph.nodes else size.get(item, DEFAULT_SIZE)[1]

    def gap(a: str, b: str) -> float:
        return row_gap if a in graph.nodes and b in graph.nodes else row_gap / 2

    ys: dict[str, float] = {}
    for items in layers:
        ys.update(_place(items, height, {x: 0.0 for x in items}, gap))
    for _ in range(SWEEPS):
        for rng_, near in ((range(1, n_layers), up), (range(n_layers - 2, -1, -1), down)):
            for li in rng_:
                items = layers[li]
                want = {
                    x: (sum(ys[n] for n in near[x]) / len(near[x]) if near[x] else ys[x])
                    for x in items
                }
                ys.update(_place(items, height, want, gap))
    xs: list[float] = []
    right = 0.0
    for items in layers:
        width = max((size.get(x, DEFAULT_SIZE)[0] for x in items if x in graph.nodes), default=0)
        left = right + (column_gap if xs else 0.0)
        xs.append(left + width / 2)
        right = left + width
    positions = {uid: (xs[layer[uid]], ys[uid]) for uid in graph.nodes}
    lanes: dict[str, list[tuple[float, float]]] = {}
    for uid, chain in chains.items():
        points: list[tuple[float, float]] = []
        for dummy in chain:
            li = layer[dummy]
            half = (
                max(
                    (size.get(x, DEFAULT_SIZE)[0] for x in layers[li] if x in graph.nodes),
                    default=0,
                )
                / 2
            )
            points += [(xs[li] - half, ys[dummy]), (xs[li] + half, ys[dummy])]
        lanes[uid] = points
    real = [[x for x in items if x in graph.nodes] for items in layers]
    return Layout(positions, lanes, real)


def _forward_edges(graph: Graph, order: dict[str, int]) -> list[tuple[str, str, str]]:
    """The wires as (uid, src, dst), without self-loops and, should the graph have a cycle
    (a broken file), without the wires that close it (DFS back edges)."""
    edges = [
        (e.uid, e.src, e.dst)
        for e in graph.edges.values()
        if e.src in graph.nodes and e.dst in graph.nodes and e.src != e.dst
    ]
    succ: dict[str, list[str]] = {uid: [] for uid in graph.nodes}
    for _uid, src, dst in edges:
        succ[src].append(dst)
    state: dict[str, int] = {}  # 1: on the DFS stack, 2: done
    back: set[tuple[str, str]] = set()
    for root in sorted(graph.nodes, key=order.__getitem__):
        if root in state:
            continue
        stack = [(root, iter(succ[root]))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))
    return [(u, s, d) for u, s, d in edges if (s, d) not in back]


def _assign_layers(
    graph: Graph, order: dict[str, int], edges: list[tuple[str, str, str]]
) -> dict[str, int]:
    """Longest path from the sources; outputs moved to the last layer, hidden sources
    moved next to what they feed."""
    g = nx.DiGraph()
    g.add_nodes_from(sorted(graph.nodes, key=order.__getitem__))
    g.add_edges_from((s, d) for _u, s, d in edges)
    layer: dict[str, int] = {}
    for uid in nx.topological_sort(g):
        layer[uid] = max((layer[p] + 1 for p in g.predecessors(uid)), default=0)
    last = max(layer.values(), default=0)
    for uid, node in graph.nodes.items():
        if node.unit == OUTPUT_UNIT and not any(True for _ in g.successors(uid)):
            layer[uid] = last
    for uid in reversed(list(nx.topological_sort(g))):
        node = graph.nodes[uid]
        succ = list(g.successors(uid))
        if node.unit != INPUT_UNIT and succ and not any(True for _ in g.predecessors(uid)):
            layer[uid] = min(layer[s] for s in succ) - 1
    return layer


def _crossings(top: list[str], bottom: list[str], down: dict[str, list[str]]) -> int:
    where = {x: i for i, x in enumerate(bottom)}
    pairs = sorted((i, where[d]) for i, x in enumerate(top) for d in down[x] if d in where)
    count = 0
    for a in range(len(pairs)):
        for b in range(a + 1, len(pairs)):
            if pairs[a][0] < pairs[b][0] and pairs[a][1] > pairs[b][1]:
                count += 1
    return count


def _order_layers(
    layers: list[list[str]], up: dict[str, list[str]], down: dict[str, list[str]]
) -> list[list[str]]:
    """Barycentre sweeps down and up; the ordering with the fewest crossings wins."""

    def total(ls: list[list[str]]) -> int:
        return sum(_crossings(ls[i], ls[i + 1], down) for i in range(len(ls) - 1))

    def sweep(ls: list[list[str]], rng_: range, near: dict[str, list[str]], step: int) -> None:
        for li in rng_:
            ref = {x: i for i, x in enumerate(ls[li - step])}
            current = ls[li]

            def key(item: str, i: int, ref: dict[str, int] = ref, n: int = len(current)) -> float:
                seen = [ref[x] for x in near[item] if x in ref]
                scale = max(1, len(ref) - 1) / max(1, n - 1)
                return sum(seen) / len(seen) if seen else i * scale

            ls[li] = [x for _k, _i, x in sorted((key(x, i), i, x) for i, x in enumerate(current))]

    best = [list(items) for items in layers]
    if sum(len(down[x]) for items in layers for x in items) > 600:
        return best  # huge graphs: insertion order, no sweeps (a canvas of hundreds of nodes)
    best_count = total(best)
    current = [list(items) for items in layers]
    for _ in range(SWEEPS):
        sweep(current, range(1, len(current)), up, 1)
        sweep(current, range(len(current) - 2, -1, -1), down, -1)
        count = total(current)
        if count < best_count:
            best, best_count = [list(items) for items in current], count
    return best


def _place(
    items: list[str],
    height: Callable[[str], float],
    want: Mapping[str, float],
    gap: Callable[[str, str], float],
) -> dict[str, float]:
    """Centres for ``items`` in this order, each at least ``gap`` below the one before,
    as near the wanted centres as that allows (least squares: blocks of touching items
    settle at the mean of what their members want)."""
    blocks: list[list[Any]] = []  # [items, offsets, extent, sum of wanted tops, count, top]
    for x in items:
        h = height(x)
        block: list[Any] = [[x], [0.0], h, want[x] - h / 2, 1, want[x] - h / 2]
        while blocks:
            prev = blocks[-1]
            g = gap(prev[0][-1], block[0][0])
            if prev[5] + prev[2] + g <= block[5] + 1e-9:
                break
            shift = prev[2] + g
            prev[0] += block[0]
            prev[1] += [o + shift for o in block[1]]
            prev[3] += block[3] - shift * block[4]
            prev[4] += block[4]
            prev[2] = shift + block[2]
            prev[5] = prev[3] / prev[4]
            block = blocks.pop()
        blocks.append(block)
    out: dict[str, float] = {}
    for members, offsets, _extent, _sum, _n, top in blocks:
        for x, o in zip(members, offsets):
            out[x] = top + o + height(x) / 2
    return out
