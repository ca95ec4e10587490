"""The Exchange dock: brains others published, in a shared folder or on the Hub, as cards.

Pick a place (a folder, or ``hf:`` / ``hf:OWNER``), narrow by task, and each brain shows
as a card: its topology thumbnail, name, task and score, size, lineage and licence. "Open"
puts a brain on the canvas; "Use as seed" makes it this project's seed, so Start continues
it (with its weights) on the project's task; "Breed with champion" crosses it with the
running search's champion, and the child joins the search. Breed is enabled only when it
can work; otherwise its tooltip says why, in the words of the app's ``breed_check``. The
dock only asks (signals); the app fetches, checks and opens, so this widget never touches
torch, the network or a file.

Entries are plain data: ``{"ref", "name", "card": {…} | None, "problem", "graph_json"}``
(the card as ``engine.exchange.card.Card.to_dict`` gives it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from openbrains.canvas.thumbnail import render_thumbnail

THUMB = (120, 72)
HUB_ALL = "hf:"
BREED_TIP = (
    "cross it with the run's champion (genes aligned by global id): the child joins the "
    "search and trains next, with both as its parents"
)
BreedCheck = Callable[[dict[str, Any]], str]
"""An entry → why it cannot be bred with the champion now ("" when it can)."""


def card_text(entry: dict[str, Any]) -> str:
    """The lines a card shows: name; task and score; size; lineage and licence."""
    card = entry.get("card")
    if not card:
        return f"{entry.get('name', '?')}\n{entry.get('problem') or 'no readable card'}"
    tasks = card.get("tasks") or [{}]
    task = tasks[-1]
    score = task.get("test")
    score_text = (
        f"{task.get('metric', 'score')} {score:.4f}" if isinstance(score, float) else "no score"
    )
    plan = card.get("plan")
    plan_text = f" · plan {plan['id']} v{plan['version']}" if plan else ""
    lineage = card.get("lineage") or "lineage not recorded"
    parents = card.get("base_models") or card.get("parents") or []
    if parents:
        lineage += " · from " + ", ".join(parents)
    return "\n".join(
        [
            f"{card.get('name', entry.get('name', '?'))}",
            f"{task.get('name', '?')} ({card.get('modality', '?')}) · {score_text}{plan_text}",
            f"{card.get('params', 0):,} params · {card.get('nodes', 0)} nodes · {card.get('license', '?')}",
            lineage,
        ]
    )


class ExchangeDock(QWidget):
    """Cards of an exchange's brains, with Open, Use as seed and Breed with champion."""

    browseRequested = Signal(str, str)  # place, task filter
    openRequested = Signal(str)  # ref
    seedRequested = Signal(str)  # ref
    breedRequested = Signal(str)  # ref

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.place = QComboBox(self)
        self.place.setEditable(True)
        self.place.addItem(HUB_ALL)
        self.place.setToolTip("a folder (an exchange) or hf: / hf:OWNER on the Hugging Face Hub")
        self.place.lineEdit().setPlaceholderText("folder or hf:OWNER")
        self.folder_button = QPushButton("Folder…", self)
        self.hub_button = QPushButton("Hub", self)
        self.task_filter = QLineEdit(self)
        self.task_filter.setPlaceholderText("task (all)")
        self.task_filter.setMaximumWidth(110)
        self.refresh_button = QPushButton("Browse", self)
        self.cards = QListWidget(self)
        self.cards.setIconSize(QSize(*THUMB))
        self.cards.setSpacing(3)
        self.cards.setWordWrap(True)
        self.cards.setUniformItemSizes(False)
        self.status = QLabel("pick a folder or the Hub, then Browse", self)
        self.status.setWordWrap(True)
        self.open_button = QPushButton("Open", self)
        self.seed_button = QPushButton("Use as seed", self)
        self.seed_button.setToolTip(
            "make it this project's seed: Start continues it, with its weights, on the "
            "project's task"
        )
        self.breed_button = QPushButton("Breed with champion", self)
        self.breed_check: BreedCheck | None = None  # the app's; None: not in this window
        self.entries: dict[str, dict[str, Any]] = {}  # ref → the entry its card shows

        top = QHBoxLayout()
        top.addWidget(self.place, 1)
        top.addWidget(self.folder_button)
        top.addWidget(self.hub_button)
        second = QHBoxLayout()
        second.addWidget(self.task_filter)
        second.addStretch(1)
        second.addWidget(self.refresh_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.open_button)
        bottom.addWidget(self.seed_button)
        bottom.addWidget(self.breed_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addLayout(second)
        layout.addWidget(self.cards, 1)
        layout.addWidget(self.status)
        layout.addLayout(bottom)

        self.folder_button.clicked.connect(self.choose_folder)
        self.hub_button.clicked.connect(lambda: self.set_place(HUB_ALL))
        self.refresh_button.clicked.connect(self.request_browse)
        self.task_filter.returnPressed.connect(self.request_browse)
        self.place.lineEdit().returnPressed.connect(self.request_browse)
        self.cards.itemSelectionChanged.connect(self._update_buttons)
        self.cards.itemDoubleClicked.connect(lambda _item: self._emit(self.openRequested))
        self.open_button.clicked.connect(lambda: self._emit(self.openRequested))
        self.seed_button.clicked.connect(lambda: self._emit(self.seedRequested))
        self.breed_button.clicked.connect(lambda: self._emit(self.breedRequested))
        self._update_buttons()

    # ----- asking ------------------------------------------------------------------------
    def set_place(self, text: str) -> None:
        self.place.setEditText(text)
        self.request_browse()

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "An exchange folder")
        if folder:
            self.set_place(folder)

    def request_browse(self) -> None:
        place = self.place.currentText().strip()
        if not place:
            self.show_status("name a folder or hf:OWNER first")
            return
        if self.place.findText(place) < 0:
            self.place.addItem(place)
        self.show_status(f"browsing {place}…")
        self.browseRequested.emit(place, self.task_filter.text().strip())

    def selected_ref(self) -> str | None:
        item = self.cards.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def _emit(self, signal: Any) -> None:
        ref = self.selected_ref()
        if ref:
            signal.emit(ref)

    def _update_buttons(self) -> None:
        item = self.cards.currentItem()
        ok = item is not None and bool(item.data(Qt.ItemDataRole.UserRole + 1))
        self.open_button.setEnabled(ok)
        self.seed_button.setEnabled(ok)
        self.refresh_breed()

    def breed_problem(self) -> str:
        """Why the selected card cannot be bred with the champion now ("" when it can)."""
        ref = self.selected_ref()
        if ref is None:
            return "select a brain first"
        entry = self.entries.get(ref) or {}
        if entry.get("card") is None:
            return "its card could not be read (Open says why)"
        if self.breed_check is None:
            return "breeding needs the main window's run"
        return self.breed_check(entry)

    def refresh_breed(self) -> None:
        """Enable Breed only when it can work; the tooltip says why not, in words."""
        why = self.breed_problem()
        self.breed_button.setEnabled(not why)
        self.breed_button.setToolTip(BREED_TIP if not why else f"cannot breed now: {why}")

    # ----- showing -----------------------------------------------------------------------
    def show_status(self, text: str) -> None:
        self.status.setText(text)

    def set_entries(self, place: str, entries: list[dict[str, Any]]) -> None:
        """Show one card per entry (newest first, as the exchange listed them)."""
        self.cards.clear()
        self.entries = {str(e.get("ref")): e for e in entries}
        for entry in entries:
            item = QListWidgetItem(card_text(entry))
            item.setData(Qt.ItemDataRole.UserRole, entry.get("ref"))
            item.setData(Qt.ItemDataRole.UserRole + 1, entry.get("card") is not None)
            graph_json = entry.get("graph_json")
            if graph_json:
                item.setIcon(QIcon(QPixmap.fromImage(render_thumbnail(graph_json, THUMB))))
            item.setToolTip(str(entry.get("ref")))
            self.cards.addItem(item)
        n = len(entries)
        self.show_status(
            f"{place}: {n} brain{'s' if n != 1 else ''}" if n else f"{place}: no brains"
        )
        if n:
            self.cards.setCurrentRow(0)
        self._update_buttons()

    def count(self) -> int:
        return self.cards.count()

    def entries_order(self) -> list[str]:
        """The refs of the cards, top to bottom."""
        return [self.cards.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]
