"""Choosing what a population learns: task name, data path, label column and options.

This dialog is the user's own hands (DESIGN §12.1): a ``package.module:Class`` typed here is
granted (``engine.trust``), and the data path chosen here is one the user gave.
"""

from __future__ import annotations

import random
from typing import Any

from openbrains.engine.graph import Graph
from openbrains.engine.layout import auto_layout
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)

NEEDS_DATA = {
    "mnist": "folder",
    "csv": "file",
    "images": "folder",
    "audio": "folder",
    "text": "file",
}


class TaskDialog(QDialog):
    def __init__(
        self, parent: QWidget | None = None, current: dict[str, Any] | None = None
    ) -> None:
        super().__init__(parent)
        from openbrains.engine.tasks.registry import TASK_NAMES, describe_tasks

        self.setWindowTitle("Task")
        current = current or {}
        self.name = QComboBox(self)
        self.name.setEditable(True)  # a user's own game: package.module:Class
        self.name.addItems(list(TASK_NAMES))
        if current.get("name") in TASK_NAMES:
            self.name.setCurrentText(current["name"])
        self.name.lineEdit().setPlaceholderText("a task, or your game as package.module:Class")
        self.options = QLineEdit(_options_text(current), self)
        self.options.setPlaceholderText("KEY=VALUE, KEY=VALUE (see the options below)")
        self.data = QLineEdit(current.get("data", ""), self)
        self.browse = QPushButton("Browse…", self)
        self.browse.clicked.connect(self._browse)
        self.label = QLineEdit(current.get("label", ""), self)
        self.help = QLabel("\n".join(describe_tasks()), self)
        self.help.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.data)
        row.addWidget(self.browse)
        form = QFormLayout(self)
        form.addRow("Task", self.name)
        form.addRow("Data", row)
        form.addRow("Label column (csv)", self.label)
        form.addRow("Options", self.options)
        form.addRow(self.help)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        kind = NEEDS_DATA.get(self.name.currentText())
        if kind == "folder":
            path = QFileDialog.getExistingDirectory(self, "Data folder")
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Data file")
        if path:
            self.data.setText(path)

    def task_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"name": self.name.currentText().strip()}
        if self.data.text().strip():
            spec["data"] = self.data.text().strip()
        if self.label.text().strip():
            spec["label"] = self.label.text().strip()
        from openbrains.app.taskargs import parse_options

        items = [t for t in self.options.text().replace(";", ",").split(",") if t.strip()]
        spec.update(parse_options(items))
        return spec

    def accept(self) -> None:
        """OK: code typed here is the user's own (granted); bad input is said plainly."""
        from openbrains.app.taskargs import grant_if_code
        from openbrains.engine.errors import OpenBrainsError

        try:
            spec = self.task_spec()
            grant_if_code(spec["name"], "the Task dialog")
        except OpenBrainsError as exc:
            QMessageBox.warning(self, "Task", str(exc))
            return
        super().accept()


def _options_text(spec: dict[str, Any]) -> str:
    """A task spec's options (its keys other than name, data, label) as the dialog shows them."""
    from openbrains.app.taskargs import RESERVED

    return ", ".join(f"{k}={v}" for k, v in spec.items() if k not in RESERVED)


def io_graph_for_task(spec: dict[str, Any]) -> Graph:
    """A canvas with the task's input and output nodes and nothing between them (an empty
    seed: the run starts from random graphs until the user draws one)."""
    from openbrains.engine.evolve.random import add_io
    from openbrains.engine.tasks.registry import load_task

    task = load_task(**spec)
    graph = Graph(causal=task.causal)
    add_io(graph, task.inputs, task.outputs, random.Random(0))
    graph.codecs = dict(task.codecs)
    return auto_layout(graph)
