"""The population dock: living individuals as topology thumbnails with their scores.

Fed plain dicts (the engine's individual summaries and "individual" events), never torch.
Items update in place: a model holds one entry per individual in the chosen order (an
arrival is one sorted insert, a change at most one row move) and a delegate paints each
card, so nothing is rebuilt per event and nothing flickers. New arrivals fade in and glow for a moment;
the champion wears a gold border. With "history" on, retired individuals stay (dimmed) up to
``HISTORY_LIMIT``.

Cards never move under the pointer: while it is over the list the order is *held* —
arrivals join at the end, changed scores do not re-sort, retired cards stay (marked) in
their place — and the order is put right when the pointer leaves, so a click opens the
individual that was aimed at.
"""

from __future__ import annotations

import bisect
import html
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from openbrains.canvas.theme import COLORS, color
from openbrains.canvas.thumbnail import render_thumbnail, species_color
from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

THUMB = (160, 100)
PAD = 6
LINE_H = 15
TEXT_LINES = 4
CARD = QSize(THUMB[0] + 2 * PAD, THUMB[1] + 2 * PAD + TEXT_LINES * LINE_H + 2)
HIGHLIGHT_S = 2.5  # how long a new arrival glows
FADE_IN_S = 0.35  # how long a new arrival takes to fade in
HISTORY_LIMIT = 400  # retired individuals kept on screen with "history" on

SORT_KEYS = ("score", "params", "age", "species")
_SORT_LABELS = {
    "score": "by score",
    "params": "by size",
    "age": "newest first",
    "species": "by species",
}

IdRole = Qt.ItemDataRole.UserRole + 1


def format_score(value: Any) -> str:
    if value is None:
        return "—"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "—" if math.isnan(v) else f"{v:.4f}"


def format_params(value: Any) -> str:
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "?"


