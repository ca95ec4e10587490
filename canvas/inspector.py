"""The inspector: the selected node's params (one proper widget per param kind, with the
declared range), its label and flags, the unit's doc, and what the checker found (output
shape, parameter count, error). Edits are emitted as signals; the editor turns them into
undoable commands, so the inspector never changes the graph itself.

Frozen nodes show their params read-only: evolution keeps them as they are, and so does
the user until they unfreeze them.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from openbrains.canvas import theme
from openbrains.canvas.catalog import Catalog, ParamSpec, UnitSpec
from openbrains.canvas.items.node import format_shape
from openbrains.engine.graph import Graph, Node

INT_MAX = 2_147_483_647


def _int_range(spec: ParamSpec) -> tuple[int, int]:
    low = int(spec.low) if spec.low is not None else -INT_MAX
    high = int(spec.high) if spec.high is not None else INT_MAX
    return max(low, -INT_MAX), min(high, INT_MAX)


def float_decimals(spec: ParamSpec) -> int:
    """Enough decimals to show the low end of the range (finer for log-scale params)."""
    if spec.log and spec.low:
        return max(3, min(8, 3 - math.floor(math.log10(abs(spec.low)))))
    if spec.low is not None and spec.high is not None and spec.high - spec.low <= 2:
        return 3
    return 2


def float_step(spec: ParamSpec) -> float:
    if spec.low is not None and spec.high is not None and spec.high > spec.low:
        return 10 ** math.floor(math.log10((spec.high - spec.low) / 50))
    return 0.1


class FloatSpinBox(QDoubleSpinBox):
    """A double spin box that drops trailing zeros (0.01, not 0.0100000)."""

    def textFromValue(self, value: float) -> str:
        text = f"{value:.{self.decimals()}f}"
        if "." in text:
            text = text.rstrip("0")
            if text.endswith("."):
                text += "0"
        return text


class Inspector(QWidget):
    paramEdited = Signal(str, str, object)  # uid, param, value
    labelEdited = Signal(str, str)  # uid, label
    flagsEdited = Signal(list, object, object)  # uids, frozen or None, trainable or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = Catalog()
        self.uids: list[str] = []
        self.param_widgets: dict[str, QWidget] = {}
        self._built_for: tuple[str, str] | None = None
        self._updating = False

        self.title = QLabel("Nothing selected", self)
        self.title.setObjectName("InspectorTitle")
        self.title.setWordWrap(True)
        self.chip = QLabel(self)
        self.chip.setObjectName("Chip")
        self.doc = QLabel(self)
        self.doc.setObjectName("Dim")
        self.doc.setWordWrap(True)

        self.label_edit = QLineEdit(self)
        self.label_edit.setPlaceholderText("label (optional)")
        self.label_edit.editingFinished.connect(self._label_done)
        self.frozen_box = QCheckBox("Frozen", self)
        self.trainable_box = QCheckBox("Trainable", self)
        self.frozen_box.setToolTip("Evolution keeps a frozen node as it is (params, wires in)")
        self.trainable_box.setToolTip("Gradients change its weights; off: the weights stay fixed")
        self.frozen_box.clicked.connect(lambda on: self._flags(frozen=bool(on)))
        self.trainable_box.clicked.connect(lambda on: self._flags(trainable=bool(on)))
        self.frozen_note = QLabel("Frozen: unfreeze it to edit its params.", self)
        self.frozen_note.setObjectName("Dim")
        self.frozen_note.setWordWrap(True)

        self.node_box = QGroupBox("Node", self)
        node_form = QFormLayout(self.node_box)
        node_form.addRow("Label", self.label_edit)
        flags = QHBoxLayout()
        flags.addWidget(self.frozen_box)
        flags.addWidget(self.trainable_box)
        flags.addStretch(1)
        node_form.addRow("Flags", flags)
        node_form.addRow(self.frozen_note)

        self.params_box = QGroupBox("Parameters", self)
        self.params_form = QFormLayout(self.params_box)
        self.params_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.check_box = QGroupBox("Shape and size", self)
        check_form = QFormLayout(self.check_box)
        self.shape_label = QLabel("—", self)
        self.shape_label.setFont(theme.mono_font(9))
        self.count_label = QLabel("—", self)
        self.live_label = QLabel("—", self)
        self.live_label.setWordWrap(True)
        self.error_label = QLabel("", self)
        self.error_label.setObjectName("Error")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        check_form.addRow("Output", self.shape_label)
        check_form.addRow("Parameters", self.count_label)
        check_form.addRow("Used", self.live_label)
        check_form.addRow(self.error_label)

        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.chip, 0, Qt.AlignmentFlag.AlignTop)
        inner = QWidget(self)
        col = QVBoxLayout(inner)
        col.setContentsMargins(8, 8, 8, 8)
        col.setSpacing(8)
        col.addLayout(head)
        col.addWidget(self.doc)
        col.addWidget(self.node_box)
        col.addWidget(self.params_box)
        col.addWidget(self.check_box)
        col.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.setMinimumWidth(250)
        self.show_nodes(None, [], None)

    def set_catalog(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._built_for = None

    # ----- showing ----------------------------------------------------------------------
    def show_nodes(
        self, graph: Graph | None, uids: list[str], check: dict[str, Any] | None
    ) -> None:
        """Show the selected node(s) of ``graph`` (called on selection and after edits)."""
        self._updating = True
        try:
            nodes = [graph.nodes[u] for u in uids if graph is not None and u in graph.nodes]
            self.uids = [n.uid for n in nodes]
            if len(nodes) == 1:
                self._show_one(nodes[0], check)
            elif nodes:
                self._show_many(nodes)
            else:
                self._show_graph(graph, check)
        finally:
            self._updating = False

    def _show_graph(self, graph: Graph | None, check: dict[str, Any] | None) -> None:
        self._clear_params()
        self.title.setText("Graph" if graph is not None else "Nothing selected")
        self.chip.hide()
        if graph is None:
            self.doc.setText("")
        else:
            n, e = len(graph.nodes), len(graph.edges)
            self.doc.setText(
                f"{n} nodes, {e} wires. Select a node to edit its parameters; "
                "drag from an output port to an input port to wire."
            )
        self.node_box.hide()
        self.params_box.hide()
        self._show_check(None, check, graph_level=True)

    def _show_many(self, nodes: list[Node]) -> None:
        self._clear_params()
        self.title.setText(f"{len(nodes)} nodes selected")
        self.chip.hide()
        self.doc.setText(", ".join(n.title for n in nodes[:8]) + (" …" if len(nodes) > 8 else ""))
        self.node_box.show()
        self.label_edit.setEnabled(False)
        self.label_edit.setText("")
        self._set_tristate(self.frozen_box, [n.frozen for n in nodes])
        self._set_tristate(self.trainable_box, [n.trainable for n in nodes])
        self.frozen_note.hide()
        self.params_box.hide()
        self.check_box.hide()

    @staticmethod
    def _set_tristate(box: QCheckBox, values: list[bool]) -> None:
        box.setTristate(False)
        if all(values):
            box.setCheckState(Qt.CheckState.Checked)
        elif not any(values):
            box.setCheckState(Qt.CheckState.Unchecked)
        else:
            box.setCheckState(Qt.CheckState.PartiallyChecked)

    def _show_one(self, node: Node, check: dict[str, Any] | None) -> None:
        spec = self.catalog.spec(node.unit)
        self.title.setText(node.title)
        self.chip.setText(spec.category)
        self.chip.setStyleSheet(f"background: {theme.category_color(spec.category).name()};")
        self.chip.show()
        doc = spec.doc
        if not spec.known:
            doc = f"Unit {node.unit!r} v{node.version} is not installed; the node is kept as data."
        self.doc.setText(f"<b>{node.unit}</b> v{node.version} — {doc}")
        self.node_box.show()
        self.label_edit.setEnabled(True)
        if not self.label_edit.hasFocus():
            self.label_edit.setText(node.label)
        self.frozen_box.setTristate(False)
        self.frozen_box.setChecked(node.frozen)
        self.trainable_box.setTristate(False)
        self.trainable_box.setChecked(node.trainable)
        self.frozen_note.setVisible(node.frozen)

        key = (node.uid, node.unit)
        if self._built_for != key:
            self._build_params(node, spec)
            self._built_for = key
        self._set_param_values(node, spec)
        for w in self.param_widgets.values():
            w.setEnabled(not node.frozen and spec.known)
        self.params_box.setVisible(bool(self.param_widgets))
        self._show_check(node.uid, check)

    def _show_check(
        self, uid: str | None, check: dict[str, Any] | None, graph_level: bool = False
    ) -> None:
        self.check_box.setVisible(check is not None or not graph_level)
        if check is None:
            self.shape_label.setText("—")
            self.count_label.setText("—")
            self.live_label.setText("—")
            self.error_label.setText("")
            return
        if graph_level:
            self.check_box.setTitle("Graph check")
            self.shape_label.setText("compiles" if check.get("compiles") else "does not compile")
            params = check.get("params")
            self.count_label.setText(f"{int(params):,}" if params else "—")
            self.live_label.setText("—")
            self.error_label.setText(str(check.get("error") or ""))
            return
        self.check_box.setTitle("Shape and size")
        info = (check.get("nodes") or {}).get(uid or "", {})
        self.shape_label.setText(format_shape(info.get("shape")) or "—")
        live = info.get("live")
        if "params" in info:
            self.count_label.setText(f"{int(info['params']):,}")
        else:
            self.count_label.setText("0" if check.get("compiles") and live else "—")
        self.live_label.setText(
            "—" if live is None else ("yes" if live else "no: it feeds no output")
        )
        self.error_label.setText(str(info.get("error") or ""))

    # ----- param widgets ----------------------------------------------------------------
    def _clear_params(self) -> None:
        while self.params_form.rowCount():
            self.params_form.removeRow(0)
        self.param_widgets = {}
        self._built_for = None

    def _build_params(self, node: Node, spec: UnitSpec) -> None:
        self._clear_params()
        for ps in spec.params:
            w = self._make_widget(node.uid, ps)
            w.setMinimumHeight(self.label_edit.sizeHint().height())
            w.setToolTip(f"{ps.doc}<br><i>{ps.describe()}</i>")
            label = QLabel(ps.name, self)
            label.setToolTip(ps.doc)
            self.params_form.addRow(label, w)
            self.param_widgets[ps.name] = w
        for name, value in node.params.items():
            if spec.param(name) is None:
                w = QLineEdit(repr(value), self)
                w.setReadOnly(True)
                w.setToolTip("not declared by the installed unit; kept as it is")
                self.params_form.addRow(QLabel(f"{name} (?)", self), w)
                self.param_widgets[name] = w

    def _make_widget(self, uid: str, ps: ParamSpec) -> QWidget:
        emit = self._emitter(uid, ps.name)
        if ps.kind == "int":
            w = QSpinBox(self)
            w.setRange(*_int_range(ps))
            w.setKeyboardTracking(False)
            w.setAccelerated(True)
            if ps.log:
                w.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
            w.valueChanged.connect(lambda v: emit(int(v)))
            return w
        if ps.kind == "float":
            w = FloatSpinBox(self)
            w.setDecimals(float_decimals(ps))
            low = ps.low if ps.low is not None else -1e12
            high = ps.high if ps.high is not None else 1e12
            w.setRange(float(low), float(high))
            w.setKeyboardTracking(False)
            if ps.log:
                w.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
            else:
                w.setSingleStep(float_step(ps))
            w.valueChanged.connect(lambda v: emit(float(v)))
            return w
        if ps.kind == "choice":
            w = QComboBox(self)
            for choice in ps.choices:
                w.addItem(str(choice), choice)
            w.currentIndexChanged.connect(lambda i, box=w: emit(box.itemData(i)))
            return w
        if ps.kind == "bool":
            w = QCheckBox(self)
            w.toggled.connect(lambda on: emit(bool(on)))
            return w
        w = QLineEdit(self)
        w.editingFinished.connect(lambda box=w: emit(box.text()))
        return w

    def _emitter(self, uid: str, name: str) -> Any:
        def emit(value: Any) -> None:
            if not self._updating:
                self.paramEdited.emit(uid, name, value)

        return emit

    def _set_param_values(self, node: Node, spec: UnitSpec) -> None:
        for ps in spec.params:
            w = self.param_widgets.get(ps.name)
            value = node.params.get(ps.name, ps.default)
            w.blockSignals(True)
            try:
                if isinstance(w, QSpinBox):
                    w.setValue(int(value))
                elif isinstance(w, QDoubleSpinBox):
                    w.setValue(float(value))
                elif isinstance(w, QComboBox):
                    i = w.findData(value)
                    if i < 0:
                        w.addItem(f"{value} (?)", value)
                        i = w.count() - 1
                    w.setCurrentIndex(i)
                elif isinstance(w, QCheckBox):
                    w.setChecked(bool(value))
                elif isinstance(w, QLineEdit) and not w.hasFocus():
                    w.setText(str(value))
            except (TypeError, ValueError):
                pass
            finally:
                w.blockSignals(False)

    # ----- edits ------------------------------------------------------------------------
    def _label_done(self) -> None:
        if self._updating or len(self.uids) != 1:
            return
        self.labelEdited.emit(self.uids[0], self.label_edit.text().strip())

    def _flags(self, frozen: bool | None = None, trainable: bool | None = None) -> None:
        if self._updating or not self.uids:
            return
        self.flagsEdited.emit(list(self.uids), frozen, trainable)
