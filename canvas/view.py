"""The editor's QGraphicsView: wheel zoom around the cursor, middle-button (or Alt+drag)
panning, rubber-band selection, fit-to-graph, and unit drops from the palette.

A small status chip in the bottom-left corner says whether the graph compiles and how many
parameters it has, so the checker's verdict is visible without a dock.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QCursor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QWheelEvent,
)
from PySide6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView, QLabel, QWidget

from openbrains.canvas import theme
from openbrains.canvas.palette import unit_from_mime

MIN_ZOOM = 0.15
MAX_ZOOM = 3.0
FIT_MAX_ZOOM = 1.25
FIT_MARGIN = 60.0


class GraphView(QGraphicsView):
    unitDropped = Signal(str, QPointF)  # unit name, scene position
    zoomChanged = Signal(float)

    def __init__(self, scene: QGraphicsScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing
            | QPainter.RenderHint.TextAntialiasing
            | QPainter.RenderHint.SmoothPixmapTransform
        )
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(320, 240)
        self._pan_from: QPoint | None = None
        self.status = QLabel(self.viewport())
        self.status.setStyleSheet(
            f"background: {theme.COLORS['panel']}; border: 1px solid {theme.COLORS['border']};"
            "border-radius: 5px; padding: 3px 8px;"
        )
        self.status.hide()
        self.empty_hint = "Drag units from the palette, or press Tab to add one"

    # ----- zoom and pan -----------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, value: float) -> None:
        value = max(MIN_ZOOM, min(MAX_ZOOM, value))
        t = self.transform()
        self.scale(value / (t.m11() or 1.0), value / (t.m22() or 1.0))
        self.zoomChanged.emit(self.zoom())

    def zoom_by(self, factor: float) -> None:
        self.set_zoom(self.zoom() * factor)

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta:
            self.zoom_by(1.0015**delta)
        event.accept()

    def fit_rect(self, rect: QRectF) -> None:
        if rect.isNull() or rect.isEmpty():
            self.centerOn(0, 0)
            return
        rect = rect.adjusted(-FIT_MARGIN, -FIT_MARGIN, FIT_MARGIN, FIT_MARGIN)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > FIT_MAX_ZOOM:
            self.set_zoom(FIT_MAX_ZOOM)
        elif self.zoom() < MIN_ZOOM:
            self.set_zoom(MIN_ZOOM)
        self.centerOn(rect.center())
        self.zoomChanged.emit(self.zoom())

    def center(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    def cursor_scene_pos(self) -> QPointF:
        """Where the mouse is on the canvas, or the centre when it is elsewhere."""
        local = self.viewport().mapFromGlobal(QCursor.pos())
        if self.viewport().rect().contains(local):
            return self.mapToScene(local)
        return self.center()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        alt = event.modifiers() & Qt.KeyboardModifier.AltModifier
        if event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and alt
        ):
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            now = event.position().toPoint()
            delta = self.mapToScene(now) - self.mapToScene(self._pan_from)
            self._pan_from = now
            self.translate_view(-delta.x(), -delta.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            scene = self.scene()
            if scene is not None:
                if hasattr(scene, "cancel_wire"):
                    scene.cancel_wire()
                scene.clearSelection()
            event.accept()
            return
        super().keyPressEvent(event)

    def translate_view(self, dx: float, dy: float) -> None:
        c = self.center()
        self.centerOn(c.x() + dx, c.y() + dy)

    def view_state(self) -> dict[str, Any]:
        c = self.center()
        return {"zoom": round(self.zoom(), 4), "center": [round(c.x(), 1), round(c.y(), 1)]}

    def set_view_state(self, state: dict[str, Any]) -> None:
        if "zoom" in state:
            self.set_zoom(float(state["zoom"]))
        center = state.get("center")
        if isinstance(center, list | tuple) and len(center) == 2:
            self.centerOn(float(center[0]), float(center[1]))

    # ----- drops from the palette --------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if unit_from_mime(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if unit_from_mime(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        name = unit_from_mime(event.mimeData())
        if not name:
            event.ignore()
            return
        event.acceptProposedAction()
        self.unitDropped.emit(name, self.mapToScene(event.position().toPoint()))

    # ----- status chip and empty-canvas hint ---------------------------------------------
    def set_status(self, text: str, ok: bool | None) -> None:
        if not text:
            self.status.hide()
            return
        c = theme.COLORS["ok" if ok else "error"] if ok is not None else theme.COLORS["text_dim"]
        self.status.setText(f"<span style='color:{c}'>●</span>&nbsp; {text}")
        self.status.adjustSize()
        self._place_status()
        self.status.show()

    def _place_status(self) -> None:
        vr = self.viewport().rect()
        self.status.move(10, vr.height() - self.status.height() - 10)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._place_status()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawForeground(painter, rect)
        scene = self.scene()
        if scene is not None and not getattr(scene, "nodes", {1: 1}):
            painter.save()
            painter.resetTransform()
            painter.setPen(theme.color("text_faint"))
            painter.setFont(theme.ui_font(11))
            painter.drawText(
                QRectF(self.viewport().rect()), Qt.AlignmentFlag.AlignCenter, self.empty_hint
            )
            painter.restore()