@dataclass
class Entry:
    id: int
    data: dict[str, Any]
    arrived: float = field(default_factory=time.monotonic)
    champion: bool = False
    retired: bool = False
    leaving: bool = False  # retired while the order was held: goes when it is released

    @property
    def fitness(self) -> float:
        f = self.data.get("fitness")
        return float(f) if isinstance(f, int | float) and not math.isnan(f) else -math.inf

    @property
    def params(self) -> int:
        try:
            return int(self.data.get("params") or 0)
        except (TypeError, ValueError):
            return 0

    @property
    def species(self) -> int:
        try:
            return int(self.data.get("species"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return 1 << 30


def sort_key(key: str, e: Entry) -> tuple[float, ...]:
    """Display order is ascending order of these tuples: living before retired, then the
    chosen key, ties broken by fitness, then id, so the order is total and stable."""
    head = 1.0 if e.retired else 0.0
    if key == "params":
        return (head, e.params, -e.fitness, e.id)
    if key == "age":
        return (head, -e.id)
    if key == "species":
        return (head, e.species, -e.fitness, e.id)
    return (head, -e.fitness, e.params, e.id)


class PopulationModel(QAbstractListModel):
    """One row per individual, kept in display order.

    Sorting lives here rather than in a ``QSortFilterProxyModel``: an arrival is one
    bisected insert, an update at most one row move, so the view never re-lays out more
    than it must. (A Python ``lessThan`` override also trips a reference-counting bug in
    PySide6 6.12 on Python 3.11 after some thousands of calls.)
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[Entry] = []
        self.keys: list[tuple[float, ...]] = []
        self.rows: dict[int, int] = {}  # id → row
        self.key = "score"
        self.metric = "score"
        self.held = False  # see the module docstring

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid() or index.row() >= len(self.entries):
            return None
        e = self.entries[index.row()]
        if role == IdRole:
            return e.id
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(e, self.metric)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"#{e.id}"
        return None

    def entry(self, row: int) -> Entry:
        return self.entries[row]

    def get(self, ind: int) -> Entry | None:
        row = self.rows.get(ind)
        return None if row is None else self.entries[row]

    def _reindex(self, start: int = 0) -> None:
        for i in range(start, len(self.entries)):
            self.rows[self.entries[i].id] = i

    def upsert(self, ind: int, data: dict[str, Any]) -> Entry:
        row = self.rows.get(ind)
        if row is None:
            e = Entry(ind, dict(data))
            k = sort_key(self.key, e)
            pos = len(self.entries) if self.held else bisect.bisect_left(self.keys, k)
            self.beginInsertRows(QModelIndex(), pos, pos)
            self.entries.insert(pos, e)
            self.keys.insert(pos, k)
            self._reindex(pos)
            self.endInsertRows()
            return e
        e = self.entries[row]
        e.data = {**e.data, **data}
        e.retired = e.leaving = False
        self.resort_one(row)
        return e

    def resort_one(self, row: int) -> None:
        """Entry ``row`` changed: move it where its key now belongs, and repaint it (in
        place while the order is held)."""
        e = self.entries[row]
        if self.held:
            idx = self.index(row)
            self.dataChanged.emit(idx, idx)
            return
        k = sort_key(self.key, e)
        del self.keys[row]
        pos = bisect.bisect_left(self.keys, k)
        self.keys.insert(row, k)
        if pos != row:
            self.beginMoveRows(
                QModelIndex(), row, row, QModelIndex(), pos + 1 if pos > row else pos
            )
            del self.entries[row], self.keys[row]
            self.entries.insert(pos, e)
            self.keys.insert(pos, k)
            self._reindex(min(row, pos))
            self.endMoveRows()
        else:
            self.keys[row] = k
        idx = self.index(pos)
        self.dataChanged.emit(idx, idx)

    def remove(self, ids: Iterable[int]) -> None:
        if self.held:  # stays in place, marked, until the order is released
            for i in set(ids):
                row = self.rows.get(i)
                if row is not None:
                    self.entries[row].leaving = True
                    self.dataChanged.emit(self.index(row), self.index(row))
            return
        rows = sorted((self.rows[i] for i in set(ids) if i in self.rows), reverse=True)
        if not rows:
            return
        # contiguous runs in one call each, highest first so lower rows stay valid
        runs: list[tuple[int, int]] = []
        start = end = rows[0]
        for r in rows[1:]:
            if r == start - 1:
                start = r
            else:
                runs.append((start, end))
                start = end = r
        runs.append((start, end))
        for a, b in runs:
            self.beginRemoveRows(QModelIndex(), a, b)
            for e in self.entries[a : b + 1]:
                del self.rows[e.id]
            del self.entries[a : b + 1]
            del self.keys[a : b + 1]
            self.endRemoveRows()
        self._reindex(rows[-1])

    def hold(self, on: bool) -> bool:
        """Hold the order (True), or release it: what left goes, the rest is sorted again
        (persistent indexes, the selection among them, follow their entries). Returns
        whether releasing changed anything."""
        if on:
            self.held = True
            return False
        if not self.held:
            return False
        self.held = False
        leaving = [e.id for e in self.entries if e.leaving]
        if leaving:
            self.remove(leaving)
        order = sorted(self.entries, key=lambda e: sort_key(self.key, e))
        self.keys = [sort_key(self.key, e) for e in order]
        if [e.id for e in order] == [e.id for e in self.entries]:
            return bool(leaving)
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        ids = [self.entries[i.row()].id for i in persistent]
        self.entries = order
        self.rows = {e.id: i for i, e in enumerate(order)}
        self.changePersistentIndexList(persistent, [self.index(self.rows[i]) for i in ids])
        self.layoutChanged.emit()
        return True

    def reset(self, entries: list[Entry], key: str | None = None) -> None:
        """Replace all entries (or re-sort by a new ``key``)."""
        self.held = False
        self.beginResetModel()
        if key is not None:
            self.key = key
        entries = sorted(entries, key=lambda e: sort_key(self.key, e))
        self.entries = entries
        self.keys = [sort_key(self.key, e) for e in entries]
        self.rows = {e.id: i for i, e in enumerate(entries)}
        self.endResetModel()

    def touch(self, ind: int) -> None:
        row = self.rows.get(ind)
        if row is not None:
            idx = self.index(row)
            self.dataChanged.emit(idx, idx)


def _tooltip(e: Entry, default_metric: str = "score") -> str:
    """Rich text with everything the card has no room for (values escaped)."""
    d = e.data
    metric = str(d.get("metric") or default_metric)
    head = f"#{e.id}" + ("  ★ champion" if e.champion else "") + (" (retired)" if e.retired else "")
    lines = [
        f"validation {metric}: {format_score(d.get('score'))}",
        f"test {metric}: {format_score(d.get('test_score'))}",
        f"fitness: {format_score(d.get('fitness'))}",
        f"params: {format_params(d.get('params'))}",
        f"species {d.get('species', '?')} · rung {d.get('rung', 0)} · "
        f"{format_params(d.get('steps', 0))} steps",
        f"origin: {d.get('origin', '?')}",
    ]
    if d.get("parents"):
        lines.append("parents: " + ", ".join(f"#{p}" for p in d["parents"]))
    if d.get("mutation"):
        lines.append(f"mutation: {d['mutation']}")
    body = [f"<b>{html.escape(head)}</b>", *(html.escape(x) for x in lines)]
    if d.get("detail"):
        body.append(f"<i>{html.escape(str(d['detail']))}</i>")
    return "<br>".join(body)


class CardDelegate(QStyledItemDelegate):
    """Paints one card: thumbnail, then id, scores, size and origin."""

    def __init__(self, view: PopulationView) -> None:
        super().__init__(view)
        self.view = view
        self.font = QFont(view.font())
        self.font.setPixelSize(11)
        self.bold = QFont(self.font)
        self.bold.setBold(True)
        self.fm = QFontMetrics(self.font)

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return CARD

    def paint(
        self,
        p: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        e = self.view.entry_at(index)
        if e is None:
            return
        rect: QRect = option.rect  # type: ignore[attr-defined]
        state = option.state  # type: ignore[attr-defined]
        selected = bool(state & QStyle.StateFlag.State_Selected)
        hover = bool(state & QStyle.StateFlag.State_MouseOver)
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        age = time.monotonic() - e.arrived
        if e.retired or e.leaving:
            p.setOpacity(0.45)
        elif age < FADE_IN_S:  # an insertion fades in rather than popping up
            p.setOpacity(max(0.15, age / FADE_IN_S))
        card = QRectF(rect).adjusted(1.5, 1.5, -1.5, -1.5)
        p.setPen(QPen(color("border"), 1.0))
        p.setBrush(color("card_hover") if hover or selected else color("card"))
        p.drawRoundedRect(card, 6, 6)
        # a new arrival: a green wash and rim that fade out over HIGHLIGHT_S
        if age < HIGHLIGHT_S and not e.retired:
            fade = 1.0 - age / HIGHLIGHT_S
            p.setPen(QPen(color("new", 0.9 * fade), 2.0))
            p.setBrush(color("new", 0.16 * fade))
            p.drawRoundedRect(card, 6, 6)
        p.setBrush(Qt.BrushStyle.NoBrush)
        if selected:
            p.setPen(QPen(color("accent"), 2.0))
            p.drawRoundedRect(card, 6, 6)
        if e.champion:  # inside the selection rim, so both show
            p.setPen(QPen(color("champion"), 1.6))
            p.drawRoundedRect(card.adjusted(2.5, 2.5, -2.5, -2.5) if selected else card, 5, 5)

        x, y = rect.x() + PAD, rect.y() + PAD
        graph = e.data.get("graph")
        if graph:
            dpr = self.view.devicePixelRatioF()
            img = render_thumbnail(graph, THUMB, dpr)
            p.drawImage(x, y, img)
        else:
            p.setPen(color("text_faint"))
            p.setFont(self.font)
            p.drawText(QRect(x, y, THUMB[0], THUMB[1]), Qt.AlignmentFlag.AlignCenter, "no graph")

        d = e.data
        metric = str(d.get("metric") or self.view.metric_name)
        ty = y + THUMB[1] + 2
        tw = THUMB[0]
        line = QRect(x, ty, tw, LINE_H)
        # line 1: id, champion star, species chip
        p.setFont(self.bold)
        p.setPen(color("champion") if e.champion else color("text"))
        p.drawText(
            line,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            f"#{e.id}" + ("  ★" if e.champion else ""),
        )
        sp = d.get("species")
        if sp is not None:
            p.setFont(self.font)
            label = f"species {sp}"
            lw = self.fm.horizontalAdvance(label)
            chip = QRectF(x + tw - lw - 14, ty + 2, lw + 12, LINE_H - 3)
            c = species_color(sp)
            fill = QColor(c)
            fill.setAlphaF(0.22)
            p.setPen(QPen(c, 1.0))
            p.setBrush(fill)
            p.drawRoundedRect(chip, 5, 5)
            p.setPen(color("text"))
            p.drawText(chip, Qt.AlignmentFlag.AlignCenter, label)
        # line 2: validation and test score
        p.setFont(self.font)
        line.translate(0, LINE_H)
        p.setPen(color("text"))
        p.drawText(
            line,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            f"{metric} {format_score(d.get('score'))}",
        )
        p.setPen(color("text_dim"))
        p.drawText(
            line,
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            f"test {format_score(d.get('test_score'))}",
        )
        # line 3: params and rung
        line.translate(0, LINE_H)
        p.drawText(
            line,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            f"{format_params(d.get('params'))} params",
        )
        p.drawText(
            line,
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            f"rung {d.get('rung', 0)}",
        )
        # line 4: where it came from
        line.translate(0, LINE_H)
        origin = str(d.get("origin") or "?")
        mutation = str(d.get("mutation") or "")
        text = f"{origin}: {mutation}" if mutation and mutation != origin else origin
        if e.leaving:
            text = "retired (leaves when the pointer does)"
        p.setPen(color("text_faint"))
        p.drawText(
            line,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self.fm.elidedText(text, Qt.TextElideMode.ElideRight, tw),
        )
        p.restore()


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
            self.sort_box.addItem(_SORT_LABELS[key], key)
        self.sort_box.setToolTip("order of the cards")
        # a compact bar, so the dock can be two cards wide beside a roomy canvas
        self.sort_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.sort_box.setMinimumContentsLength(7)
        self.sort_box.currentIndexChanged.connect(
            lambda _i: self.set_sort_key(str(self.sort_box.currentData()))
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
        if self.model.hold(False):
            if current is not None and self.model.get(current) is not None:
                self.list.setCurrentIndex(self.model.index(self.model.rows[current]))
            self._trim_history()
            self._update_count()

    # ----- internals -----------------------------------------------------------------
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
        if not any(now - e.arrived < HIGHLIGHT_S for e in self.model.entries):
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
