"""The run bar's Teacher section: which teacher helps the run (its spec and role), how it is
doing (ready, asking, idle, down with the reason), and how many of its answers the run
archive holds; "Teacher…" opens the dialog where a person names one.

The dialog is one of the two places a teacher spec may come from (the other is the command
line): a spec names a server or a file to run, so a project or run folder never supplies
one (DESIGN §12.1). The API key is never typed here, only the *name* of the environment
variable that holds it. No torch: the section shows the plain status the engine sends.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
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

from openbrains.canvas.theme import COLORS
from openbrains.engine.teachers.errors import TeacherError
from openbrains.engine.teachers.spec import ROLES, SPEC_HELP, TeacherSpec

STATE_COLORS = {"asking": "accent", "idle": "ok", "ready": "text_dim", "down": "error"}
ROLE_HELP = {
    "label": "label the files of a folder (sure ones join the training data)",
    "pairs": "write responses to your prompts (call-and-response tasks)",
    "rate": "rate candidates' outputs like a person on the sliders (counts less)",
    "tag": "read what people type to the live brain; tags become ratings or labels",
    "distill": "soft targets: a small brain learns from the teacher's beliefs",
}


def status_text(status: dict[str, Any] | None) -> str:
    """One rich-text line for a teacher status (``engine.teachers.session.TeacherStatus``)."""
    dim = COLORS["text_dim"]
    if not status:
        return f"<span style='color:{dim}'>no teacher</span>"
    state = str(status.get("state") or "ready")
    color = COLORS[STATE_COLORS.get(state, "text_dim")]
    spec = str(status.get("spec") or "?")
    short = spec if len(spec) <= 40 else spec[:18] + "…" + spec[-18:]
    cached = int(status.get("cached") or 0)
    return (
        f"<span style='color:{dim}'>{short} · {status.get('role', '?')} ·</span> "
        f"<span style='color:{color}'>{state}</span>"
        f"<span style='color:{dim}'> · {cached:,} answers cached</span>"
    )


class TeacherSection(QWidget):
    """Shows a teacher's status; ``orderChosen`` carries what the dialog was given."""

    orderChosen = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status: dict[str, Any] = {}
        title = QLabel("Teacher", self)
        title.setStyleSheet(f"color: {COLORS['text_dim']};")
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.button = QPushButton("Teacher…", self)
        self.button.setToolTip("name a teacher for this run: a model server, a brain file…")
        self.button.clicked.connect(self.choose)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        row.addWidget(title)
        row.addWidget(self.label)
        row.addWidget(self.button)
        self.set_status({})

    def set_status(self, status: dict[str, Any] | None) -> None:
        """Take a ``teacher`` event (or ``{}``: no teacher)."""
        self.status = dict(status or {})
        self.label.setText(status_text(self.status))
        tip = [
            f"{k}: {self.status[k]}"
            for k in ("asked", "hits", "skipped", "requests")
            if k in self.status
        ]
        if self.status.get("message"):
            tip.append(str(self.status["message"]))
        self.label.setToolTip("\n".join(tip))

    def choose(self) -> None:
        dialog = TeacherDialog(self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.orderChosen.emit(dialog.order())


class TeacherDialog(QDialog):
    """Spec, role, the key's variable name, and what the role reads (a folder, a file)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Teacher")
        self.spec = QLineEdit(self)
        self.spec.setPlaceholderText("openai:MODEL@http://127.0.0.1:8080/v1")
        self.spec.setToolTip(SPEC_HELP)
        self.role = QComboBox(self)
        for role in ROLES:
            self.role.addItem(role, role)
            self.role.setItemData(
                self.role.count() - 1, ROLE_HELP[role], Qt.ItemDataRole.ToolTipRole
            )
        self.key_env = QLineEdit(self)
        self.key_env.setPlaceholderText("e.g. OPENAI_API_KEY (the variable's name, not the key)")
        self.unlabelled = QLineEdit(self)
        browse_dir = QPushButton("…", self)
        browse_dir.clicked.connect(self._pick_folder)
        self.prompts = QLineEdit(self)
        browse_file = QPushButton("…", self)
        browse_file.clicked.connect(self._pick_file)
        self.error = QLabel(self)
        self.error.setStyleSheet(f"color: {COLORS['error']};")
        self.error.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Teacher", self.spec)
        form.addRow("Role", self.role)
        form.addRow("Key variable", self.key_env)
        form.addRow("Unlabelled folder", _with(self, self.unlabelled, browse_dir))
        form.addRow("Prompts file", _with(self, self.prompts, browse_file))
        form.addRow(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def order(self) -> dict[str, Any]:
        return {
            "spec": self.spec.text().strip(),
            "role": str(self.role.currentData()),
            "key_env": self.key_env.text().strip(),
            "unlabelled": self.unlabelled.text().strip(),
            "prompts": self.prompts.text().strip(),
        }

    def accept(self) -> None:
        """Only a spec that parses, with what its role needs, closes the dialog."""
        order = self.order()
        try:
            TeacherSpec.parse(order["spec"], order["key_env"])
            if order["role"] == "label" and not order["unlabelled"]:
                raise TeacherError("label needs an unlabelled folder")
            if order["role"] == "pairs" and not order["prompts"]:
                raise TeacherError("pairs needs a prompts file")
        except TeacherError as exc:
            self.error.setText(str(exc))
            return
        super().accept()

    def _pick_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Unlabelled files")
        if path:
            self.unlabelled.setText(path)

    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Prompts, one per line")
        if path:
            self.prompts.setText(path)


def _with(parent: QWidget, field: QLineEdit, button: QPushButton) -> QWidget:
    box = QWidget(parent)
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(field, 1)
    row.addWidget(button)
    return box
