"""Edit → Insert from file…: another graph shown as the canvas shows graphs, read-only, so
the user sees what they pick; a list of its nodes beside it (the same selection), and
where the piece attaches in the graph being edited.

The dialog only chooses: ``chosen()`` gives the source uids and the node to attach at
(None: the graft's own default, the node feeding the first output). The app grafts
(``engine.graft``, which needs torch) and pushes the result as one undoable command.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from openbrains.canvas.catalog import Catalog
from openbrains.canvas.editor import layout_missing
from openbrains.canvas.scene import GraphScene
from openbrains.canvas.view import GraphView
from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT, Graph

AUTO_AT = "automatic: behind the node that feeds the first output"
UID = Qt.ItemDataRole.UserRole


def _name(graph: Graph, uid: str) -> str:
    """How a list names a node: its title, and its unit when the title is something else."""
    node = graph.nodes[uid]
    return node.title if node.title == node.unit else f"{node.title}  ·  {node.unit}"


def _is_io(graph: Graph, uid: str) -> bool:
    return graph.nodes[uid].unit in (INPUT_UNIT, OUTPUT_UNIT)


class InsertFromFileDialog(QDialog):
    """Pick nodes of ``source`` (shown read-only) and where they attach in ``target``."""

    def __init__(
        self,
        parent: QWidget | None,
        source: Graph,
        source_name: str,
        target: Graph,
        catalog: Catalog,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Insert from {source_name}")
        self.resize(900, 560)
        self.source = layout_missing(source.copy())
        self.scene = GraphScene(self)
        self.scene.can_wire = lambda *_a: (False, "this is the other file: it is only shown")
        self.scene.sync(self.source, catalog)
        for item in self.scene.node_items():  # read-only: select, never move
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, False)
        self.view = GraphView(self.scene, self)
        self.nodes = QListWidget(self)
        self.nodes.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        for uid in self.source.nodes:
            if _is_io(self.source, uid):
                continue  # inputs and outputs stay where they are; a graft copies the body
            item = QListWidgetItem(_name(self.source, uid))
            item.setData(UID, uid)
            item.setToolTip(uid)
            self.nodes.addItem(item)
        self.at = QComboBox(self)
        self.at.addItem(AUTO_AT, None)
        for uid, node in target.nodes.items():
            if node.unit != OUTPUT_UNIT:
                self.at.addItem(_name(target, uid), uid)
        self.at.setToolTip(
            "the node the piece reads from and is added to (behind a gate that starts "
            "closed, so the graph computes what it did until it trains)"
        )
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Insert")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        side = QVBoxLayout()
        side.addWidget(QLabel("Nodes to copy (select on the graph or here):", self))
        side.addWidget(self.nodes, 1)
        form = QFormLayout()
        form.addRow("Attach at", self.at)
        side.addLayout(form)
        side.addWidget(self.summary)
        body = QHBoxLayout()
        body.addWidget(self.view, 3)
        body.addLayout(side, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(self.buttons)

        self._syncing = False
        self.scene.selectionChanged.connect(self._from_scene)
        self.nodes.itemSelectionChanged.connect(self._from_list)
        self._update()

    def showEvent(self, event: object) -> None:  # type: ignore[override]
        super().showEvent(event)  # type: ignore[arg-type]
        self.view.fit_rect(self.scene.items_rect())

    # ----- one selection, two views --------------------------------------------------------
    def _from_scene(self) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            chosen = set(self.scene.selected_node_uids())
            for i in range(self.nodes.count()):
                item = self.nodes.item(i)
                item.setSelected(item.data(UID) in chosen)
        finally:
            self._syncing = False
        self._update()

    def _from_list(self) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            self.scene.select_uids(item.data(UID) for item in self.nodes.selectedItems())
        finally:
            self._syncing = False
        self._update()

    def select(self, uids: list[str]) -> None:
        """Select ``uids`` (as a click on the graph would)."""
        self.scene.select_uids(uids)

    def _update(self) -> None:
        picked = self.scene.selected_node_uids()
        body = [u for u in picked if not _is_io(self.source, u)]
        skipped = len(picked) - len(body)
        if body:
            titles = ", ".join(self.source.nodes[u].title for u in body[:6])
            more = f" and {len(body) - 6} more" if len(body) > 6 else ""
            text = f"{len(body)} node{'s' if len(body) != 1 else ''}: {titles}{more}"
        else:
            text = "select the nodes to copy"
        if skipped:
            text += " (inputs and outputs are not copied)"
        self.summary.setText(text)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(body))

    def chosen(self) -> tuple[list[str], str | None]:
        """The source nodes to copy (in the source's order) and the node to attach at."""
        picked = set(self.scene.selected_node_uids())
        nodes = [u for u in self.source.nodes if u in picked and not _is_io(self.source, u)]
        return nodes, self.at.currentData()

    def set_at(self, uid: str | None) -> None:
        index = self.at.findData(uid)
        if index >= 0:
            self.at.setCurrentIndex(index)
