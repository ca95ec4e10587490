"""Small topology pictures of graphs for the population view (DESIGN §6).

A thumbnail is the graph's layered layout (``engine.layout``, torch-free) squeezed into a
fixed box: wires as soft curves, nodes as rounded boxes (dots when crowded) coloured by
unit category. Rendering is cheap but not free (JSON parse + layout), and a population
redraws often, so images are cached by a hash of the graph JSON.

Colours come from ``canvas.theme``; the species palette (shared with the plots) and the
unit → category map live here.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

from openbrains.canvas.theme import CATEGORY_COLORS, COLORS, color
from openbrains.engine.graph import Graph
from openbrains.engine.layout import LAYER_DX, ROW_DY, layered_positions
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen

# Unit name → category. The canvas may not ask the registry (it imports torch), so the
# built-in units are listed here; the app may add others from the catalog it receives
# (``register_categories``). Unknown units are drawn in the "other" grey.
UNIT_CATEGORY: dict[str, str] = {
    "input": "io",
    "output": "io",
    "dense": "learning",
    "conv1d": "conv",
    "conv2d": "conv",
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
MAX_DX = 44.0  # px between layers, at most (small graphs stay compact and centred)
MAX_DY = 22.0  # px between rows, at most


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


def _positions(graph: Graph) -> dict[str, tuple[float, float]]:
    try:
        return layered_positions(graph)
    except Exception:  # a cycle: draw in insertion order rather than not at all
        return {uid: (i * LAYER_DX, 0.0) for i, uid in enumerate(graph.nodes)}


def _draw_placeholder(p: QPainter, w: int, h: int) -> None:
    p.setPen(QPen(color("text_faint"), 1.2, Qt.PenStyle.DashLine))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRoundedRect(QRectF(4, 4, w - 8, h - 8), 6, 6)
    f = p.font()
    f.setPixelSize(max(10, h // 3))
    p.setFont(f)
    p.setPen(color("text_faint"))
    p.drawText(QRectF(0, 0, w, h), Qt.AlignmentFlag.AlignCenter, "?")


def _draw_graph(p: QPainter, graph: Graph, w: int, h: int) -> None:
    pos = _positions(graph)
    if not pos:
        _draw_placeholder(p, w, h)
        return
    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    span_x, span_y = x1 - x0, y1 - y0
    inner_w, inner_h = w - 2 * MARGIN, h - 2 * MARGIN
    sx = min(inner_w / span_x if span_x else 1.0, MAX_DX / LAYER_DX)
    sy = min(inner_h / span_y if span_y else 1.0, MAX_DY / ROW_DY)
    ox = (w - span_x * sx) / 2 - x0 * sx
    oy = (h - span_y * sy) / 2 - y0 * sy
    pts = {uid: QPointF(x * sx + ox, y * sy + oy) for uid, (x, y) in pos.items()}

    dx = LAYER_DX * sx  # pixel distance between layers
    dy = ROW_DY * sy
    bw = max(4.0, min(dx * 0.5, 16.0))
    bh = max(4.0, min(dy * 0.62, 9.0))
    dots = bw < 7.0 or bh < 5.0
    if dots:
        bw = bh = max(3.5, min(bw, bh, 7.0))

    wire = QColor(color("wire"))
    wire.setAlphaF(0.55 if len(graph.edges) < 40 else 0.35)
    p.setPen(QPen(wire, 1.1))
    p.setBrush(Qt.BrushStyle.NoBrush)
    for e in graph.edges.values():
        a, b = pts.get(e.src), pts.get(e.dst)
        if a is None or b is None:
            continue
        path = QPainterPath(QPointF(a.x() + bw / 2, a.y()))
        end = QPointF(b.x() - bw / 2, b.y())
        if end.x() > path.currentPosition().x() + 1:
            mid = (path.currentPosition().x() + end.x()) / 2
            path.cubicTo(QPointF(mid, a.y()), QPointF(mid, b.y()), end)
        else:
            path.lineTo(end)
        p.drawPath(path)

    outline = QColor(COLORS["window"])
    for uid, node in graph.nodes.items():
        c = pts[uid]
        rect = QRectF(c.x() - bw / 2, c.y() - bh / 2, bw, bh)
        fill = unit_color(node.unit)
        if node.unit in ("input", "output"):
            p.setPen(QPen(fill, 1.4))
            p.setBrush(outline)
        else:
            p.setPen(QPen(color("frozen") if node.frozen else outline, 1.2 if node.frozen else 1.0))
            p.setBrush(fill)
        if dots:
            p.drawEllipse(rect)
        else:
            r = min(bh / 2, 3.0)
            p.drawRoundedRect(rect, r, r)
