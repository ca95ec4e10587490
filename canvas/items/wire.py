"""A wire: a horizontal bezier from an output port to an input port, coloured by the kind
of signal it carries. The same class draws the loose wire that follows the mouse while
connecting.

A wire laid out by ``engine.layout.layered_layout`` may have *lanes*: where it enters and
leaves each layer it passes, so it runs between the cards instead of under them. The
lanes hold while its ends stay where they were; moving either end drops them.
A *mark* ("added", "removed") colours the wire while the canvas shows what changed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem, QWidget

from openbrains.canvas import theme
from openbrains.canvas.items.hover import HoverHighlight

if TYPE_CHECKING:
    from openbrains.canvas.items.port import PortItem

WIDTH = 2.0
PICK_WIDTH = 12.0


def bezier(a: QPointF, b: QPointF) -> QPainterPath:
    """Left-to-right S curve; wires running backwards loop out so they stay readable."""
    path = QPainterPath(a)
    dx = b.x() - a.x()
    bend = max(40.0, abs(dx) * 0.5) if dx >= 0 else max(80.0, abs(dx) * 0.35)
    path.cubicTo(QPointF(a.x() + bend, a.y()), QPointF(b.x() - bend, b.y()), b)
    return path


def routed(a: QPointF, lanes: list[QPointF], b: QPointF) -> QPainterPath:
    """``a`` to ``b`` through lanes (pairs of points: enter and leave a layer's column):
    straight inside a column, a bezier S between columns."""
    if not lanes:
        return bezier(a, b)
    path = QPainterPath(a)
    here = a
    for i in range(0, len(lanes) - 1, 2):
        enter, leave = lanes[i], lanes[i + 1]
        bend = max(8.0, (enter.x() - here.x()) * 0.5)
        path.cubicTo(
            QPointF(here.x() + bend, here.y()), QPointF(enter.x() - bend, enter.y()), enter
        )
        path.lineTo(leave)
        here = leave
    bend = max(8.0, (b.x() - here.x()) * 0.5)
    path.cubicTo(QPointF(here.x() + bend, here.y()), QPointF(b.x() - bend, b.y()), b)
    return path


def _pen(c: QColor, width: float) -> QPen:
    return QPen(c, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)


class WireItem(HoverHighlight, QGraphicsPathItem):
    Type = QGraphicsItem.UserType + 3

    def __init__(
        self,
        uid: str = "",
        src: PortItem | None = None,
        dst: PortItem | None = None,
        kind: str = "float",
    ) -> None:
        super().__init__()
        self.uid = uid
        self.src = src
        self.dst = dst
        self.kind = kind
        self.glow = 0.0
        self.glow_color = QColor(theme.COLORS["new"])
        self.fading = False
        self.state = "normal"  # normal | ok | bad (the loose wire while connecting)
        self.mark = ""  # "added" | "removed" while the canvas shows what changed
        self.lanes: list[QPointF] = []
        self._lane_ends: tuple[QPointF, QPointF] | None = None
        self._hover = False
        self._loose: tuple[QPointF, QPointF] | None = None
        self.setZValue(-1)
        if uid:
            self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
            self.setAcceptHoverEvents(True)
        self.update_path()

    def type(self) -> int:
        return self.Type

    def attach(self, src: PortItem, dst: PortItem, kind: str) -> None:
        for port in (self.src, self.dst):
            if port is not None:
                port.wires.discard(self)
                port.update()
        self.src, self.dst, self.kind = src, dst, kind
        src.wires.add(self)
        dst.wires.add(self)
        src.update()
        dst.update()
        self.update_path()

    def detach(self) -> None:
        for port in (self.src, self.dst):
            if port is not None:
                port.wires.discard(self)
                port.update()

    def set_points(self, a: QPointF, b: QPointF) -> None:
        self._loose = (a, b)
        self.update_path()

    def ends(self) -> tuple[QPointF, QPointF] | None:
        if self.src is not None and self.dst is not None:
            return self.src.scene_anchor(), self.dst.scene_anchor()
        return self._loose

    def set_lanes(self, points: list[tuple[float, float]]) -> None:
        """Run through these lanes (see the module docstring) while the ends stay put."""
        self.lanes = [QPointF(x, y) for x, y in points]
        self._lane_ends = self.ends() if self.lanes else None
        self.update_path()

    def set_mark(self, mark: str) -> None:
        self.mark = mark
        self.setZValue(-0.9 if mark == "added" else -1.2 if mark == "removed" else -1)
        self.update()

    def update_path(self) -> None:
        ends = self.ends()
        if ends is None:
            return
        a, b = ends
        if self.lanes and self._lane_ends != (a, b):
            self.lanes, self._lane_ends = [], None  # an end moved: the lanes no longer fit
        self.prepareGeometryChange()
        self.setPath(routed(a, self.lanes, b))

    def set_glow(self, value: float) -> None:
        self.glow = float(value)
        self.update()

    def boundingRect(self) -> QRectF:
        m = PICK_WIDTH + 6
        return self.path().boundingRect().adjusted(-m, -m, m, m)

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(PICK_WIDTH)
        return stroker.createStroke(self.path())

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        path = self.path()
        if self.fading or self.mark == "removed":
            c = theme.color("removed")
        elif self.mark == "added":
            c = theme.color("new")
        elif self.state == "ok":
            c = QColor(theme.COLORS["compatible"])
        elif self.state == "bad":
            c = QColor(theme.COLORS["incompatible"])
        else:
            c = theme.port_color(self.kind) if self.kind == "tokens" else theme.color("wire")
            if self.kind != "tokens":
                c.setAlphaF(0.8)
        if self.glow > 0.01:
            g = QColor(self.glow_color)
            g.setAlphaF(0.55 * self.glow)
            painter.setPen(_pen(g, WIDTH + 8 * self.glow))
            painter.drawPath(path)
        width = WIDTH
        if self.isSelected():
            outline = QColor(theme.COLORS["selection"])
            outline.setAlphaF(0.45)
            painter.setPen(_pen(outline, WIDTH + 5))
            painter.drawPath(path)
            c = theme.color("selection")
            width += 0.5
        elif self._hover:
            c = c.lighter(135)
            width += 0.8
        if self.mark == "added":
            width += 0.8
        pen = _pen(c, width)
        if self.src is None or self.dst is None or self.mark == "removed":
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
