"""A node on the canvas: a card with a header in its unit category's colour, the title
(label, input/output name or unit name), the unit and its width, and — once the checker
has looked at the graph — the parameter count and output shape. Frozen nodes carry a lock;
a node the checker rejects gets a red outline and the reason as its tooltip. While the
canvas shows what changed (follow champion, parent | child), a *mark* ("added",
"changed", "removed") gives the card a coloured rim and a tag on its top edge.

The item's position is the node's centre, the same convention as ``engine.layout``.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QStaticText,
    QTransform,
)
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from openbrains.canvas import theme
from openbrains.canvas.catalog import PortSpec, UnitSpec, format_count
from openbrains.canvas.items.hover import HoverHighlight
from openbrains.canvas.items.port import PortItem
from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT, Node

WIDTH = 172.0
HEADER = 28.0
LINE = 18.0
PORT_SPACING = 20.0
RADIUS = 7.0
GLOW_MARGIN = 14.0
# below this zoom a card is a few pixels of text: draw it plain (no shadow, body lines or
# port labels), which keeps a fitted 300-node canvas fast to repaint
LOD_SIMPLE = 0.5
LOD_TITLE_MIN = 0.12  # below this the zoomed-out card has no title at all
SIMPLE_TITLE_PX = 10.0  # the zoomed-out title's size on screen
MARK_TAGS = {
    "added": ("new", "new"),
    "changed": ("changed", "changed"),
    "removed": ("removed", "removed"),
}


def pen(c: QColor, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    p = QPen(c, width, style, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    return p


def format_shape(shape: dict[str, Any] | None) -> str:
    """``{"channels": 8, "time": 64, "grid": [8, 8]}`` → ``8×8×8``; T is '?' when variable."""
    if not shape:
        return ""
    c = shape.get("channels")
    if shape.get("tokens"):
        return "tokens"
    grid = shape.get("grid")
    if grid:
        return f"{grid[0]}×{grid[1]}×{c}"
    t = shape.get("time")
    t_txt = "T" if not t else str(t)
    return f"{t_txt}×{c}"


def summary(node: Node, spec: UnitSpec) -> str:
    """The second line of a card: what the unit is and its most telling params."""
    p = node.params
    if node.unit == INPUT_UNIT:
        parts = ["input", str(p.get("modality", ""))]
        if p.get("vocab"):
            parts.append(f"vocab {p['vocab']}")
        elif p.get("grid_h") and p.get("grid_w"):
            parts.append(f"{p['grid_h']}×{p['grid_w']}")
            if p.get("views") == 1:  # engine.views: it answers for the image's shifts too
                parts.append("views")
        else:
            parts.append(f"{p.get('channels', '?')} ch")
        return " · ".join(x for x in parts if x)
    if node.unit == OUTPUT_UNIT:
        return f"output · {p.get('modality', '')} · {p.get('channels', '?')} ch"
    parts = [node.unit]
    width = spec.width_param
    if width is not None:
        parts.append(f"width {p.get('width', width.default)}")
    for ps in spec.params:
        if ps.kind == "choice" and ps.name in ("kind", "activation"):
            parts.append(str(p.get(ps.name, ps.default)))
            break
    if not spec.known:
        parts.append("missing unit")
    return " · ".join(parts)


class NodeItem(HoverHighlight, QGraphicsItem):
    Type = QGraphicsItem.UserType + 1

    def __init__(self, uid: str) -> None:
        super().__init__()
        self.uid = uid
        self.node: Node | None = None
        self.spec: UnitSpec = UnitSpec.unknown("?")
        self.inputs: dict[str, PortItem] = {}
        self.outputs: dict[str, PortItem] = {}
        self.check: dict[str, Any] | None = None
        self.glow = 0.0
        self.glow_color = QColor(theme.COLORS["new"])
        self.fading = False
        self.mark = ""  # "added" | "changed" | "removed" (see the module docstring)
        self.mark_detail = ""  # what changed, for the tooltip
        self._title_cache: tuple[Any, QFont, QStaticText, QSizeF] | None = None
        self.height = HEADER + 2 * LINE + 12
        self._port_sig: tuple[Any, ...] = ()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges, True)
        self.setAcceptHoverEvents(True)
        self._hover = False

    def type(self) -> int:
        return self.Type

    # ----- state ------------------------------------------------------------------------
    @property
    def title(self) -> str:
        return self.node.title if self.node is not None else self.uid

    @property
    def error(self) -> str:
        return str((self.check or {}).get("error") or "")

    @property
    def frozen(self) -> bool:
        return bool(self.node and self.node.frozen)

    def set_node(
        self, node: Node, spec: UnitSpec, inputs: list[PortSpec], outputs: list[PortSpec]
    ) -> None:
        self.node = node
        self.spec = spec
        sig = (tuple((p.name, p.kind) for p in inputs), tuple((p.name, p.kind) for p in outputs))
        if sig != self._port_sig:
            self._rebuild_ports(inputs, outputs)
            self._port_sig = sig
        if node.pos is not None:
            pos = QPointF(*node.pos)
            if pos != self.pos():
                self.setPos(pos)
        self._update_tooltip()
        self.update()

    def set_check(self, info: dict[str, Any] | None) -> None:
        self.check = info
        self._update_tooltip()
        self.update()

    def set_glow(self, value: float) -> None:
        self.glow = float(value)
        self.update()

    def set_mark(self, mark: str, detail: str = "") -> None:
        self.mark, self.mark_detail = mark, detail
        self._update_tooltip()
        self.update()

    def wires(self) -> set[Any]:
        out: set[Any] = set()
        for port in (*self.inputs.values(), *self.outputs.values()):
            out |= port.wires
        return out

    def _rebuild_ports(self, inputs: list[PortSpec], outputs: list[PortSpec]) -> None:
        # wires are re-attached to the new port items by the scene's next sync
        for p in (*self.inputs.values(), *self.outputs.values()):
            p.setParentItem(None)
            if p.scene() is not None:
                p.scene().removeItem(p)
        self.prepareGeometryChange()
        n = max(len(inputs), len(outputs), 1)
        self.height = HEADER + max(2 * LINE + 12, n * PORT_SPACING + 14)
        self.inputs, self.outputs = {}, {}
        for side, specs, target in (("i", inputs, self.inputs), ("o", outputs, self.outputs)):
            for i, ps in enumerate(specs):
                port = PortItem(self, ps.name, ps.kind, is_output=side == "o")
                port.setPos(self._port_pos(i, len(specs), side == "o"))
                target[ps.name] = port

    def _port_pos(self, i: int, n: int, output: bool) -> QPointF:
        top = -self.height / 2 + HEADER
        body = self.height - HEADER
        y = top + body / 2 + (i - (n - 1) / 2) * PORT_SPACING
        return QPointF(WIDTH / 2 if output else -WIDTH / 2, y)

    def _update_tooltip(self) -> None:
        lines = [f"<b>{self.title}</b> — {self.spec.name}"]
        if self.spec.doc:
            lines.append(self.spec.doc)
        if self.frozen:
            lines.append("🔒 frozen: evolution keeps this node as it is")
        if self.node is not None and not self.node.trainable:
            lines.append("weights are not trained")
        info = self.check or {}
        if info.get("live") is False:
            lines.append("<i>not on a path to an output: left out of the brain</i>")
        if self.error:
            c = theme.COLORS["error"]
            lines.append(f"<span style='color:{c}'>⚠ {self.error}</span>")
        if self.mark:
            text = {"added": "new in this graph", "removed": "removed from this graph"}.get(
                self.mark, "changed"
            )
            detail = f": {html.escape(self.mark_detail)}" if self.mark_detail else ""
            lines.append(f"<i>{text}{detail}</i>")
        self.setToolTip("<br>".join(lines))

    # ----- geometry ---------------------------------------------------------------------
    def rect(self) -> QRectF:
        return QRectF(-WIDTH / 2, -self.height / 2, WIDTH, self.height)

    def boundingRect(self) -> QRectF:
        m = GLOW_MARGIN
        return self.rect().adjusted(-m, -m, m, m)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self.rect(), RADIUS, RADIUS)
        return path

    def header_rect(self) -> QRectF:
        r = self.rect()
        return QRectF(r.left(), r.top(), r.width(), HEADER)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for wire in self.wires():
                wire.update_path()
        elif change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.setZValue(1 if value else 0)
        return super().itemChange(change, value)

    # ----- painting ---------------------------------------------------------------------
    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        if lod < LOD_SIMPLE:
            self._paint_simple(painter, lod)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        r = self.rect()
        info = self.check or {}
        dead = info.get("live") is False
        cat = theme.category_color(self.spec.category)

        if self.glow > 0.01:
            g = QColor(self.glow_color)
            for k, alpha in ((10.0, 0.18), (6.0, 0.3), (3.0, 0.5)):
                g.setAlphaF(alpha * self.glow)
                painter.setPen(pen(g, k))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(r.adjusted(-k / 2, -k / 2, k / 2, k / 2), RADIUS, RADIUS)

        # shadow
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 70))
        painter.drawRoundedRect(r.translated(0, 3), RADIUS, RADIUS)

        painter.save()
        if dead:
            painter.setOpacity(0.55)
        body = theme.color("card_hover" if self._hover else "node")
        painter.setBrush(body)
        painter.drawRoundedRect(r, RADIUS, RADIUS)

        # header: category tint over the card, with a bright accent line on top
        head = QPainterPath()
        hr = self.header_rect()
        head.addRoundedRect(hr, RADIUS, RADIUS)
        square = QPainterPath()
        square.addRect(hr.adjusted(0, RADIUS, 0, 0))
        head = head.united(square)
        tint = QColor(cat)
        tint.setAlphaF(0.38)
        painter.setBrush(tint)
        painter.drawPath(head)
        accent = QPainterPath()
        accent.addRoundedRect(QRectF(r.left(), r.top(), r.width(), 6), RADIUS, RADIUS)
        clip = QPainterPath()
        clip.addRect(QRectF(r.left(), r.top(), r.width(), 3))
        painter.setBrush(cat)
        painter.drawPath(accent.intersected(clip))

        # title
        lock_w = 16.0 if self.frozen else 0.0
        title_font = theme.ui_font(10.5, bold=True)
        painter.setFont(title_font)
        painter.setPen(theme.color("text"))
        fm = QFontMetricsF(title_font)
        text_rect = hr.adjusted(10, 3, -10 - lock_w, 0)
        title = fm.elidedText(self.title, Qt.TextElideMode.ElideRight, text_rect.width())
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, title
        )
        if self.frozen:
            self._paint_lock(painter, QPointF(hr.right() - 16, hr.center().y() + 1.5))

        # body lines
        node = self.node
        sub_font = theme.ui_font(8.8)
        painter.setFont(sub_font)
        painter.setPen(theme.color("text_dim"))
        fm = QFontMetricsF(sub_font)
        line1 = QRectF(r.left() + 12, hr.bottom() + 5, r.width() - 24, LINE)
        text = summary(node, self.spec) if node is not None else ""
        painter.drawText(
            line1,
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            fm.elidedText(text, Qt.TextElideMode.ElideRight, line1.width()),
        )
        line2 = line1.translated(0, LINE)
        left = ""
        if "params" in info:
            left = f"{format_count(int(info['params']))} params"
        elif dead:
            left = "unused"
        if node is not None and not node.trainable:
            left = (left + " · " if left else "") + "fixed"
        painter.setPen(theme.color("text_faint"))
        painter.drawText(line2, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, left)
        shape = format_shape(info.get("shape"))
        if shape:
            painter.setFont(theme.mono_font(8.5))
            painter.setPen(theme.color("text_dim"))
            painter.drawText(
                line2, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, shape
            )
        self._paint_port_labels(painter)
        painter.restore()

        self._paint_outline(painter, r)

    def _paint_simple(self, painter: QPainter, lod: float) -> None:
        """The zoomed-out card: body, category band, title when legible, state outline."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = self.rect()
        if self.glow > 0.01:
            g = QColor(self.glow_color)
            g.setAlphaF(0.5 * self.glow)
            painter.setPen(pen(g, 8.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(r.adjusted(-4, -4, 4, 4), RADIUS, RADIUS)
        painter.setPen(Qt.PenStyle.NoPen)
        body = theme.color("node")
        if (self.check or {}).get("live") is False:
            body.setAlphaF(0.55)
        painter.setBrush(body)
        painter.drawRoundedRect(r, RADIUS, RADIUS)
        tint = theme.category_color(self.spec.category)
        tint.setAlphaF(0.6)
        painter.setBrush(tint)
        painter.drawRect(QRectF(r.left(), r.top() + RADIUS / 2, r.width(), HEADER - RADIUS / 2))
        if self.mark:  # what changed must read at any zoom: the whole card is tinted
            key = {"added": "new", "changed": "changed"}.get(self.mark, "removed")
            painter.setBrush(theme.color(key, 0.28))
            painter.drawRoundedRect(r, RADIUS, RADIUS)
        if lod >= LOD_TITLE_MIN:
            # the title stays legible when zoomed out: as big as the card allows, so it
            # reads at about SIMPLE_TITLE_PX screen pixels
            px = max(10, min(int(SIMPLE_TITLE_PX / lod), int(self.height * 0.42)))
            font, text, size = self._simple_title(px, r.width() - 16)
            painter.setFont(font)
            painter.setPen(theme.color("text"))
            body = r.adjusted(8, HEADER * 0.6, -8, 0)
            at = QPointF(
                body.center().x() - size.width() / 2, body.center().y() - size.height() / 2
            )
            painter.drawStaticText(at, text)
        self._paint_outline(painter, r, 1.0 / max(lod, 0.05))

    def _simple_title(self, px: int, width: float) -> tuple[QFont, QStaticText, QSizeF]:
        """The zoomed-out title at ``px`` pixels, laid out once per size and title (a
        fitted canvas of hundreds of cards repaints them all)."""
        key = (self.title, px, width)
        if self._title_cache is None or self._title_cache[0] != key:
            font = theme.ui_font(10.5, bold=True)
            font.setPixelSize(px)
            text = QFontMetricsF(font).elidedText(self.title, Qt.TextElideMode.ElideRight, width)
            static = QStaticText(text)
            static.setTextFormat(Qt.TextFormat.PlainText)
            static.prepare(QTransform(), font)
            self._title_cache = (key, font, static, static.size())
        _key, font, static, size = self._title_cache
        return font, static, size

    def _paint_outline(self, painter: QPainter, r: QRectF, scale: float = 1.0) -> None:
        """Outline by state: fading > error > selected > mark > frozen > unknown unit > plain.
        ``scale`` thickens the state outlines when zoomed out, so they still show."""
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if self.fading:
            painter.setPen(pen(theme.color("removed"), 2.0, Qt.PenStyle.DashLine))
        elif self.error:
            painter.setPen(pen(theme.color("error"), 2.2))
        elif self.isSelected():
            painter.setPen(pen(theme.color("selection"), 2.2))
        elif self.mark in ("added", "changed"):
            key = "new" if self.mark == "added" else "changed"
            painter.setPen(pen(theme.color(key), 2.4 * min(scale, 4.0)))
        elif self.frozen:
            painter.setPen(pen(theme.color("frozen", 0.8), 1.4, Qt.PenStyle.DashLine))
        elif not self.spec.known:
            painter.setPen(pen(theme.color("text_faint"), 1.2, Qt.PenStyle.DashLine))
        else:
            painter.setPen(pen(theme.color("border"), 1.0))
        painter.drawRoundedRect(r, RADIUS, RADIUS)
        if self.error and self.isSelected():
            painter.setPen(pen(theme.color("selection", 0.8), 1.2))
            painter.drawRoundedRect(r.adjusted(-4, -4, 4, 4), RADIUS + 3, RADIUS + 3)
        if self.error:
            self._paint_badge(painter, QPointF(r.right() - 2, r.top() + 2))
        if self.mark and scale <= 1.0:
            self._paint_tag(painter, r)

    def _paint_tag(self, painter: QPainter, r: QRectF) -> None:
        """The mark as a small pill straddling the card's top edge, left of centre."""
        text, key = MARK_TAGS.get(self.mark, (self.mark, "changed"))
        font = theme.ui_font(7.5, bold=True)
        w = QFontMetricsF(font).horizontalAdvance(text) + 12
        box = QRectF(r.left() + 10, r.top() - 8, w, 15)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.color(key))
        painter.drawRoundedRect(box, 7, 7)
        painter.setFont(font)
        painter.setPen(QColor("#15181c"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_port_labels(self, painter: QPainter) -> None:
        painter.setFont(theme.ui_font(7.2))
        painter.setPen(theme.color("text_faint"))
        for ports, output in ((self.inputs, False), (self.outputs, True)):
            if len(ports) < 2 and all(n in ("in", "out") for n in ports):
                continue
            for name, port in ports.items():
                p = port.pos()
                box = QRectF(p.x() - 60 if output else p.x() + 9, p.y() - 7, 51, 14)
                align = Qt.AlignmentFlag.AlignRight if output else Qt.AlignmentFlag.AlignLeft
                painter.drawText(box, align | Qt.AlignmentFlag.AlignVCenter, name)

    @staticmethod
    def _paint_lock(painter: QPainter, c: QPointF) -> None:
        """A small padlock (drawn, so it does not depend on an emoji font)."""
        col = theme.color("frozen")
        painter.setPen(pen(col, 1.6))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        shackle = QRectF(c.x() - 3.6, c.y() - 8.5, 7.2, 8.0)
        painter.drawArc(shackle, 0, 180 * 16)
        painter.drawLine(QPointF(c.x() - 3.6, c.y() - 4.5), QPointF(c.x() - 3.6, c.y() - 2))
        painter.drawLine(QPointF(c.x() + 3.6, c.y() - 4.5), QPointF(c.x() + 3.6, c.y() - 2))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(col)
        painter.drawRoundedRect(QRectF(c.x() - 5.5, c.y() - 2.5, 11, 8), 1.5, 1.5)
        painter.setBrush(theme.color("node"))
        painter.drawEllipse(QPointF(c.x(), c.y() + 1.2), 1.3, 1.3)

    @staticmethod
    def _paint_badge(painter: QPainter, c: QPointF) -> None:
        painter.setPen(pen(theme.color("node"), 1.5))
        painter.setBrush(theme.color("error"))
        painter.drawEllipse(c, 7.5, 7.5)
        painter.setPen(QColor("#ffffff"))
        painter.setFont(theme.ui_font(8, bold=True))
        painter.drawText(
            QRectF(c.x() - 7.5, c.y() - 7.5, 15, 15), Qt.AlignmentFlag.AlignCenter, "!"
        )
