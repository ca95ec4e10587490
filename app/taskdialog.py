"""The New project form (also "Run → Choose task…"): what a population learns.

A task is picked from a list that says what each one is; the data is picked with a file
or folder dialog, and only when the task needs some; each option of the task is a widget
with its range (``engine.tasks.registry.Option``). OK checks the choice by building the
task; what is wrong is said in the form, in words, and the form stays open.

This dialog is the user's own hands (DESIGN §12.1): a ``package.module:Class`` typed as the
task (a game or environment of the user's) is granted (``engine.trust``), with its options
as ``KEY=VALUE`` text, and the data path chosen here is one the user gave.
"""

from __future__ import annotations

import random
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from openbrains.app.messages import plain
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.graph import Graph
from openbrains.engine.layout import auto_layout

AUTO = "default"  # what an option left to the task shows


class TaskDialog(QDialog):
    def __init__(
        self, parent: QWidget | None = None, current: dict[str, Any] | None = None
    ) -> None:
        super().__init__(parent)
        from openbrains.engine.tasks.registry import TASKS

        self.tasks = TASKS
        current = dict(current or {})
        self.setWindowTitle("New project" if not current else "Task")
        self.setMinimumWidth(560)
        self.name = QComboBox(self)
        self.name.setEditable(True)  # a user's own game: package.module:Class
        for info in TASKS.values():
            self.name.addItem(info.name, info.name)
        self.name.lineEdit().setPlaceholderText("a task, or your game as package.module:Class")
        self.options = QLineEdit(self)  # the options of a user's own game
        self.options.setPlaceholderText("KEY=VALUE, KEY=VALUE")
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.data = QLineEdit(self)
        self.browse = QPushButton("Choose…", self)
        self.browse.clicked.connect(self._browse)
        self.data_help = QLabel(self)
        self.data_help.setWordWrap(True)
        self.label = QLineEdit(self)
        self.label.setPlaceholderText("the column to predict")
        self.options_box = QGroupBox("Options", self)
        self.options_form = QFormLayout(self.options_box)
        self.option_widgets: dict[str, QWidget] = {}
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #ef6b6b;")
        self.error.hide()

        row = QHBoxLayout()
        row.addWidget(self.data, 1)
        row.addWidget(self.browse)
        self.data_row = QWidget(self)
        self.data_row.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.addRow("Task", self.name)
        form.addRow("", self.summary)
        form.addRow("Data", self.data_row)
        form.addRow("", self.data_help)
        form.addRow("Label column", self.label)
        form.addRow("Options", self.options)
        self.form = form
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.options_box)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

        self._shown: Any = object()  # the task the widgets were built for
        self.name.currentTextChanged.connect(lambda _t: self._task_changed())
        if current.get("name") in TASKS:
            self.name.setCurrentIndex(list(TASKS).index(current["name"]))
        elif current.get("name"):
            self.name.setEditText(str(current["name"]))
            self.options.setText(_options_text(current))
        self._task_changed(current)
        self.data.setText(str(current.get("data") or ""))
        self.label.setText(str(current.get("label") or ""))

    # ----- the chosen task -----------------------------------------------------------
    def info(self) -> Any:
        """The built-in task chosen, or None for a user's own (``package.module:Class``)."""
        return self.tasks.get(self.name.currentText().strip())

    def _task_changed(self, current: dict[str, Any] | None = None) -> None:
        info = self.info()
        if info is self._shown and current is None:
            return
        self._shown = info
        self._show_row(self.options, info is None)
        if info is None:
            self.summary.setText("your own game or environment, named as package.module:Class")
            for w in (self.data_row, self.data_help, self.label):
                self._show_row(w, False)
            self.options_box.setVisible(False)
            self.error.hide()
            return
        self.summary.setText(info.summary)
        needs = info.data is not None
        for w in (self.data_row, self.data_help):
            self._show_row(w, needs)
        self.data_help.setText(info.data_help)
        self.data.setPlaceholderText("a folder" if info.data == "dir" else "a file")
        self._show_row(self.label, info.label)
        while self.options_form.rowCount():
            self.options_form.removeRow(0)
        self.option_widgets = {}
        for opt in info.options:
            value = (current or {}).get(opt.name, opt.default)
            widget = option_widget(opt, value, self.options_box)
            widget.setToolTip(opt.help)
            self.options_form.addRow(opt.name.replace("_", " "), widget)
            self.option_widgets[opt.name] = widget
        self.options_box.setVisible(bool(info.options))
        self.error.hide()
        self.adjustSize()

    def _show_row(self, field: QWidget, on: bool) -> None:
        field.setVisible(on)
        label = self.form.labelForField(field)
        if label is not None:
            label.setVisible(on)

    def _browse(self) -> None:
        if self.info().data == "dir":
            path = QFileDialog.getExistingDirectory(self, "Data folder", self.data.text())
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Data file", self.data.text())
        if path:
            self.data.setText(path)

    def task_spec(self) -> dict[str, Any]:
        info = self.info()
        if info is None:  # a user's own game: its options as typed
            from openbrains.app.taskargs import parse_options

            spec = {"name": self.name.currentText().strip()}
            items = [t for t in self.options.text().replace(";", ",").split(",") if t.strip()]
            spec.update(parse_options(items))
            return spec
        spec: dict[str, Any] = {"name": info.name}
        if info.data is not None and self.data.text().strip():
            spec["data"] = self.data.text().strip()
        if info.label and self.label.text().strip():
            spec["label"] = self.label.text().strip()
        for opt in info.options:
            value = option_value(self.option_widgets[opt.name], opt)
            if value is not None and value != opt.default:
                spec[opt.name] = value
        return spec

    def accept(self) -> None:
        """Build the task once: a wrong folder or option is said here, not at Start. Code
        typed here is the user's own (granted), and is not run by the form."""
        from openbrains.app.taskargs import grant_if_code
        from openbrains.engine.tasks.registry import load_task

        try:
            spec = self.task_spec()
            grant_if_code(spec["name"], "the Task dialog")
            if self.info() is not None:
                load_task(**spec)
        except (OpenBrainsError, OSError, ValueError) as exc:
            self.error.setText(plain(str(exc)).text)
            self.error.setToolTip(str(exc))
            self.error.show()
            return
        super().accept()


