"""File → Publish…: which brain (the run's champion or a `.graph`), where (a folder or
``hf:OWNER[/NAME]``), under which licence, with what description."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from openbrains.engine.exchange.package import PublishRequest

LICENCES = ("unknown", "mit", "apache-2.0", "cc-by-4.0", "cc-by-sa-4.0", "cc0-1.0", "other")
CHAMPION = "the champion of this run"


class PublishDialog(QDialog):
    """Asks what to publish and where; ``request()`` and ``destination()`` give the answer."""

    def __init__(self, parent: QWidget | None, run_dir: Path | None, place: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Publish a brain")
        self.run_dir = run_dir
        self.brain = QComboBox(self)
        self.brain.setEditable(True)
        if run_dir is not None:
            self.brain.addItem(CHAMPION)
        self.brain.lineEdit().setPlaceholderText("a .graph file")
        pick_brain = QPushButton("File…", self)
        pick_brain.clicked.connect(self._pick_brain)
        self.dest = QLineEdit(place if place and place != "hf:" else "", self)
        self.dest.setPlaceholderText("a folder, or hf:OWNER/NAME")
        pick_dest = QPushButton("Folder…", self)
        pick_dest.clicked.connect(self._pick_dest)
        self.licence = QComboBox(self)
        self.licence.setEditable(True)
        self.licence.addItems(LICENCES)
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("default: TASK-<content id>")
        self.description = QLineEdit(self)
        form = QFormLayout(self)
        form.addRow("Brain", _row(self.brain, pick_brain))
        form.addRow("Publish to", _row(self.dest, pick_dest))
        form.addRow("Name", self.name)
        form.addRow("Licence", self.licence)
        form.addRow("Description", self.description)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Publish")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _pick_brain(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Brain to publish", "", "Open Brains (*.graph)")
        if path:
            self.brain.setEditText(path)

    def _pick_dest(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Exchange folder")
        if folder:
            self.dest.setText(folder)

    def destination(self) -> str:
        return self.dest.text().strip()

    def choice(self) -> PublishChoice:
        """The answers as plain data (read on the window's thread, used on a worker's)."""
        text = self.brain.currentText().strip()
        return PublishChoice(
            champion_of=self.run_dir if text == CHAMPION else None,
            graph_path=None if text == CHAMPION else Path(text),
            name=self.name.text().strip() or None,
            license=self.licence.currentText().strip() or "unknown",
            description=self.description.text().strip(),
        )


@dataclass(frozen=True)
class PublishChoice:
    """What File → Publish… was told: a run whose champion to publish, or a file."""

    champion_of: Path | None
    graph_path: Path | None
    name: str | None
    license: str
    description: str


def publish_choice(choice: PublishChoice, dest: str) -> tuple[str, Any]:
    """Publish what the dialog chose (the champion exported to a temporary file first)."""
    from openbrains.engine.exchange.actions import publish
    from openbrains.engine.exchange.errors import ExchangeError

    with tempfile.TemporaryDirectory(prefix="openbrains-publish-") as tmp:
        if choice.champion_of is not None:
            from openbrains.engine.export import export_individual

            path = Path(tmp) / "champion.graph"
            export_individual(choice.champion_of, None, path)
        elif choice.graph_path is not None and str(choice.graph_path):
            path = choice.graph_path
        else:
            raise ExchangeError("choose a brain to publish: the run's champion or a .graph file")
        request = PublishRequest(
            graph_path=path,
            name=choice.name,
            license=choice.license,
            description=choice.description,
        )
        return publish(request, dest)


def _row(*widgets: QWidget) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    for i, w in enumerate(widgets):
        layout.addWidget(w, 1 if i == 0 else 0)
    return row
