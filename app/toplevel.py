"""Open a tool window (play, samples) as its own top-level window beside the main one.

A file that the window cannot use raises ``OpenBrainsError`` while it is built; the user
then gets a non-blocking message box saying why, and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from openbrains.engine.errors import OpenBrainsError

W = TypeVar("W", bound=QWidget)


def open_top_level(parent: QWidget | None, build: Callable[[], W], failure: str) -> W | None:
    """``build()`` shown as a top-level window that deletes itself when closed, or None
    after a message box titled ``failure`` when building it raised ``OpenBrainsError``."""
    try:
        window = build()
    except OpenBrainsError as exc:
        box = QMessageBox(QMessageBox.Icon.Warning, failure, str(exc), parent=parent)
        box.open()
        return None
    window.setWindowFlag(Qt.WindowType.Window, True)
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    window.show()
    return window
