"""Hover highlighting shared by the editor's items."""

from __future__ import annotations

from typing import Any


class HoverHighlight:
    """Mixin for QGraphicsItems that draw themselves differently under the mouse: sets
    ``_hover`` and repaints. List it before the Qt base class."""

    _hover = False

    def hoverEnterEvent(self, event: Any) -> None:
        self._hover = True
        self.update()  # type: ignore[attr-defined]

    def hoverLeaveEvent(self, event: Any) -> None:
        self._hover = False
        self.update()  # type: ignore[attr-defined]
