"""Editor items light up under the mouse through the shared HoverHighlight mixin."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsScene, QGraphicsSceneHoverEvent

from openbrains.canvas.items.hover import HoverHighlight
from openbrains.canvas.items.node import NodeItem
from openbrains.canvas.items.port import PortItem
from openbrains.canvas.items.wire import WireItem


class Box(HoverHighlight, QGraphicsRectItem):
    pass


def test_hover_enter_and_leave_reach_the_mixin(qapp) -> None:
    scene = QGraphicsScene()
    box = Box(0, 0, 10, 10)
    scene.addItem(box)
    box.setAcceptHoverEvents(True)
    scene.sendEvent(box, QGraphicsSceneHoverEvent(QEvent.Type.GraphicsSceneHoverEnter))
    assert box._hover
    scene.sendEvent(box, QGraphicsSceneHoverEvent(QEvent.Type.GraphicsSceneHoverLeave))
    assert not box._hover


def test_every_editor_item_uses_it() -> None:
    for item in (NodeItem, PortItem, WireItem):
        assert item.hoverEnterEvent is HoverHighlight.hoverEnterEvent
