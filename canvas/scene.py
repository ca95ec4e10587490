"""The editor's QGraphicsScene: node and wire items kept in step with a ``Graph``.

The scene never edits the graph. ``sync()`` rebuilds and updates items from it; mouse
gestures become requests (a wire to add, nodes dragged, a node to rename) that the editor
turns into undoable commands. While a wire is dragged out of a port, every port on the
other side is asked ``can_wire`` and glows (compatible) or dims (incompatible).

Animation durations are module constants so tests can shorten them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, QVariantAnimation, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsSceneMouseEvent,
    QGraphicsSimpleTextItem,
)

from openbrains.canvas import theme
from openbrains.canvas.catalog import Catalog
from openbrains.canvas.items.node import NodeItem
from openbrains.canvas.items.port import COMPATIBLE, INCOMPATIBLE, NORMAL, REFUSED, TARGET, PortItem
from openbrains.canvas.items.wire import WireItem
from openbrains.engine.graph import Edge, Graph

GLOW_MS = 1500  # how long an added/changed item glows after show_graph_animated
GHOST_OPACITY = 0.45  # a removed node kept in view until the next graph
FADE_MS = 600  # how long a removed item takes to fade out
SNAP_RADIUS = 22.0  # a dragged wire snaps to a port this close (scene units)
DIM_OPACITY = 0.4  # nodes a dragged wire cannot enter
GRID = 24.0
MAJOR_EVERY = 5

CanWire = Callable[[str, str, str, str], tuple[bool, str]]


class GraphScene(QGraphicsScene):
    wireRequested = Signal(str, str, str, str)  # src, src_port, dst, dst_port
    nodesDragged = Signal(object, object, int)  # positions before, after, drag id
    dragFinished = Signal(list)  # uids of the nodes that moved
    renameRequested = Signal(str)
    quickAddRequested = Signal(QPointF)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.nodes: dict[str, NodeItem] = {}
        self.wires: dict[str, WireItem] = {}
        self.can_wire: CanWire | None = None
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.setSceneRect(QRectF(-20000, -20000, 40000, 40000))
        # wire dragging
        self._drag_from: PortItem | None = None
        self._drag_wire: WireItem | None = None
        self._drag_target: PortItem | None = None
        self._verdicts: dict[PortItem, tuple[bool, str]] = {}
        self._hint: QGraphicsSimpleTextItem | None = None
        self._dimmed: list[NodeItem] = []
        # node dragging
        self._move_start: dict[str, tuple[float, float]] | None = None
        self._move_last: dict[str, tuple[float, float]] = {}
        self._drag_id = 0
        # animations: item → its running animation
        self._anims: dict[QGraphicsItem, QVariantAnimation] = {}
        # ghosts: what a newer graph removed, kept in view (dimmed) until the next one
        self.ghost_nodes: dict[str, NodeItem] = {}
        self.ghost_wires: dict[str, WireItem] = {}
        self._ghost_edges: dict[str, Edge] = {}

    # ----- keeping items in step with the graph ------------------------------------------
    def sync(self, graph: Graph, catalog: Catalog) -> None:
        """Make the items show ``graph``: add, update and remove items as needed."""
        for uid in [u for u in self.wires if u not in graph.edges]:
            self._drop(self.wires.pop(uid))
        for uid in [u for u in self.nodes if u not in graph.nodes]:
            self._drop(self.nodes.pop(uid))
        for uid, node in graph.nodes.items():
            item = self.nodes.get(uid)
            if item is None:
                item = NodeItem(uid)
                self.addItem(item)
                self.nodes[uid] = item
            item.set_node(
                node,
                catalog.spec(node.unit),
                catalog.input_ports(node, graph),
                catalog.output_ports(node, graph),
            )
        for uid, edge in graph.edges.items():
            src, dst = self.nodes.get(edge.src), self.nodes.get(edge.dst)
            if src is None or dst is None:
                continue
            sp = src.outputs.get(edge.src_port) or next(iter(src.outputs.values()), None)
            dp = dst.inputs.get(edge.dst_port) or next(iter(dst.inputs.values()), None)
            if sp is None or dp is None:
                continue
            wire = self.wires.get(uid)
            if wire is None:
                wire = WireItem(uid)
                self.addItem(wire)
                self.wires[uid] = wire
            if wire.src is not sp or wire.dst is not dp or wire.kind != sp.kind:
                wire.attach(sp, dp, sp.kind)
            else:
                wire.update_path()
        self._attach_ghost_wires()

    def _drop(self, item: QGraphicsItem) -> None:
        anim = self._anims.pop(item, None)
        if anim is not None:
            anim.stop()
        if isinstance(item, WireItem):
            item.detach()
        if item.scene() is self:
            self.removeItem(item)

    def set_check(self, result: dict[str, Any] | None, raw_error: str | None = None) -> None:
        """Decorate nodes with the checker's per-node params, shapes and errors.
        ``raw_error``: the message as the checker wrote it, with uids (``result``'s may
        name the nodes by title), to find the node at fault."""
        nodes = (result or {}).get("nodes") or {}
        error = (result or {}).get("error") or ""
        at_fault = str(raw_error if raw_error is not None else error)
        for uid, item in self.nodes.items():
            info = nodes.get(uid)
            if info is None and error and not nodes and uid in at_fault:
                # the graph did not resolve at all; the message names the node at fault
                info = {"error": error}
            item.set_check(info)

    def node_items(self) -> list[NodeItem]:
        return list(self.nodes.values())

    def selected_node_uids(self) -> list[str]:
        return [uid for uid, item in self.nodes.items() if item.isSelected()]

    def selected_wire_uids(self) -> list[str]:
        return [uid for uid, item in self.wires.items() if item.isSelected()]

    def select_uids(self, uids: Iterable[str]) -> None:
        wanted = set(uids)
        for uid, item in (*self.nodes.items(), *self.wires.items()):
            item.setSelected(uid in wanted)

    def items_rect(self) -> QRectF:
        rect = QRectF()
        for item in (
            *self.nodes.values(),
            *self.wires.values(),
            *self.ghost_nodes.values(),
            *self.ghost_wires.values(),
        ):
            rect = rect.united(item.sceneBoundingRect())
        return rect

    # ----- what changed: marks and ghosts -------------------------------------------------
    def set_marks(self, marks: dict[str, str], details: dict[str, str] | None = None) -> None:
        """Mark nodes and wires ("added", "changed", "removed"); all others lose theirs."""
        details = details or {}
        for uid, item in self.nodes.items():
            item.set_mark(marks.get(uid, ""), details.get(uid, ""))
        for uid, wire in self.wires.items():
            wire.set_mark(marks.get(uid, ""))

    def make_ghosts(self, uids: Iterable[str]) -> None:
        """Take these node items out of the graph's items and keep them as ghosts: dimmed,
        marked "removed", out of reach of the mouse. Their wires go (``add_ghost_wire``)."""
        for uid in uids:
            item = self.nodes.pop(uid, None)
            if item is None:
                continue
            for wire in list(item.wires()):
                self.wires.pop(wire.uid, None)
                self._drop(wire)
            item.fading = True
            item.setSelected(False)
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, False)
            item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            item.setOpacity(GHOST_OPACITY)
            item.setZValue(-0.5)
            item.set_mark("removed")
            self.ghost_nodes[uid] = item

    def add_ghost_wire(self, edge: Edge) -> WireItem | None:
        """A removed wire, drawn dashed between whatever now shows its two ends."""
        wire = WireItem(edge.uid)
        wire.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)
        wire.setAcceptHoverEvents(False)
        wire.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        wire.set_mark("removed")
        self.addItem(wire)
        self.ghost_wires[edge.uid] = wire
        self._ghost_edges[edge.uid] = edge
        self._attach_ghost_wires()
        return wire

    def clear_ghosts(self) -> None:
        for item in (*self.ghost_wires.values(), *self.ghost_nodes.values()):
            self._drop(item)
        self.ghost_nodes.clear()
        self.ghost_wires.clear()
        self._ghost_edges.clear()

    def _attach_ghost_wires(self) -> None:
        """(Re)attach ghost wires to the current port items of their ends (ports are
        rebuilt when a node's unit changes); a ghost wire whose end is gone goes too."""
        for uid, edge in list(self._ghost_edges.items()):
            wire = self.ghost_wires[uid]
            src = self.nodes.get(edge.src) or self.ghost_nodes.get(edge.src)
            dst = self.nodes.get(edge.dst) or self.ghost_nodes.get(edge.dst)
            sp = (
                None
                if src is None
                else src.outputs.get(edge.src_port) or next(iter(src.outputs.values()), None)
            )
            dp = (
                None
                if dst is None
                else dst.inputs.get(edge.dst_port) or next(iter(dst.inputs.values()), None)
            )
            if sp is None or dp is None:
                del self._ghost_edges[uid], self.ghost_wires[uid]
                self._drop(wire)
            elif wire.src is not sp or wire.dst is not dp:
                wire.attach(sp, dp, sp.kind)

    # ----- animation --------------------------------------------------------------------
    def glow(self, uids: Iterable[str], color: QColor | None = None) -> None:
        """Highlight items that just appeared (or changed); the glow fades over GLOW_MS."""
        for uid in uids:
            item = self.nodes.get(uid) or self.wires.get(uid)
            if item is None:
                continue
            if color is not None:
                item.glow_color = QColor(color)
            self._animate(item, 1.0, 0.0, GLOW_MS, item.set_glow, None)

    def fade_out(self, uids: Iterable[str]) -> list[QGraphicsItem]:
        """Take items out of the uid maps now and let them fade before they disappear."""
        items: list[QGraphicsItem] = []
        for uid in uids:
            item = self.nodes.pop(uid, None) or self.wires.pop(uid, None)
            if item is None:
                continue
            item.fading = True
            item.setSelected(False)
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, False)
            item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            item.setZValue(item.zValue() - 0.5)
            items.append(item)
            self._animate(item, 1.0, 0.0, FADE_MS, item.setOpacity, lambda it=item: self._drop(it))
        return items

    def fading_items(self) -> list[QGraphicsItem]:
        return [i for i in self._anims if getattr(i, "fading", False)]

    def animating(self) -> bool:
        return bool(self._anims)

    def _animate(
        self,
        item: QGraphicsItem,
        start: float,
        end: float,
        ms: int,
        setter: Callable[[float], None],
        done: Callable[[], None] | None,
    ) -> None:
        old = self._anims.pop(item, None)
        if old is not None:
            old.stop()
        anim = QVariantAnimation(self)
        anim.setStartValue(float(start))
        anim.setEndValue(float(end))
        anim.setDuration(max(1, int(ms)))
        anim.valueChanged.connect(lambda v: setter(float(v)))

        def finished() -> None:
            if self._anims.get(item) is anim:
                del self._anims[item]
            setter(float(end))
            if done is not None:
                done()
            anim.deleteLater()

        anim.finished.connect(finished)
        self._anims[item] = anim
        setter(float(start))
        anim.start()

    # ----- background -------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, theme.color("canvas"))
        scale = painter.transform().m11() or 1.0
        step = GRID if scale * GRID >= 9 else GRID * MAJOR_EVERY
        left = math.floor(rect.left() / step) * step
        top = math.floor(rect.top() / step) * step
        minor = QPen(theme.color("grid"), 0)
        major = QPen(theme.color("grid_major"), 0)
        big = GRID * MAJOR_EVERY
        x = left
        while x < rect.right():
            painter.setPen(major if abs(math.remainder(x, big)) < 1e-6 else minor)
            painter.drawLine(QLineF(x, rect.top(), x, rect.bottom()))
            x += step
        y = top
        while y < rect.bottom():
            painter.setPen(major if abs(math.remainder(y, big)) < 1e-6 else minor)
            painter.drawLine(QLineF(rect.left(), y, rect.right(), y))
            y += step

    # ----- mouse: wiring and moving -------------------------------------------------------
    def port_at(self, pos: QPointF) -> PortItem | None:
        for item in self.items(pos):
            if isinstance(item, PortItem) and not getattr(item.node, "fading", False):
                return item
        return None

    def node_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos):
            if isinstance(item, NodeItem) and not item.fading:
                return item
            if isinstance(item, PortItem):
                return item.node
        return None

    def dragging_wire(self) -> bool:
        return self._drag_from is not None

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            port = self.port_at(event.scenePos())
            if port is not None:
                self._begin_wire(port, event.scenePos())
                event.accept()
                return
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and self.mouseGrabberItem() is not None:
            self._move_start = {
                uid: (item.pos().x(), item.pos().y())
                for uid, item in self.nodes.items()
                if item.isSelected()
            }
            self._move_last = dict(self._move_start)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag_from is not None:
            self._update_wire(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)
        if self._move_start and event.buttons() & Qt.MouseButton.LeftButton:
            now = {
                uid: (self.nodes[uid].pos().x(), self.nodes[uid].pos().y())
                for uid in self._move_start
                if uid in self.nodes
            }
            if now != self._move_last:
                before = {u: self._move_start[u] for u in now}
                self._move_last = now
                self.nodesDragged.emit(before, now, self._drag_id)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag_from is not None and event.button() == Qt.MouseButton.LeftButton:
            self._finish_wire(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if self._move_start is not None and event.button() == Qt.MouseButton.LeftButton:
            moved = [u for u, p in self._move_last.items() if self._move_start.get(u) != p]
            self._move_start = None
            self._move_last = {}
            self._drag_id += 1
            if moved:
                self.dragFinished.emit(moved)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            node = self.node_at(event.scenePos())
            if node is not None:
                self.renameRequested.emit(node.uid)
            else:
                self.quickAddRequested.emit(event.scenePos())
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def _verdict(self, a: PortItem, b: PortItem) -> tuple[bool, str]:
        src, dst = (a, b) if a.is_output else (b, a)
        if self.can_wire is None:
            return (src.node is not dst.node, "a node cannot feed itself")
        return self.can_wire(src.uid, src.name, dst.uid, dst.name)

    def _begin_wire(self, port: PortItem, pos: QPointF) -> None:
        self._drag_from = port
        self._drag_target = None
        wire = WireItem(kind=port.kind)
        wire.setZValue(5)
        self.addItem(wire)
        self._drag_wire = wire
        self._verdicts = {}
        self._dimmed = []
        for node in self.nodes.values():
            ports = (node.inputs if port.is_output else node.outputs).values()
            any_ok = False
            for other in ports:
                verdict = self._verdict(port, other)
                self._verdicts[other] = verdict
                other.set_state(COMPATIBLE if verdict[0] else INCOMPATIBLE)
                any_ok = any_ok or verdict[0]
            if not any_ok and node is not port.node:
                node.setOpacity(DIM_OPACITY)
                self._dimmed.append(node)
        hint = QGraphicsSimpleTextItem()
        hint.setBrush(theme.color("incompatible"))
        hint.setFont(theme.ui_font(8.5))
        hint.setZValue(6)
        hint.setVisible(False)
        self.addItem(hint)
        self._hint = hint
        self._update_wire(pos)

    def _target_at(self, pos: QPointF) -> PortItem | None:
        origin = self._drag_from
        if origin is None:
            return None
        port = self.port_at(pos)
        if port is not None and port.is_output != origin.is_output:
            return port
        best, best_d = None, SNAP_RADIUS
        for candidate in self._verdicts:
            d = QLineF(candidate.scene_anchor(), pos).length()
            if d < best_d:
                best, best_d = candidate, d
        if best is not None:
            return best
        node = self.node_at(pos)
        if node is not None:
            ports = node.outputs if origin.is_output is False else node.inputs
            compatible = [p for p in ports.values() if self._verdicts.get(p, (False, ""))[0]]
            return compatible[0] if compatible else next(iter(ports.values()), None)
        return None

    def _update_wire(self, pos: QPointF) -> None:
        origin, wire = self._drag_from, self._drag_wire
        if origin is None or wire is None:
            return
        target = self._target_at(pos)
        if self._drag_target is not None and self._drag_target is not target:
            ok = self._verdicts.get(self._drag_target, (False, ""))[0]
            self._drag_target.set_state(COMPATIBLE if ok else INCOMPATIBLE)
        self._drag_target = target
        end = pos
        wire.state = "normal"
        hint = ""
        if target is not None:
            ok, reason = self._verdicts.get(target) or self._verdict(origin, target)
            target.set_state(TARGET if ok else REFUSED)
            wire.state = "ok" if ok else "bad"
            if ok:
                end = target.scene_anchor()
            else:
                hint = reason
        a, b = (origin.scene_anchor(), end) if origin.is_output else (end, origin.scene_anchor())
        wire.set_points(a, b)
        wire.update()
        if self._hint is not None:
            self._hint.setText(hint)
            self._hint.setPos(pos + QPointF(14, 10))
            self._hint.setVisible(bool(hint))

    def _finish_wire(self, pos: QPointF) -> None:
        origin = self._drag_from
        target = self._target_at(pos)
        self.cancel_wire()
        if origin is None or target is None:
            return
        src, dst = (origin, target) if origin.is_output else (target, origin)
        self.wireRequested.emit(src.uid, src.name, dst.uid, dst.name)

    def cancel_wire(self) -> None:
        for port in self._verdicts:
            port.set_state(NORMAL)
        for node in self._dimmed:
            if not node.fading:
                node.setOpacity(1.0)
        self._dimmed = []
        self._verdicts = {}
        for item in (self._drag_wire, self._hint):
            if item is not None and item.scene() is self:
                self.removeItem(item)
        self._drag_wire = None
        self._hint = None
        self._drag_from = None
        self._drag_target = None

    # ----- images ----------------------------------------------------------------------
    def render_image(self, margin: float = 40.0, scale: float = 1.0) -> Any:
        """The whole graph on the canvas background as a QImage (for grab_png)."""
        from PySide6.QtGui import QImage

        rect = self.items_rect()
        if rect.isNull():
            rect = QRectF(-200, -120, 400, 240)
        rect = rect.adjusted(-margin, -margin, margin, margin)
        w, h = max(1, int(rect.width() * scale)), max(1, int(rect.height() * scale))
        img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
        img.fill(theme.color("canvas"))
        painter = QPainter(img)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        try:
            self.render(painter, QRectF(0, 0, w, h), rect)
        finally:
            painter.end()
        return img
