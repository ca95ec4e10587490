"""The run bar's Teacher section wired to the engine: one call from the main window,
``install_teacher(self, toolbar)``.

The order a person gives in the teacher dialog goes to the engine's ``teacher`` command
for the open run (or waits, in memory, until the run starts); it is never written into the
project, so a project file cannot bring a teacher with it (DESIGN §12.1). ``teacher``
events update the section; ``teacher_error`` lines go to the engine log.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMainWindow, QToolBar

from openbrains.canvas.teacher import TeacherSection


class TeacherLink(QObject):
    def __init__(self, window: QMainWindow, client: Any, section: TeacherSection) -> None:
        super().__init__(window)
        self.window = window
        self.client = client
        self.section = section
        self.pending: dict[str, Any] | None = None
        section.orderChosen.connect(self.give)
        client.event.connect(self.on_event)

    def give(self, order: dict[str, Any]) -> None:
        """Send the dialog's order to the open run, or keep it until the run starts."""
        if getattr(self.window, "run_open", False):
            self.client.send("teacher", self._on_reply, order=order)
            return
        self.pending = order
        self.section.set_status({"spec": order["spec"], "role": order["role"], "state": "ready"})
        self.window.statusBar().showMessage("the teacher starts working when the run starts", 5000)

    def on_event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "teacher":
            self.section.set_status(data)
        elif kind == "teacher_error":
            log = getattr(self.window, "append_log", None)
            if callable(log):
                log(f"teacher: {data.get('message', '')}")
        elif kind == "started" and self.pending is not None:
            order, self.pending = self.pending, None
            self.client.send("teacher", self._on_reply, order=order)

    def _on_reply(self, reply: dict[str, Any]) -> None:
        if not reply.get("ok"):
            error = str(reply.get("error"))
            self.section.set_status({})
            self.window.statusBar().showMessage(f"teacher: {error}", 10_000)
            log = getattr(self.window, "append_log", None)
            if callable(log):
                log(f"teacher: {error}")
        elif reply.get("teacher"):
            self.section.set_status(reply["teacher"])


def install_teacher(window: QMainWindow, toolbar: QToolBar) -> TeacherLink:
    """Add the Teacher section after the run bar and connect it to ``window.client``."""
    section = TeacherSection(window)
    toolbar.addSeparator()
    toolbar.addWidget(section)
    return TeacherLink(window, window.client, section)  # type: ignore[attr-defined]
