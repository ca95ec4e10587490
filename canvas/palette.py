"""Where units come from: a searchable palette grouped by category (drag a unit onto the
canvas), and the quick-add popup (Tab or double-click on the canvas, type, Enter).

A dragged unit travels as ``application/x-openbrains-unit`` holding the unit name.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from openbrains.canvas import theme
from openbrains.canvas.catalog import Catalog, UnitSpec

UNIT_MIME = "application/x-openbrains-unit"
NAME_ROLE = Qt.ItemDataRole.UserRole + 1


def unit_mime_data(name: str) -> QMimeData:
    """What a palette drag carries: the unit name under UNIT_MIME (and as text)."""
    mime = QMimeData()
    mime.setData(UNIT_MIME, name.encode())
    mime.setText(name)
    return mime


def unit_from_mime(mime: QMimeData) -> str | None:
    if not mime.hasFormat(UNIT_MIME):
        return None
    name = bytes(mime.data(UNIT_MIME).data()).decode("utf-8", "replace").strip()
    return name or None


_icons: dict[str, QIcon] = {}


def category_icon(category: str) -> QIcon:
    """A small rounded swatch in the category colour."""
    icon = _icons.get(category)
    if icon is None:
        pm = QPixmap(14, 14)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(theme.category_color(category))
        p.drawRoundedRect(2, 2, 10, 10, 3, 3)
        p.end()
        icon = _icons[category] = QIcon(pm)
    return icon


def _tooltip(u: UnitSpec) -> str:
    params = ", ".join(p.name for p in u.params) or "none"
    return f"<b>{u.name}</b> ({u.category})<br>{u.doc}<br><i>params: {params}</i>"


class _UnitTree(QTreeWidget):
    def mimeTypes(self) -> list[str]:
        return [UNIT_MIME]

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:
        for item in items:
            name = item.data(0, NAME_ROLE)
            if name:
                return unit_mime_data(str(name))
        return QMimeData()


class UnitPalette(QWidget):
    """Units by category; type to filter; drag one onto the canvas, or double-click it."""

    unitActivated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = Catalog()
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search units…")
        self.search.setClearButtonEnabled(True)
        self.tree = _UnitTree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(8)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.hint = QLabel("Drag a unit onto the canvas, or press Tab there.", self)
        self.hint.setObjectName("Dim")
        self.hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.hint)
        self.search.textChanged.connect(self.apply_filter)
        self.tree.itemActivated.connect(self._activated)
        self.tree.itemDoubleClicked.connect(self._activated)
        self.items: dict[str, QTreeWidgetItem] = {}
        self.setMinimumWidth(170)

    def set_catalog(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.tree.clear()
        self.items = {}
        for category, units in catalog.by_category().items():
            head = QTreeWidgetItem([category.upper()])
            head.setFlags(Qt.ItemFlag.ItemIsEnabled)
            f = theme.ui_font(8, bold=True)
            head.setFont(0, f)
            head.setForeground(0, QColor(theme.COLORS["text_dim"]))
            self.tree.addTopLevelItem(head)
            for u in units:
                item = QTreeWidgetItem([u.name])
                item.setData(0, NAME_ROLE, u.name)
                item.setIcon(0, category_icon(u.category))
                item.setToolTip(0, _tooltip(u))
                item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                    | Qt.ItemFlag.ItemIsDragEnabled
                )
                head.addChild(item)
                self.items[u.name] = item
            head.setExpanded(True)
        self.apply_filter(self.search.text())

    def apply_filter(self, text: str) -> None:
        visible = {u.name for u in self.catalog.search(text)}
        for i in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(i)
            shown = 0
            for j in range(head.childCount()):
                child = head.child(j)
                hide = child.data(0, NAME_ROLE) not in visible
                child.setHidden(hide)
                shown += not hide
            head.setHidden(shown == 0)
            head.setExpanded(True)

    def visible_units(self) -> list[str]:
        return [
            name
            for name, item in self.items.items()
            if not item.isHidden() and not (item.parent() is not None and item.parent().isHidden())
        ]

    def _activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        name = item.data(0, NAME_ROLE)
        if name:
            self.unitActivated.emit(str(name))


class QuickAddPopup(QFrame):
    """A small search box at the cursor: type to filter units, Enter adds the chosen one."""

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("QuickAdd")
        self.catalog = Catalog()
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Add unit…")
        self.list = QListWidget(self)
        self.list.setMinimumHeight(220)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        self.resize(260, 280)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self.accept)
        self.list.itemClicked.connect(lambda _item: self.accept())
        self.search.installEventFilter(self)

    def set_catalog(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._filter(self.search.text())

    def popup(self, global_pos: QPoint) -> None:
        self.search.clear()
        self._filter("")
        self.move(global_pos)
        self.show()
        self.raise_()
        self.activateWindow()
        self.search.setFocus(Qt.FocusReason.PopupFocusReason)

    def current_unit(self) -> str | None:
        item = self.list.currentItem()
        return str(item.data(NAME_ROLE)) if item is not None else None

    def accept(self) -> None:
        name = self.current_unit()
        self.hide()
        if name:
            self.chosen.emit(name)

    def _filter(self, text: str) -> None:
        self.list.clear()
        for u in self.catalog.search(text):
            item = QListWidgetItem(category_icon(u.category), f"{u.name}")
            item.setData(NAME_ROLE, u.name)
            item.setToolTip(u.doc)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.search and event.type() == QEvent.Type.KeyPress:
            key = event.key() if isinstance(event, QKeyEvent) else None
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                row = self.list.currentRow() + (1 if key == Qt.Key.Key_Down else -1)
                if 0 <= row < self.list.count():
                    self.list.setCurrentRow(row)
                return True
            if key == Qt.Key.Key_Escape:
                self.hide()
                return True
        return super().eventFilter(obj, event)
