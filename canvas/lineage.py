"""The family tree: how an individual (the champion, usually) came to be.

Picbreeder-style: its ancestors as cards from the oldest at the top down to it, each with
a picture of its graph and its score, and on each step from parent to child the mutation
that made it. A click opens that individual on the canvas (and so the tree does not change
under the pointer: a new champion's tree waits until it leaves); "Compare with parent" shows it
beside its parent. Crossovers have two parents, so the tree is a layered DAG (laid out by
``engine.layout.layered_layout``, turned on its side). Fed plain dicts (the archive's
summaries with their graph JSON), never torch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsSceneMouseEvent,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyleOptionGraphicsItem,
    QVBoxLayout,
    QWidget,
)

from openbrains.canvas.theme import COLORS, color
from openbrains.canvas.thumbnail import render_thumbnail
from openbrains.engine.graph import Edge, Graph, Node
from openbrains.engine.layout import layered_layout

CARD = (150.0, 104.0)
PICTURE = (138, 58)
LABEL_ROOM = 150.0  # room beside an edge for its mutation's words
MIN_ZOOM = 0.55  # the family tree zooms out no further to fit its dock's width
UID = re.compile(r"\b[0-9a-f]{8}\b")


def readable_detail(detail: str, nodes: Mapping[str, tuple[str, str]] | None = None) -> str:
    """A mutation's detail without the uids a person cannot read: ``"add gru 1a2b3c4d
    after dense 5e6f7a8b"`` → ``"add gru after dense"``. A uid that follows its own unit's
    name goes; one that does not is replaced by the node's name (``(sum into ‘label’)``);
    an unknown one goes."""
    nodes = nodes or {}

    def swap(m: re.Match[str]) -> str:
        unit, title = nodes.get(m.group(0), ("", ""))
        before = detail[: m.start()].rstrip().rsplit(" ", 1)[-1].lstrip("(")
        if not unit:
            return ""
        named = title if title == unit else f"‘{title}’"
        if before == unit:
            return "" if title == unit else named
        return named

    text = UID.sub(swap, detail)
    text = re.sub(r" {2,}", " ", text)
    return re.sub(r" ([;,)])", r"\1", text).replace("( ", "(").strip()


def node_names(graph_json: str | None) -> dict[str, tuple[str, str]]:
    if not graph_json:
        return {}
    try:
        graph = Graph.from_json(graph_json)
    except Exception:
        return {}
    return {uid: (n.unit, n.title) for uid, n in graph.nodes.items()}


def _score(v: Any) -> str:
    return "—" if not isinstance(v, int | float) else f"{v:.4f}"


class AncestorCard(QGraphicsItem):
    """One individual: picture of its graph, id, score; the chosen one is outlined."""

    def __init__(self, data: dict[str, Any], metric: str, focus: bool) -> None:
        super().__init__()
        self.data = data
        self.ind = int(data["id"])
        self.metric = metric
        self.focus = focus
        self.selected = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.hover = False
        origin = str(data.get("origin") or "")
        lines = [f"#{self.ind} · {origin}", f"{metric} {_score(data.get('score'))}"]
        if data.get("params") is not None:
            lines.append(f"{int(data['params']):,} params")
        self.setToolTip("<br>".join(lines))

    def boundingRect(self) -> QRectF:
        w, h = CARD
        return QRectF(-w / 2 - 3, -h / 2 - 3, w + 6, h + 6)

    def paint(
        self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        w, h = CARD
        r = QRectF(-w / 2, -h / 2, w, h)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(color("card_hover" if self.hover else "card"))
        edge = "champion" if self.focus else "accent" if self.selected else "border"
        p.setPen(QPen(color(edge), 2.0 if self.focus or self.selected else 1.0))
        p.drawRoundedRect(r, 6, 6)
        graph = self.data.get("graph")
        if graph:
            p.drawImage(QPointF(r.left() + 6, r.top() + 5), render_thumbnail(graph, PICTURE))
        font = QFont()
        font.setPixelSize(11)
        p.setFont(font)
        p.setPen(color("champion") if self.focus else color("text"))
        text = QRectF(r.left() + 8, r.top() + PICTURE[1] + 7, w - 16, 16)
        star = "  ★" if self.focus else ""
        p.drawText(text, Qt.AlignmentFlag.AlignLeft, f"#{self.ind}{star}")
        p.setPen(color("text_dim"))
        p.drawText(text, Qt.AlignmentFlag.AlignRight, str(self.data.get("origin") or ""))
        p.setPen(color("text"))
        p.drawText(
            text.translated(0, 16),
            Qt.AlignmentFlag.AlignLeft,
            f"{self.metric} {_score(self.data.get('score'))}",
        )

    def hoverEnterEvent(self, event: Any) -> None:
        self.hover = True
        self.update()

    def hoverLeaveEvent(self, event: Any) -> None:
        self.hover = False
        self.update()

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        scene = self.scene()
        if event.button() == Qt.MouseButton.LeftButton and isinstance(scene, TreeScene):
            scene.chosen.emit(self.ind)
            event.accept()
            return
        super().mousePressEvent(event)


class TreeScene(QGraphicsScene):
    chosen = Signal(int)


class FamilyTreeView(QWidget):
    """The family tree dock's widget."""

    individualActivated = Signal(int)
    compareRequested = Signal(int)
    refreshRequested = Signal()
    redrawWanted = Signal(int)  # a held champion's tree, now that the pointer left

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene = TreeScene(self)
        self.scene.chosen.connect(self._on_chosen)
        self.view = QGraphicsView(self.scene, self)
        self.view.setRenderHints(
            QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing
        )
        self.view.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.view.setStyleSheet(f"background: {COLORS['panel']}; border: none;")
        self.title = QLabel(self)
        self.title.setWordWrap(True)
        self.title.setContentsMargins(8, 4, 8, 0)
        self.compare_button = QPushButton("Compare with parent", self)
        self.compare_button.setToolTip(
            "the chosen individual beside its parent, differences marked"
        )
        self.compare_button.clicked.connect(self._compare)
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.setToolTip("draw the tree of the current champion")
        self.refresh_button.clicked.connect(self.refreshRequested)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 2)
        bar.addWidget(self.compare_button)
        bar.addStretch(1)
        bar.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self.cards: dict[int, AncestorCard] = {}
        self.edges: dict[tuple[int, int], QGraphicsPathItem] = {}
        self.labels: dict[tuple[int, int], QGraphicsSimpleTextItem] = {}
        self.focus: int | None = None
        self.selected: int | None = None
        self.waiting: int | None = None  # a champion whose tree waits for the pointer
        self.pointer_over = False
        self.view.viewport().installEventFilter(self)
        self.set_lineage([], None)

    # ----- public API --------------------------------------------------------------------
    def set_lineage(
        self, items: list[dict[str, Any]], focus: int | None, metric: str = "score"
    ) -> None:
        """Draw the ancestry of ``focus``: ``items`` are it and its ancestors (summaries
        with ``parents``, ``mutation``, ``detail``, ``score`` and ``graph``)."""
        self.waiting = None
        self.scene.clear()
        self.cards, self.edges, self.labels = {}, {}, {}
        self.focus, self.selected = focus, focus
        by_id = {int(d["id"]): d for d in items}
        if focus is None or focus not in by_id:
            self.title.setText("  The family tree of the champion appears here once a run has one.")
            self.compare_button.setEnabled(False)
            return
        generations = self._draw(by_id, focus, metric)
        self.title.setText(
            f"<b>#{focus}</b>: {len(by_id)} individuals, {generations} generations back"
        )
        self._select(focus)
        self.view.setSceneRect(self.scene.itemsBoundingRect().adjusted(-20, -20, 20, 20))
        self.fit_width()

    def hold_for(self, ind: int) -> bool:
        """A new champion, ``ind``, while the pointer is over the tree: keep the picture (a
        click must open the card aimed at), say so, and ask for its tree (``redrawWanted``)
        when the pointer leaves. Returns whether it waits."""
        if not self.pointer_over:
            return False
        self.waiting = int(ind)
        self.title.setText(
            f"{self.title.text()} · <i>a new champion, #{ind}: its tree comes when the "
            "pointer leaves</i>"
        )
        return True

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.view.viewport() and event.type() == QEvent.Type.Enter:
            self.pointer_over = True
        elif obj is self.view.viewport() and event.type() == QEvent.Type.Leave:
            self.pointer_over = False
            if self.waiting is not None:
                ind, self.waiting = self.waiting, None
                self.redrawWanted.emit(ind)
        return super().eventFilter(obj, event)

    def fit_width(self) -> None:
        """Zoom out (down to ``MIN_ZOOM``) until the tree's width fits the dock, and keep
        the chosen individual in view: a tree is read top to bottom, scrolling down only."""
        rect = self.view.sceneRect()
        room = max(1, self.view.viewport().width() - 8)
        zoom = max(MIN_ZOOM, min(1.0, room / max(rect.width(), 1.0)))
        self.view.resetTransform()
        self.view.scale(zoom, zoom)
        if self.focus in self.cards:
            self.view.ensureVisible(self.cards[self.focus])

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.cards:
            self.fit_width()

    def ids(self) -> list[int]:
        return list(self.cards)

    def mutation_label(self, parent: int, child: int) -> str:
        item = self.labels.get((parent, child))
        return item.text() if item is not None else ""

    def card_center(self, ind: int) -> QPointF:
        """Where the card of ``ind`` is, in the view's viewport (tests click there)."""
        card = self.cards[ind]
        return QPointF(self.view.mapFromScene(card.scenePos()))

    # ----- drawing -------------------------------------------------------------------------
    def _draw(self, by_id: dict[int, dict[str, Any]], focus: int, metric: str) -> int:
        g = Graph()  # individuals as nodes, descent as wires: plain data for the layout
        for ind in by_id:
            g.nodes[f"i{ind}"] = Node(uid=f"i{ind}", unit="individual")
        for ind, d in by_id.items():
            for p in d.get("parents") or []:
                if int(p) in by_id and int(p) != ind:
                    uid = f"e{int(p)}_{ind}"
                    g.edges[uid] = Edge(uid=uid, src=f"i{int(p)}", dst=f"i{ind}")
        # on its side: the layout runs left to right, the tree top to bottom
        sizes = {uid: (CARD[1], CARD[0] + LABEL_ROOM) for uid in g.nodes}
        layout = layered_layout(g, sizes, column_gap=46.0, row_gap=24.0)
        pos = {int(uid[1:]): QPointF(y, x) for uid, (x, y) in layout.positions.items()}
        for ind, d in by_id.items():
            card = AncestorCard(d, metric, ind == focus)
            card.setPos(pos[ind])
            card.setZValue(1)
            self.scene.addItem(card)
            self.cards[ind] = card
        pen = QPen(color("wire", 0.8), 1.6)
        for e in g.edges.values():
            a, b = int(e.src[1:]), int(e.dst[1:])
            start = pos[a] + QPointF(0, CARD[1] / 2)
            end = pos[b] - QPointF(0, CARD[1] / 2)
            path = QPainterPath(start)
            here = start
            points = [QPointF(y, x) for x, y in layout.lanes.get(e.uid, [])]
            for k in range(0, len(points) - 1, 2):
                enter, leave = points[k], points[k + 1]
                mid = (here.y() + enter.y()) / 2
                path.cubicTo(QPointF(here.x(), mid), QPointF(enter.x(), mid), enter)
                path.lineTo(leave)
                here = leave
            mid = (here.y() + end.y()) / 2
            path.cubicTo(QPointF(here.x(), mid), QPointF(end.x(), mid), end)
            edge = QGraphicsPathItem(path)
            edge.setPen(pen)
            self.scene.addItem(edge)
            self.edges[(a, b)] = edge
            child = by_id[b]
            names = node_names(child.get("graph")) | node_names(by_id[a].get("graph"))
            words = readable_detail(str(child.get("detail") or child.get("mutation") or ""), names)
            label = QGraphicsSimpleTextItem(self._elide(words))
            label.setToolTip(words)
            label.setBrush(color("text_dim"))
            font = QFont()
            font.setPixelSize(10)
            label.setFont(font)
            mid_point = path.pointAtPercent(0.5)
            label.setPos(mid_point + QPointF(8, -7))
            self.scene.addItem(label)
            self.labels[(a, b)] = label
        depth = {uid: round(x) for uid, (x, _y) in layout.positions.items()}
        return len(set(depth.values())) - 1

    @staticmethod
    def _elide(text: str, room: int = 34) -> str:
        return text if len(text) <= room else text[: room - 1] + "…"

    def _select(self, ind: int) -> None:
        for i, card in self.cards.items():
            card.selected = i == ind
            card.update()
        self.selected = ind
        has_parent = any(child == ind for (_p, child) in self.edges)
        self.compare_button.setEnabled(has_parent)

    def _on_chosen(self, ind: int) -> None:
        self._select(ind)
        self.individualActivated.emit(ind)

    def _compare(self) -> None:
        if self.selected is not None:
            self.compareRequested.emit(self.selected)
