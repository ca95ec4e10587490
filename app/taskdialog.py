"""Choosing what a population learns: task name, data path and label column."""

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
        self.name.addItems(list(TASK_NAMES))
        if current.get("name") in TASK_NAMES:
            self.name.setCurrentText(current["name"])
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
        spec: dict[str, Any] = {"name": self.name.currentText()}
        if self.data.text().strip():
            spec["data"] = self.data.text().strip()
        if self.label.text().strip():
            spec["label"] = self.label.text().strip()
        return spec


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
