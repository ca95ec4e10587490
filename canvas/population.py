"""The population dock: living individuals as topology thumbnails with their scores.

Fed plain dicts (the engine's individual summaries and "individual" events), never torch.
Items update in place: a model holds one entry per individual in the chosen order (an
arrival is one sorted insert, a change at most one row move) and a delegate paints each
card, so nothing is rebuilt per event and nothing flickers. New arrivals fade in and glow for a
moment, and cards an arrival or a re-sort moved slide from their old place to the new one
(``SLIDE_S``) rather than jump; the champion wears a gold border. With "history" on, retired individuals stay (dimmed) up to
``HISTORY_LIMIT``.

Cards never move under the pointer: while it is over the list the order is *held* —
arrivals join at the end, changed scores do not re-sort, retired cards stay (marked) in
their place — and the order is put right when the pointer leaves, so a click opens the
individual that was aimed at.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from openbrains.canvas.cards import CARD, HIGHLIGHT_S, SLIDE_S, CardDelegate
from openbrains.canvas.popmodel import (
    COLOUR_LABELS,
    COLOUR_MODES,
    SORT_KEYS,
    SORT_LABELS,
    Entry,
    PopulationModel,
)
from openbrains.canvas.theme import COLORS

__all__ = ["CARD", "SORT_KEYS", "Entry", "PopulationModel", "PopulationView"]

HISTORY_LIMIT = 400  # retired individuals kept on screen with "history" on


class PopulationView(QWidget):
    """The living population as cards; click one to open it on the canvas."""

    individualActivated = Signal(int)
    followChampionChanged = Signal(bool)
    compareRequested = Signal(int)  # parent | child for this individual
    familyRequested = Signal(int)  # the family tree of this individual

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.metric_name = "score"
        self.champion: int | None = None
        self._last_emit: tuple[int, float] = (-1, 0.0)
        self.slides: dict[int, tuple[int, float]] = {}  # id → (row it left, when)

        self.model = PopulationModel(self)

        self.list = QListView(self)
        self.list.setModel(self.model)
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setFlow(QListView.Flow.LeftToRight)
        self.list.setWrapping(True)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setUniformItemSizes(True)
        self.list.setSpacing(3)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setMouseTracking(True)
        self.list.setItemDelegate(CardDelegate(self))
        self.list.clicked.connect(self._on_clicked)
        self.list.activated.connect(self._on_clicked)
        self.list.viewport().installEventFilter(self)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.list.setStyleSheet(f"QListView {{ background: {COLORS['panel']}; border: none; }}")

        self.sort_box = QComboBox(self)
        for key in SORT_KEYS:
            self.sort_box.addItem(SORT_LABELS[key], key)
        self.sort_box.setToolTip("order of the cards")
        # a compact bar, so the dock can be two cards wide beside a roomy canvas
        self.sort_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.sort_box.setMinimumContentsLength(7)
        self.sort_box.currentIndexChanged.connect(
            lambda _i: self.set_sort_key(str(self.sort_box.currentData()))
        )
        self.colour_mode = "plain"
        self.colour_box = QComboBox(self)
        for mode in COLOUR_MODES:
            self.colour_box.addItem(COLOUR_LABELS[mode], mode)
        self.colour_box.setToolTip(
            "colour the cards by species, or grey for template-like structure (a plain "
            "chain of template units) and violet for novel structure"
        )
        self.colour_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.colour_box.setMinimumContentsLength(7)
        self.colour_box.currentIndexChanged.connect(
            lambda _i: self.set_colour_mode(str(self.colour_box.currentData()))
        )
        self.follow_box = QCheckBox("Follow champion", self)
        self.follow_box.setToolTip("open each new champion on the canvas as it appears")
        self.follow_box.toggled.connect(self.followChampionChanged.emit)
        self.history_box = QToolButton(self)
        self.history_box.setText("History")
        self.history_box.setCheckable(True)
        self.history_box.setToolTip(
            f"keep retired individuals on screen (dimmed), up to {HISTORY_LIMIT}"
        )
        self.history_box.toggled.connect(self.set_keep_history)
        self.count_label = QLabel(self)
        self.count_label.setStyleSheet(f"color: {COLORS['text_dim']};")

        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 2)
        bar.setSpacing(8)
        bar.addWidget(self.sort_box)
        bar.addWidget(self.colour_box)
        bar.addWidget(self.history_box)
        bar.addStretch(1)
        bar.addWidget(self.count_label)
        bar.addWidget(self.follow_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.list, 1)
        # an empty dock says what will fill it
        self.empty_hint = QLabel(
            "No individuals yet.\nPress Start (or Space on the canvas) to evolve a population.",
            self.list.viewport(),
        )
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setStyleSheet(f"color: {COLORS['text_faint']}; background: transparent;")
        hint_layout = QVBoxLayout(self.list.viewport())
        hint_layout.setContentsMargins(16, 16, 16, 16)
        hint_layout.addWidget(self.empty_hint)

        self.keep_history = False
        self._menu_open = False
        self._glow = QTimer(self)
        self._glow.setInterval(60)
        self._glow.timeout.connect(self._tick)
        self._update_count()

    # ----- public API ----------------------------------------------------------------
    def set_metric(self, name: str) -> None:
        """The task's metric name, shown beside scores (e.g. "acc", "bpc")."""
        self.metric_name = self.model.metric = name or "score"
        self.list.viewport().update()

    def set_population(self, items: list[dict[str, Any]]) -> None:
        """Replace everything with these summaries (the engine's ``population`` reply)."""
        now = time.monotonic() - HIGHLIGHT_S  # a fresh load does not glow
        entries: list[Entry] = []
        seen: set[int] = set()
        for d in items:
            ind = _id_of(d)
            if ind is None or ind in seen:
                continue
            seen.add(ind)
            e = Entry(ind, dict(d), arrived=now)
            if d.get("champion"):
                self.champion = ind
            e.champion = ind == self.champion
            entries.append(e)
        self.model.reset(entries)
        self._update_count()

    def add_individual(self, summary: dict[str, Any]) -> None:
        """Take an "individual" event: add or update it, and drop the ids it retired."""
        with self._sliding():
            retired = [int(i) for i in summary.get("retired") or ()]
            if retired:
                self.remove(retired)
            ind = _id_of(summary)
            if ind is None:
                return
            alive = summary.get("alive", summary.get("status", "done") == "done")
            if not alive:
                if self.model.get(ind) is not None:
                    self.remove([ind])
                return
            data = {k: v for k, v in summary.items() if k != "retired"}
            self.model.upsert(ind, data)
            if summary.get("champion"):
                self.mark_champion(ind)
        if not self._glow.isActive():
            self._glow.start()
        self._update_count()

    def remove(self, ids: Iterable[int]) -> None:
        """Retire these individuals (kept dimmed when history is on)."""
        ids = [int(i) for i in ids]
        if self.keep_history:
            for i in ids:
                e = self.model.get(i)
                if e is not None and not e.retired:
                    e.retired = True
                    self.model.resort_one(self.model.rows[i])
            self._trim_history()
        else:
            self.model.remove(ids)
        self._update_count()

    def mark_champion(self, ind: int) -> None:
        """Crown ``ind`` (it need not be on screen: a retired champion is simply not shown)."""
        old, self.champion = self.champion, int(ind)
        if old is not None and old != self.champion:
            e = self.model.get(old)
            if e is not None:
                e.champion = False
                self.model.touch(old)
        e = self.model.get(self.champion)
        if e is not None:
            e.champion = True
            self.model.touch(self.champion)
            if self.follow_box.isChecked():
                self.select(self.champion)

    def count(self) -> int:
        """Individuals on screen (living, plus retired ones when history is on)."""
        return self.model.rowCount()

    def living_count(self) -> int:
        return sum(1 for e in self.model.entries if not e.retired)

    def ids(self) -> list[int]:
        """Ids in display order."""
        return [e.id for e in self.model.entries]

    def entry(self, ind: int) -> Entry | None:
        return self.model.get(ind)

    def set_sort_key(self, key: str) -> None:
        if key not in SORT_KEYS:
            raise ValueError(f"sort key must be one of {SORT_KEYS}, not {key!r}")
        if self.sort_box.currentData() != key:
            self.sort_box.setCurrentIndex(SORT_KEYS.index(key))  # comes back here
            return
        current = self.current_id()
        self.model.reset(self.model.entries, key)
        if current is not None:
            self.select(current)

    def sort_key(self) -> str:
        return self.model.key

    def set_colour_mode(self, mode: str) -> None:
        """Colour the cards: "plain", "species" or "novelty" (template-like / novel)."""
        if mode not in COLOUR_MODES:
            return
        self.colour_mode = mode
        if self.colour_box.currentData() != mode:
            self.colour_box.setCurrentIndex(COLOUR_MODES.index(mode))
        self.list.viewport().update()

    def set_follow_champion(self, on: bool) -> None:
        """Set the checkbox without emitting (the window owns the setting)."""
        self.follow_box.blockSignals(True)
        self.follow_box.setChecked(bool(on))
        self.follow_box.blockSignals(False)

    def set_keep_history(self, on: bool) -> None:
        self.keep_history = bool(on)
        if self.history_box.isChecked() != self.keep_history:
            self.history_box.setChecked(self.keep_history)
        if not self.keep_history:
            self.model.remove([e.id for e in self.model.entries if e.retired])
        self._update_count()

    def current_id(self) -> int | None:
        e = self.entry_at(self.list.currentIndex())
        return None if e is None else e.id

    def select(self, ind: int) -> None:
        row = self.model.rows.get(ind)
        if row is None:
            return
        idx = self.model.index(row)
        self.list.setCurrentIndex(idx)
        self.list.scrollTo(idx)

    def card_rect(self, ind: int) -> QRect:
        """Where the card of ``ind`` is in the list's viewport (tests click there)."""
        row = self.model.rows.get(ind)
        if row is None:
            return QRect()
        return self.list.visualRect(self.model.index(row))

    def hold_order(self, on: bool) -> None:
        """Hold the cards where they are (the pointer is over them) or let them re-sort."""
        if on:
            self.model.hold(True)
            return
        current = self.current_id()
        with self._sliding():
            released = self.model.hold(False)
        if released:
            if current is not None and self.model.get(current) is not None:
                self.list.setCurrentIndex(self.model.index(self.model.rows[current]))
            self._trim_history()
            self._update_count()

    def slide_offset(self, ind: int, rect: QRect) -> QPointF:
        """How far from ``rect`` (its place now) the card of ``ind`` is drawn this moment:
        from the place it left towards the new one, easing out over ``SLIDE_S``."""
        slide = self.slides.get(ind)
        if slide is None:
            return QPointF()
        row, since = slide
        t = (time.monotonic() - since) / SLIDE_S
        old = self.list.visualRect(self.model.index(row)) if row < self.count() else QRect()
        if t >= 1.0 or not old.isValid():
            return QPointF()
        k = (1.0 - t) ** 3
        return QPointF((old.x() - rect.x()) * k, (old.y() - rect.y()) * k)

    # ----- internals -----------------------------------------------------------------
    @contextmanager
    def _sliding(self) -> Iterator[None]:
        """Cards whose row the change inside moves slide there (see ``slide_offset``)."""
        before = dict(self.model.rows)
        try:
            yield
        finally:
            now = time.monotonic()
            for ind, row in self.model.rows.items():
                old = before.get(ind)
                if old is not None and old != row:
                    self.slides[ind] = (old, now)
            if self.slides and not self._glow.isActive():
                self._glow.start()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.list.viewport():
            if event.type() == QEvent.Type.Enter:
                self.hold_order(True)
            elif event.type() == QEvent.Type.Leave and not self._menu_open:
                self.hold_order(False)
        return super().eventFilter(obj, event)

    def _context_menu(self, pos: QPoint) -> None:
        e = self.entry_at(self.list.indexAt(pos))
        if e is None:
            return
        menu = QMenu(self)
        menu.addAction(f"Open #{e.id}", lambda: self.individualActivated.emit(e.id))
        compare = menu.addAction("Compare with parent", lambda: self.compareRequested.emit(e.id))
        compare.setEnabled(bool(e.data.get("parents")) or "mutation" in str(e.data.get("origin")))
        menu.addAction("Family tree", lambda: self.familyRequested.emit(e.id))
        self._menu_open = True
        self.hold_order(True)
        try:
            menu.exec(self.list.viewport().mapToGlobal(pos))
        finally:
            self._menu_open = False
            if not self.list.viewport().underMouse():
                self.hold_order(False)

    def entry_at(self, index: QModelIndex | QPersistentModelIndex) -> Entry | None:
        if not index.isValid() or index.row() >= len(self.model.entries):
            return None
        return self.model.entries[index.row()]

    def _on_clicked(self, index: QModelIndex) -> None:
        e = self.entry_at(index)
        if e is None:
            return
        now = time.monotonic()
        last_id, last_t = self._last_emit
        # a double-click also "activates": one open per gesture is enough
        if last_id == e.id and now - last_t < QApplication.doubleClickInterval() / 1000 + 0.1:
            return
        self._last_emit = (e.id, now)
        self.individualActivated.emit(e.id)

    def _tick(self) -> None:
        now = time.monotonic()
        self.slides = {i: s for i, s in self.slides.items() if now - s[1] < SLIDE_S}
        if not self.slides and not any(now - e.arrived < HIGHLIGHT_S for e in self.model.entries):
            self._glow.stop()
        self.list.viewport().update()

    def _trim_history(self) -> None:
        retired = [e for e in self.model.entries if e.retired]
        if len(retired) > HISTORY_LIMIT:
            drop = sorted(retired, key=lambda e: e.id)[: len(retired) - HISTORY_LIMIT]
            self.model.remove([e.id for e in drop])

    def _update_count(self) -> None:
        living = self.living_count()
        text = f"{living} alive"
        if self.keep_history and self.count() > living:
            text += f" · {self.count() - living} retired"
        self.count_label.setText(text)
        self.empty_hint.setVisible(self.count() == 0)


def _id_of(d: dict[str, Any]) -> int | None:
    try:
        return int(d["id"])
    except (KeyError, TypeError, ValueError):
        return None
