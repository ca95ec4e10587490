"""The tray icon (DESIGN §3.9: a search that lives for weeks): the champion's score at a
glance, pause/resume, open the window, quit. While a search runs, closing the window hides
it to the tray and the search goes on; Quit in the tray's menu really quits (an attached
window detaches and the background search keeps running).

It listens to the engine client's events itself, so the window only creates it and asks it
in ``closeEvent`` whether to hide instead of closing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

from openbrains.app.icons import app_icon

if TYPE_CHECKING:
    from openbrains.app.main import MainWindow


class RunTray(QObject):
    """The tray icon and its menu for one main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.quitting = False
        self.told = False  # the "still running in the tray" message is shown once
        self.champion_text = "no champion yet"
        self.icon = QSystemTrayIcon(app_icon(), self)
        self.menu = QMenu(window)
        self.champion_action = self._add("no champion yet", None)
        self.champion_action.setEnabled(False)
        self.menu.addSeparator()
        self.pause_action = self._add("Start", self.window.start_pause)
        self.open_action = self._add("Open window", self.show_window)
        self.menu.addSeparator()
        self.quit_action = self._add("Quit", self.quit)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        window.client.event.connect(self.on_event)
        window.client.finished.connect(lambda *_: self.refresh())
        self.refresh()
        if self.available():
            self.icon.show()

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def _add(self, text: str, slot: Any) -> QAction:
        action = QAction(text, self.menu)
        if slot is not None:
            action.triggered.connect(lambda _=False: slot())
        self.menu.addAction(action)
        return action

    # ----- what it shows ---------------------------------------------------------------
    def on_event(self, kind: str, data: dict[str, Any]) -> None:
        best = None
        if kind == "progress":
            best = data.get("best")
        elif kind == "individual" and data.get("champion"):
            best = data
        if isinstance(best, dict) and best.get("score") is not None:
            metric = best.get("metric") or data.get("metric") or "score"
            self.champion_text = (
                f"★ champion #{best.get('id')}: {metric} {float(best['score']):.4f}"
            )
        if kind in ("progress", "individual", "started", "resumed", "paused", "stopped"):
            self.refresh()

    def refresh(self) -> None:
        w = self.window
        state = "evolving" if w.running else ("paused" if w.run_open else "not running")
        self.champion_action.setText(self.champion_text)
        self.pause_action.setText("Pause" if w.running else ("Resume" if w.run_open else "Start"))
        self.icon.setToolTip(f"Open Brains — {w.project.title}: {state}\n{self.champion_text}")

    # ----- what it does --------------------------------------------------------------
    def show_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            if self.window.isVisible():
                self.window.hide()
            else:
                self.show_window()

    def quit(self) -> None:
        """Close the window for real (it may still ask about unsaved edits), then leave."""
        self.quitting = True
        if self.window.close():
            self.icon.hide()
            QApplication.quit()
        else:
            self.quitting = False

    def hide_instead_of_closing(self, event: QCloseEvent) -> bool:
        """From the window's ``closeEvent``: while a search runs and a tray is there, hide
        the window and keep going. True when it did (the event is then ignored)."""
        if self.quitting or not self.window.running or not self.available():
            return False
        event.ignore()
        self.window.hide()
        self.icon.show()
        if not self.told:
            self.told = True
            self.icon.showMessage(
                "Open Brains keeps evolving",
                "The search goes on in the background. Quit from this icon's menu.",
                app_icon(),
                5000,
            )
        return True
