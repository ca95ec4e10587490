"""A typed connection point on a node: inputs on the left edge, outputs on the right.

Its colour says its kind (float features or token ids). While a wire is being dragged the
scene sets each port's ``state``: compatible ports glow, incompatible ones dim, and the
one under the cursor is ringed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from openbrains.canvas import theme
from openbrains.canvas.items.hover import HoverHighlight

if TYPE_CHECKING:
    from openbrains.canvas.items.node import NodeItem
    from openbrains.canvas.items.wire import WireItem

RADIUS = 5.5
HIT_RADIUS = 11.0
LOD_SIMPLE = 0.5  # as canvas.items.node: below this zoom, plain dots

NORMAL, COMPATIBLE, INCOMPATIBLE, TARGET, REFUSED = (
    "normal",
    "compatible",
    "incompatible",
    "target",
    "refused",
)


class PortItem(HoverHighlight, QGraphicsItem):
    Type = QGraphicsItem.UserType + 2

    def __init__(self, node: NodeItem, name: str, kind: str, is_output: bool) -> None:
        super().__init__(node)
        self.node = node
        self.name = name
        self.kind = kind
        self.is_output = is_output
        self.state = NORMAL
        self.wires: set[WireItem] = set()
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setZValue(2)
        self._hover = False
        direction = "output" if is_output else "input"
        self.setToolTip(f"{direction} '{name}' ({kind}) — drag to connect")

    def type(self) -> int:
        return self.Type

    @property
    def uid(self) -> str:
        return self.node.uid

    def scene_anchor(self) -> QPointF:
        return self.mapToScene(QPointF(0, 0))

    def set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.update()

    def boundingRect(self) -> QRectF:
        r = HIT_RADIUS + 2
        return QRectF(-r, -r, 2 * r, 2 * r)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addEllipse(QPointF(0, 0), HIT_RADIUS, HIT_RADIUS)
        return path

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fill = theme.port_color(self.kind)
        r = RADIUS
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        if lod < LOD_SIMPLE and self.state == NORMAL and not self._hover:
            painter.setPen(Qt.PenStyle.NoPen)  # zoomed out: a dot of the kind's colour
            painter.setBrush(fill)
            painter.drawEllipse(QPointF(0, 0), r, r)
            return
        dead = (getattr(self.node, "check", None) or {}).get("live") is False
        if self.state == INCOMPATIBLE:
            fill.setAlphaF(0.25)
        elif dead and self.state == NORMAL:
            fill.setAlphaF(0.5)
        if self.state in (COMPATIBLE, TARGET):
            halo = QColor(theme.COLORS["compatible"])
            halo.setAlphaF(0.35 if self.state == COMPATIBLE else 0.6)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(halo)
            painter.drawEllipse(QPointF(0, 0), r + 5, r + 5)
            r += 1
        elif self.state == REFUSED:
            halo = QColor(theme.COLORS["incompatible"])
            halo.setAlphaF(0.55)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(halo)
            painter.drawEllipse(QPointF(0, 0), r + 5, r + 5)
        elif self._hover:
            r += 1.5
        ring = QColor(theme.COLORS["node_body"])
        painter.setPen(QPen(ring, 2.0))
        painter.setBrush(QBrush(fill))
        if self.kind == "tokens":
            # a diamond: token ports differ in shape as well as colour
            path = QPainterPath()
            path.moveTo(0, -r - 1)
            path.lineTo(r + 1, 0)
            path.lineTo(0, r + 1)
            path.lineTo(-r - 1, 0)
            path.closeSubpath()
            painter.drawPath(path)
        else:
            painter.drawEllipse(QPointF(0, 0), r, r)
        if self.wires and self.state != INCOMPATIBLE:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(theme.COLORS["node_body"]))
            painter.drawEllipse(QPointF(0, 0), r * 0.38, r * 0.38)
