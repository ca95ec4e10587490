"""Parent | child: two read-only canvases side by side, the differences marked.

Both sides are laid out from the union of the two graphs (``canvas.follow``), so a node
the two share sits at the same spot on both: the eye finds what moved. On the parent's
side what the child lost is marked "removed"; on the child's side what it gained is
"new" and what it changed (a width, an activation) is "changed", with the old and new
values in the card's tooltip. A line above says what the mutation was, in words.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem, QLabel, QSplitter, QVBoxLayout, QWidget

from openbrains.canvas.catalog import Catalog
from openbrains.canvas.follow import GraphDiff, diff_graphs, show_changes, union_graph
from openbrains.canvas.scene import GraphScene
from openbrains.canvas.theme import COLORS
from openbrains.canvas.view import GraphView
from openbrains.engine.graph import Graph


class ReadOnlyCanvas(QWidget):
    """A title over a graph view nobody can edit (cards neither move nor take wires)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene = GraphScene(self)
        self.scene.can_wire = lambda *_: (False, "this view is read-only")
        self.view = GraphView(self.scene, self)
        self.view.setMinimumSize(240, 200)
        self.title = QLabel(self)
        self.title.setWordWrap(True)
        self.title.setStyleSheet(f"padding: 4px 8px; color: {COLORS['text']};")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)

    def freeze(self) -> None:
        for item in (*self.scene.nodes.values(), *self.scene.wires.values()):
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, False)
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)
        for node in self.scene.nodes.values():
            for port in (*node.inputs.values(), *node.outputs.values()):
                port.setAcceptedMouseButtons(Qt.MouseButton.NoButton)


class CompareView(QWidget):
    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.setWindowTitle("Parent | child")
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet(f"padding: 6px 8px; color: {COLORS['text_dim']};")
        self.parent_side = ReadOnlyCanvas(self)
        self.child_side = ReadOnlyCanvas(self)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.parent_side)
        split.addWidget(self.child_side)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        self.diff = GraphDiff()
        self.resize(1200, 620)

    def set_pair(
        self, parent: Graph, child: Graph, parent_title: str, child_title: str, how: str = ""
    ) -> GraphDiff:
        """Show ``parent`` and ``child`` (copies), marked; ``how``: the mutation, in words."""
        parent, child = parent.copy(), child.copy()
        self.diff = diff_graphs(parent, child)
        both = union_graph(parent, child, self.diff)
        show_changes(self.parent_side.scene, parent, None, self.catalog, layout_of=both)
        show_changes(self.child_side.scene, child, None, self.catalog, layout_of=both)
        self.parent_side.scene.set_marks(
            dict.fromkeys(self.diff.removed | self.diff.rewired, "removed")
            | dict.fromkeys(self.diff.changed, "changed"),
            self.diff.changed,
        )
        self.child_side.scene.set_marks(self.diff.marks(), self.diff.changed)
        self.parent_side.title.setText(parent_title)
        self.child_side.title.setText(child_title)
        what = self.diff.summary(parent, child)
        self.summary.setText(f"{how} — {what}" if how else what)
        for side in (self.parent_side, self.child_side):
            side.freeze()
            rect = side.scene.items_rect()
            for other in (self.parent_side, self.child_side):
                rect = rect.united(other.scene.items_rect())
            side.view.fit_rect(rect)
        return self.diff

    def showEvent(self, event: object) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        rect = self.parent_side.scene.items_rect().united(self.child_side.scene.items_rect())
        for side in (self.parent_side, self.child_side):
            side.view.fit_rect(rect)
