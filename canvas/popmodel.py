"""The population dock's model: one entry per individual, kept in display order.

Plain data in (the engine's summaries), rows out; see ``canvas.population`` for the view
and why the order is held while the pointer is over the cards.
"""

from __future__ import annotations

import bisect
import html
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QWidget

from openbrains.engine.errors import GraphError
from openbrains.engine.evolve.novelty import template_like
from openbrains.engine.graph import Graph

SORT_KEYS = ("score", "params", "age", "species")
SORT_LABELS = {
    "score": "by score",
    "params": "by size",
    "age": "newest first",
    "species": "by species",
}

# what a card's colour band says: nothing, its species, or template-like against novel
COLOUR_MODES = ("plain", "species", "novelty")
COLOUR_LABELS = {
    "plain": "no colour",
    "species": "colour: species",
    "novelty": "colour: template / novel",
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
    def template_like(self) -> bool | None:
        """Whether its structure is a plain chain of template units
        (engine.evolve.novelty); None without a readable graph. Worked out once."""
        if "_template_like" not in self.__dict__:
            graph = self.data.get("graph")
            try:
                value = template_like(Graph.from_json(graph)) if graph else None
            except (GraphError, ValueError, TypeError):
                value = None
            self.__dict__["_template_like"] = value
        return self.__dict__["_template_like"]

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
        e.__dict__.pop("_template_like", None)
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
    if e.template_like is not None:
        novelty = d.get("novelty")
        at = f" (novelty {float(novelty):.2f})" if isinstance(novelty, int | float) else ""
        lines.append(f"structure: {'template-like' if e.template_like else 'novel'}{at}")
    if d.get("parents"):
        lines.append("parents: " + ", ".join(f"#{p}" for p in d["parents"]))
    if d.get("mutation"):
        lines.append(f"mutation: {d['mutation']}")
    body = [f"<b>{html.escape(head)}</b>", *(html.escape(x) for x in lines)]
    if d.get("detail"):
        body.append(f"<i>{html.escape(str(d['detail']))}</i>")
    return "<br>".join(body)