def _options_text(spec: dict[str, Any]) -> str:
    """A task spec's options (its keys other than name, data, label) as the form shows them."""
    from openbrains.app.taskargs import RESERVED

    return ", ".join(f"{k}={v}" for k, v in spec.items() if k not in RESERVED)


def option_widget(opt: Any, value: Any, parent: QWidget) -> QWidget:
    """A widget for one option: a list for choices, a check box for yes/no, a spin box
    with the option's range for numbers (its lowest step reads "default" when the option
    may be left to the task), a line for text."""
    if opt.choices:
        box = QComboBox(parent)
        for c in opt.choices:
            box.addItem(str(c), c)
        if value in opt.choices:
            box.setCurrentIndex(list(opt.choices).index(value))
        return box
    if opt.type is bool:
        check = QCheckBox(parent)
        check.setChecked(bool(value))
        return check
    if opt.type in (int, float):
        spin: QSpinBox | QDoubleSpinBox
        if opt.type is int:
            spin = QSpinBox(parent)
            low, high = int(opt.low if opt.low is not None else 0), int(opt.high or 1_000_000)
            step = 1
        else:
            spin = QDoubleSpinBox(parent)
            spin.setDecimals(3)
            low, high = float(opt.low or 0.0), float(opt.high or 1e6)
            step = max((high - low) / 100, 0.001)
        if opt.default is None:  # one step below the range means "let the task choose"
            low = low - step
            spin.setSpecialValueText(AUTO)
        spin.setRange(low, high)  # type: ignore[arg-type]
        spin.setSingleStep(step)  # type: ignore[arg-type]
        spin.setValue(low if value is None else value)  # type: ignore[arg-type]
        return spin
    line = QLineEdit(parent)
    line.setText("" if value is None else str(value))
    if opt.default is None:
        line.setPlaceholderText(AUTO)
    return line


def option_value(widget: QWidget, opt: Any) -> Any:
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QSpinBox | QDoubleSpinBox):
        if widget.specialValueText() and widget.value() == widget.minimum():
            return None
        return widget.value()
    if isinstance(widget, QLineEdit):
        text = widget.text().strip()
        return None if not text and opt.default is None else text
    return None


def seed_graph_for_task(spec: dict[str, Any]) -> Graph:
    """A seed that compiles for the task: a conventional graph for its input
    (``engine.evolve.templates``), wired input to output, laid out."""
    from openbrains.engine.evolve.random import SizeBounds
    from openbrains.engine.evolve.templates import is_board, template_graph
    from openbrains.engine.tasks.registry import load_task

    task = load_task(**spec)
    graph = template_graph(
        random.Random(0),
        task.inputs,
        task.outputs,
        SizeBounds(max_width=32),
        task.causal,
        board=is_board(task),
    )
    graph.codecs = dict(task.codecs)
    return auto_layout(graph)
