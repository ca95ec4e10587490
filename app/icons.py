"""The app's icon and desktop identity in Qt: every size of the shipped icon in one
``QIcon`` (the window, the task switcher, the tray pick what fits), and the desktop file
name that ties the running window to its menu entry (Wayland's app id)."""

from __future__ import annotations

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from openbrains import assets


def app_icon() -> QIcon:
    icon = QIcon()
    for size in assets.ICON_SIZES:
        icon.addFile(str(assets.app_png(size)))
    return icon


def apply_identity(app: QApplication) -> None:
    """Window icon for every window of ``app``; the desktop entry's name (without .desktop)."""
    app.setWindowIcon(app_icon())
    app.setDesktopFileName(assets.APP_ID)
