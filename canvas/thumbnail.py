"""Small topology pictures of graphs for the population view (DESIGN §6).

A thumbnail is the graph's layered layout (``engine.layout.layered_layout``, torch-free)
scaled into a fixed box: branches side by side, merges where wires meet, a lane for each
wire that skips layers, nodes as boxes as tall as their layer is wide, coloured by unit
category, so two different topologies never look alike. Rendering is cheap but not free (JSON parse + layout), and a population
redraws often, so images are cached by a hash of the graph JSON.

Colours come from ``canvas.theme``; the species palette (shared with the plots) and the
unit → category map live here.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen

from openbrains.canvas.theme import CATEGORY_COLORS, COLORS, color
from openbrains.engine.graph import Graph, Node
from openbrains.engine.layout import layered_layout

# Unit name → category. The canvas may not ask the registry (it imports torch), so the
# built-in units are listed here; the app may add others from the catalog it receives
# (``register_categories``). Unknown units are drawn in the "other" grey.
UNIT_CATEGORY: dict[str, str] = {
    "input": "io",
    "output": "io",
    "dense": "learning",
    "conv1d": "conv",
    "conv2d": "conv",
    "sepconv2d": "conv",
    "dwconv2d": "conv",
    "gru": "recurrent",
    "lstm": "recurrent",
    "attention": "attention",
    "layernorm": "norm",
    "rmsnorm": "norm",
    "batchnorm": "norm",
    "activation": "activation",
    "sum": "merge",
    "concat": "merge",
    "gate": "merge",
    "residual": "merge",
    "pool": "pooling",
    "flatten": "pooling",
    "embedding": "embedding",
    "dropout": "regularize",
    "hebbian": "local",
    "reservoir": "local",
    "ssm": "recurrent",
    "mamba": "recurrent",
    "cfc": "recurrent",
    "lif": "recurrent",
    "rwkv": "attention",
    "hopfield": "attention",
    "moe": "learning",
    "kan": "learning",
    "local_dense": "local",
}

# A qualitative palette for species (cycled by species number).
SPECIES_COLORS: tuple[str, ...] = (
    "#4fa3ff",
    "#f2994a",
    "#5bd778",
    "#e86bb0",
    "#b48cf2",
    "#f2d64e",
    "#4ed8d0",
    "#ef6b6b",
    "#a3c76b",
    "#c9a27e",
)


def register_categories(categories: dict[str, str]) -> None:
    """Unit name → category for units beyond the built-in ones (from the catalog)."""
    UNIT_CATEGORY.update({str(k): str(v) for k, v in categories.items()})


def unit_color(unit: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(UNIT_CATEGORY.get(unit, "other"), CATEGORY_COLORS["other"]))


def species_color(species: Any) -> QColor:
    try:
        i = int(species)
    except (TypeError, ValueError):
        return QColor(CATEGORY_COLORS["other"])
    return QColor(SPECIES_COLORS[i % len(SPECIES_COLORS)])


# ----- rendering -----------------------------------------------------------------------
CACHE_SIZE = 1024
_cache: OrderedDict[tuple[str, int, int, float], QImage] = OrderedDict()

MARGIN = 8.0
# a node's glyph, in layout units (scaled to fit the picture, at most MAX_SCALE px a unit)
GLYPH_W = 8.0
GLYPH_MIN_H = 4.0
GLYPH_MAX_H = 16.0
GLYPH_GAP_X = 6.0
GLYPH_GAP_Y = 4.0
MAX_SCALE = 1.6
STRETCH = 3.0


def graph_key(graph_json: str | bytes) -> str:
    data = graph_json.encode() if isinstance(graph_json, str) else graph_json
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def clear_cache() -> None:
    _cache.clear()


def cache_size() -> int:
    return len(_cache)


def render_thumbnail(
    graph_json: str | bytes, size: tuple[int, int] = (160, 100), dpr: float = 1.0
) -> QImage:
    """The graph's topology in a ``size`` image (transparent background).

    ``dpr`` renders at that device pixel ratio for sharp pictures on high-DPI screens.
    A graph that cannot be parsed gives a placeholder with a question mark, never an error:
    a thumbnail must not take the population view down.
    """
    w, h = int(size[0]), int(size[1])
    key = (graph_key(graph_json), w, h, float(dpr))
    img = _cache.get(key)
    if img is not None:
        _cache.move_to_end(key)
        return img
    img = QImage(
        max(1, round(w * dpr)), max(1, round(h * dpr)), QImage.Format.Format_ARGB32_Premultiplied
    )
    img.setDevicePixelRatio(dpr)
    img.fill(Qt.GlobalColor.transparent)
    painter = QPainter(img)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    try:
        try:
            graph = Graph.from_json(graph_json)
        except Exception:
            _draw_placeholder(painter, w, h)
        else:
            _draw_graph(painter, graph, w, h)
    finally:
        painter.end()
    _cache[key] = img
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return img


def _draw_placeholder(p: QPainter, w: int, h: int) -> None:
    p.setPen(QPen(color("text_faint"), 1.2, Qt.PenStyle.DashLine))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRoundedRect(QRectF(4, 4, w - 8, h - 8), 6, 6)
    f = p.font()
    f.setPixelSize(max(10, h // 3))
    p.setFont(f)
    p.setPen(color("text_faint"))
    p.drawText(QRectF(0, 0, w, h), Qt.AlignmentFlag.AlignCenter, "?")


def glyph_height(node: Node) -> float:
    """A node's height in the picture: grows with its width (log scale), so a wide layer
    looks wide; units without a width are thin."""
    width = node.params.get("width") or node.params.get("channels")
    if not isinstance(width, int | float) or isinstance(width, bool) or width <= 0:
        return GLYPH_MIN_H
    return max(GLYPH_MIN_H, min(GLYPH_MAX_H, GLYPH_MIN_H + 2.2 * math.log2(max(1.0, width / 2))))


def _draw_graph(p: QPainter, graph: Graph, w: int, h: int) -> None:
    """The real topology: ``engine.layout.layered_layout`` (branches side by side, a lane
    for each wire that skips layers), boxes as tall as the layer is wide, in the colour of
    the unit's category; scaled to fit, never stretched."""
    if not graph.nodes:
        _draw_placeholder(p, w, h)
        return
    sizes = {uid: (GLYPH_W, glyph_height(n)) for uid, n in graph.nodes.items()}
    layout = layered_layout(graph, sizes, column_gap=GLYPH_GAP_X, row_gap=GLYPH_GAP_Y, lane=3.0)
    boxes = {
        uid: QRectF(x - sizes[uid][0] / 2, y - sizes[uid][1] / 2, *sizes[uid])
        for uid, (x, y) in layout.positions.items()
    }
    bounds = QRectF()
    for r in boxes.values():
        bounds = bounds.united(r)
    for points in layout.lanes.values():
        for x, y in points:
            bounds = bounds.united(QRectF(x, y, 0.1, 0.1))
    inner_w, inner_h = w - 2 * MARGIN, h - 2 * MARGIN
    # a long chain is wide and flat: rows may spread more than columns (up to STRETCH×),
    # so branches and the heights of wide layers use the picture's height
    sx = min(inner_w / max(bounds.width(), 1e-6), MAX_SCALE)
    sy = min(inner_h / max(bounds.height(), 1e-6), sx * STRETCH)
    scale = min(sx, sy)
    ox = (w - bounds.width() * sx) / 2 - bounds.left() * sx
    oy = (h - bounds.height() * sy) / 2 - bounds.top() * sy

    def at(x: float, y: float) -> QPointF:
        return QPointF(x * sx + ox, y * sy + oy)

    wire = QColor(color("wire"))
    wire.setAlphaF(0.6 if len(graph.edges) < 40 else 0.4)
    p.setPen(QPen(wire, max(0.8, min(1.4, scale * 0.5))))
    p.setBrush(Qt.BrushStyle.NoBrush)
    for e in graph.edges.values():
        a, b = boxes.get(e.src), boxes.get(e.dst)
        if a is None or b is None:
            continue
        start = at(a.right(), a.center().y())
        end = at(b.left(), b.center().y())
        points = [at(x, y) for x, y in layout.lanes.get(e.uid, [])]
        path = QPainterPath(start)
        here = start
        for k in range(0, len(points) - 1, 2):
            path.cubicTo(*_bend(here, points[k]), points[k])
            path.lineTo(points[k + 1])
            here = points[k + 1]
        if end.x() > here.x() + 0.5:
            path.cubicTo(*_bend(here, end), end)
        else:
            path.lineTo(end)
        p.drawPath(path)

    outline = QColor(COLORS["window"])
    radius = max(1.0, min(3.0, 1.5 * scale))
    for uid, node in graph.nodes.items():
        r = boxes[uid]
        rect = QRectF(at(r.left(), r.top()), at(r.right(), r.bottom()))
        fill = unit_color(node.unit)
        if node.unit in ("input", "output"):
            p.setPen(QPen(fill, 1.4))
            p.setBrush(outline)
        else:
            p.setPen(QPen(color("frozen") if node.frozen else outline, 1.2 if node.frozen else 0.8))
            p.setBrush(fill)
        p.drawRoundedRect(rect, radius, radius)


def _bend(a: QPointF, b: QPointF) -> tuple[QPointF, QPointF]:
    mid = (a.x() + b.x()) / 2
    return QPointF(mid, a.y()), QPointF(mid, b.y())
