"""The plots dock (DESIGN §6): progress, size vs score with its Pareto front, loss curves.

Events arrive one individual at a time, possibly hundreds a minute, for weeks. Each event
only appends to growable numpy buffers and updates the Pareto front in place (O(front));
the pyqtgraph items are refreshed by a throttled timer (at most one redraw per
``REDRAW_MS``) and only for the plots whose data changed.

- progress: the best validation score so far and the median of the last ``window`` scored
  individuals (under aging evolution those are the living population), against the
  individual number or minutes since the run began;
- size vs score: every scored individual (params on a log axis, coloured by species) and the
  Pareto front (fewer params, better score) as a step line;
- the training-loss curve of the individual opened last.

Scores are shown in the task's own units (e.g. accuracy, or bits per character, which is
lower-is-better); "better" follows ``set_metric(name, higher_is_better)``.
"""

from __future__ import annotations

import bisect
import math
import statistics
import time
from collections import deque
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from openbrains.canvas.theme import COLORS
from openbrains.canvas.thumbnail import SPECIES_COLORS

REDRAW_MS = 120
SYMBOL_PX = 6  # the size/score plot's point symbols, in pixels
DEFAULT_WINDOW = 32


class Buffer:
    """An append-only float array that grows by doubling; ``view()`` is copy-free."""

    def __init__(self, capacity: int = 256) -> None:
        self._a = np.empty(capacity, dtype=np.float64)
        self.n = 0

    def append(self, v: float) -> None:
        if self.n == len(self._a):
            a = np.empty(2 * len(self._a), dtype=np.float64)
            a[: self.n] = self._a[: self.n]
            self._a = a
        self._a[self.n] = v
        self.n += 1

    def view(self) -> np.ndarray:
        return self._a[: self.n]

    def clear(self) -> None:
        self.n = 0

    def __len__(self) -> int:
        return self.n


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    f = float(v)
    return None if math.isnan(f) or math.isinf(f) else f


def pareto_front(
    points: list[tuple[float, float]], higher_is_better: bool = True
) -> list[tuple[float, float]]:
    """The points no other point beats on both size (fewer) and score, sorted by size."""
    sign = 1.0 if higher_is_better else -1.0
    front: list[tuple[float, float]] = []
    best = -math.inf
    for x, y in sorted(points, key=lambda p: (p[0], -sign * p[1])):
        if sign * y > best:
            front.append((x, y))
            best = sign * y
    return front


class ParetoFront:
    """The front kept up to date one point at a time (front sizes are tiny)."""

    def __init__(self, higher_is_better: bool = True) -> None:
        self.sign = 1.0 if higher_is_better else -1.0
        self.xs: list[float] = []  # ascending size
        self.ys: list[float] = []  # strictly improving score (in the sign's direction)

    def add(self, x: float, y: float) -> bool:
        """Insert; True when the front changed."""
        s = self.sign * y
        i = bisect.bisect_right(self.xs, x)
        # dominated by a point no bigger and no worse?
        if i > 0 and self.sign * self.ys[i - 1] >= s:
            return False
        # drop points at least as big and no better
        j = i
        while j < len(self.xs) and self.sign * self.ys[j] <= s:
            j += 1
        if i > 0 and self.xs[i - 1] == x:  # same size, better score: replace it
            i -= 1
        self.xs[i:j] = [x]
        self.ys[i:j] = [y]
        return True

    def points(self) -> list[tuple[float, float]]:
        return list(zip(self.xs, self.ys))


def compact_count(n: float) -> str:
    """800, 2.5k, 40k, 1.2M: parameter counts as a tick label."""
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if n >= div:
            return f"{n / div:.3g}{suffix}"
    return f"{n:.3g}"


class ParamsAxis(pg.AxisItem):
    """A log axis of parameter counts, labelled 2k, 50k, 1M, with only as many 1-2-5 ticks
    as fit (pyqtgraph labels every minor tick of a narrow range and they collide)."""

    STEPS = ((1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 5), (1, 3), (1,))

    def logTickValues(self, minVal: float, maxVal: float, size: float, stdTicks: Any) -> Any:
        lo, hi = math.floor(minVal), math.ceil(maxVal)
        major = [float(v) for v in range(lo, hi + 1) if minVal <= v <= maxVal]
        room = max(2, int(size / 48))
        values: list[float] = []
        for mults in self.STEPS:
            values = [
                v + math.log10(m)
                for v in range(lo, hi + 1)
                for m in mults
                if minVal <= v + math.log10(m) <= maxVal
            ]
            if len(values) <= room:
                break
        levels: list[tuple[float | None, list[float]]] = [(1.0, major)]
        minor = [v for v in values if v not in major]
        if minor:
            levels.append((None, minor))
        return levels

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [compact_count(10**v) for v in values]


def _style_plot(plot: pg.PlotItem, title: str, left: str, bottom: str) -> None:
    plot.setTitle(title, color=COLORS["text"], size="10pt")
    plot.showGrid(x=True, y=True, alpha=0.18)
    for name, label in (("left", left), ("bottom", bottom)):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(COLORS["grid"]))
        axis.setTextPen(pg.mkPen(COLORS["text_dim"]))
        axis.setLabel(label, color=COLORS["text_dim"])
        axis.enableAutoSIPrefix(False)  # "(x0.001)" beside a label reads as a bug
    plot.setMenuEnabled(False)
    plot.hideButtons()


class PlotsView(QWidget):
    """Three pyqtgraph plots fed by "individual" events; redraws are throttled."""

    individualActivated = Signal(int)  # a point in the size vs score plot was clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.metric_name = "score"
        self.higher = True
        self.median_window = DEFAULT_WINDOW
        self.x_mode = "individuals"
        self.curve_id: int | None = None
        self.curve: list[list[float]] = []
        self._reset_data()

        bg = COLORS["panel"]
        self.progress_w = pg.PlotWidget(background=bg)
        self.pareto_w = pg.PlotWidget(background=bg, axisItems={"bottom": ParamsAxis("bottom")})
        self.loss_w = pg.PlotWidget(background=bg)
        self.progress = self.progress_w.getPlotItem()
        self.pareto = self.pareto_w.getPlotItem()
        self.loss = self.loss_w.getPlotItem()

        # the legend is in the title (coloured names), outside the curves it would cover
        self.best_item = self.progress.plot(
            [], [], pen=pg.mkPen(COLORS["best"], width=2), name="best"
        )
        self.median_item = self.progress.plot(
            [], [], pen=pg.mkPen(COLORS["median"], width=1.5), name="median"
        )
        for item in (self.best_item, self.median_item):
            item.setDownsampling(auto=True, method="peak")
            item.setClipToView(True)

        # x is fed as log10(params) and only the axis is told, so the scatter can be a
        # bare ScatterPlotItem that takes new points without redrawing the old ones
        self.pareto.getAxis("bottom").setLogMode(True)
        self.scatter_item = pg.ScatterPlotItem(size=SYMBOL_PX, pen=None)
        self.scatter_item.sigClicked.connect(self._on_point_clicked)
        self.pareto.addItem(self.scatter_item)
        self.front_item = self.pareto.plot([], [], pen=pg.mkPen(COLORS["pareto"], width=2))
        self.front_points_item = self.pareto.plot(
            [],
            [],
            pen=None,
            symbol="o",
            symbolSize=8,
            symbolBrush=None,
            symbolPen=pg.mkPen(COLORS["pareto"], width=1.5),
        )
        self.selected_item = self.pareto.plot(
            [],
            [],
            pen=None,
            symbol="o",
            symbolSize=13,
            symbolBrush=None,
            symbolPen=pg.mkPen(COLORS["text"], width=2),
        )
        # on top, so a click on a front point reaches the scatter (whose points carry ids)
        # rather than the front's hollow rings drawn over it
        self.scatter_item.setZValue(10)
        self.loss_item = self.loss.plot([], [], pen=pg.mkPen(COLORS["loss"], width=1.5))
        self.reference_items: list[pg.InfiniteLine] = []  # game runs: the Elo yardstick

        self.x_box = QComboBox(self)
        self.x_box.addItem("x: individuals", "individuals")
        self.x_box.addItem("x: minutes", "minutes")
        self.x_box.currentIndexChanged.connect(
            lambda _i: self.set_x_mode(str(self.x_box.currentData()))
        )
        self.summary = QLabel(self)
        self.summary.setStyleSheet(f"color: {COLORS['text_dim']};")

        split = QSplitter(Qt.Orientation.Horizontal, self)
        for w in (self.progress_w, self.pareto_w, self.loss_w):
            split.addWidget(w)
        split.setSizes([400, 400, 300])
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 0)
        bar.addWidget(self.x_box)
        bar.addStretch(1)
        bar.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(split, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.flush)
        self._dirty: set[str] = set()
        self.redraws = 0
        self._restyle()
        self._dirty = {"progress", "pareto", "loss"}
        self.flush()

    # ----- data ----------------------------------------------------------------------
    def _reset_data(self) -> None:
        self.seen: set[int] = set()
        # (id, score, params, species, status, created) of everything seen, for rebuilds
        self.rows: list[tuple[Any, ...]] = []
        self.last_id = -1
        self.t0: float | None = None
        # progress (one point per scored individual, in id order)
        self.p_id = Buffer()
        self.p_min = Buffer()
        self.best = Buffer()
        self.median = Buffer()
        self.recent: deque[float] = deque(maxlen=self.median_window)
        self.best_so_far: float | None = None
        # size vs score
        self.s_params = Buffer()
        self.s_logp = Buffer()
        self.max_params = 1.0
        self.scatter_drawn = -1  # points already handed to the scatter; -1: clear it first
        self.s_score = Buffer()
        self.s_ids: list[int] = []
        self.s_brushes: list[Any] = []
        self.front = ParetoFront(self.higher)
        self.failed = 0

    def _better(self, a: float, b: float) -> bool:
        return a > b if self.higher else a < b

    def _append(self, d: dict[str, Any]) -> None:
        ind = int(d["id"])
        self.seen.add(ind)
        self.rows.append(
            (
                ind,
                d.get("score"),
                d.get("params"),
                d.get("species"),
                d.get("status"),
                d.get("created"),
            )
        )
        self.last_id = max(self.last_id, ind)
        created = _num(d.get("created"))
        if created is None:
            created = time.time()
        if self.t0 is None or created < self.t0:
            self.t0 = created
        score = _num(d.get("score"))
        if score is None or d.get("status", "done") != "done":
            self.failed += 1
            return
        self.p_id.append(ind)
        self.p_min.append(created)
        if self.best_so_far is None or self._better(score, self.best_so_far):
            self.best_so_far = score
        self.best.append(self.best_so_far)
        self.recent.append(score)
        self.median.append(statistics.median(self.recent))
        params = max(1.0, float(_num(d.get("params")) or 1.0))
        self.s_params.append(params)
        self.s_logp.append(math.log10(params))
        self.max_params = max(self.max_params, params)
        self.s_score.append(score)
        self.s_ids.append(ind)
        self.s_brushes.append(_species_brush(d.get("species")))
        if self.front.add(params, score):
            self._dirty.add("front")
        self._dirty |= {"progress", "pareto"}

    def _rebuild(self, items: list[dict[str, Any]]) -> None:
        self._reset_data()
        for d in sorted(items, key=lambda d: int(d["id"])):
            if int(d["id"]) not in self.seen:
                self._append(d)
        self._dirty = {"progress", "pareto", "front", "loss"}

    # ----- public API ----------------------------------------------------------------
    def set_metric(self, name: str, higher_is_better: bool = True) -> None:
        """The task's metric; changing direction recomputes bests and the front."""
        changed = bool(higher_is_better) != self.higher
        self.metric_name = name or "score"
        self.higher = bool(higher_is_better)
        self._restyle()
        if changed:
            self._rebuild(self._items())
        self._schedule()

    def set_history(self, items: list[dict[str, Any]]) -> None:
        """Replace everything with the run's archive (the engine's ``history`` reply)."""
        self.curve_id, self.curve = None, []
        self._rebuild([d for d in items if _has_id(d)])
        self._schedule()

    def add_individual(self, summary: dict[str, Any]) -> None:
        """Take one "individual" event. Out-of-order ids (an event that raced the history
        reply) fall back to a rebuild; the usual case only appends."""
        if not _has_id(summary):
            return
        ind = int(summary["id"])
        if ind in self.seen:
            return
        d = {k: summary.get(k) for k in ("id", "score", "params", "species", "status", "created")}
        if d["created"] is None:
            d["created"] = time.time()  # events carry no time: they happen now
        if ind < self.last_id:
            self._rebuild([*self._items(), d])
        else:
            self._append(d)
        self._schedule()

    def show_curve(self, ind: int, curve: list[list[float]]) -> None:
        """The training-loss curve ([step, smoothed loss] pairs) of the opened individual."""
        self.curve_id = int(ind)
        self.curve = [[float(s), float(v)] for s, v in curve if _num(v) is not None]
        self._dirty |= {"loss", "selected"}
        self._schedule()

    def set_references(self, references: dict[str, float] | None) -> None:
        """Reference players' ratings of a game run (``status``'s "references"), drawn as
        labelled horizontal lines on the progress plot so an Elo reads as "beats onestep";
        None or an empty dict removes them."""
        for item in self.reference_items:
            self.progress.removeItem(item)
        self.reference_items = []
        pen = pg.mkPen(COLORS["text_dim"], width=1, style=Qt.PenStyle.DashLine)
        for name, rating in sorted((references or {}).items(), key=lambda kv: str(kv[0])):
            y = _num(rating)
            if y is None:
                continue
            line = pg.InfiniteLine(
                pos=y,
                angle=0,
                pen=pen,
                label=f"{name} {y:.0f}",
                labelOpts={
                    "position": 0.04,
                    "color": COLORS["text_dim"],
                    "anchors": [(0, 1), (0, 1)],
                },
            )
            line.setZValue(-1)
            self.progress.addItem(line)
            self.reference_items.append(line)

    def reference_lines(self) -> list[tuple[str, float]]:
        """(label, rating) of the reference lines drawn (tests, tooltips)."""
        return [(item.label.format, float(item.value())) for item in self.reference_items]

    def set_window(self, n: int) -> None:
        """How many recent individuals the median covers (the population size)."""
        self.median_window = max(1, int(n))
        self._rebuild(self._items())
        self._schedule()

    def set_x_mode(self, mode: str) -> None:
        if mode not in ("individuals", "minutes"):
            raise ValueError(f"x mode must be 'individuals' or 'minutes', not {mode!r}")
        self.x_mode = mode
        if self.x_box.currentData() != mode:
            self.x_box.setCurrentIndex(0 if mode == "individuals" else 1)
        self._restyle()
        self._dirty.add("progress")
        self._schedule()

    # read-outs for tests and tooltips
    def best_series(self) -> list[tuple[float, float]]:
        return list(zip(self._x().tolist(), self.best.view().tolist()))

    def median_series(self) -> list[tuple[float, float]]:
        return list(zip(self._x().tolist(), self.median.view().tolist()))

    def scatter_points(self) -> list[tuple[float, float]]:
        return list(zip(self.s_params.view().tolist(), self.s_score.view().tolist()))

    def pareto_points(self) -> list[tuple[float, float]]:
        return self.front.points()

    def curve_data(self) -> tuple[int | None, list[list[float]]]:
        return self.curve_id, list(self.curve)

    def count(self) -> int:
        """Individuals seen (scored or not)."""
        return len(self.seen)

    # ----- drawing -------------------------------------------------------------------
    def _items(self) -> list[dict[str, Any]]:
        keys = ("id", "score", "params", "species", "status", "created")
        return [dict(zip(keys, r)) for r in self.rows]

    def _x(self) -> np.ndarray:
        if self.x_mode == "minutes":
            return (self.p_min.view() - (self.t0 or 0.0)) / 60.0
        return self.p_id.view()

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Redraw what changed now (the timer calls this; tests may too)."""
        self._timer.stop()
        dirty, self._dirty = self._dirty, set()
        if not dirty:
            return
        self.redraws += 1
        started = time.perf_counter()
        if "progress" in dirty:
            x = self._x()
            self.best_item.setData(x, self.best.view())
            self.median_item.setData(x, self.median.view())
        if "pareto" in dirty:
            if self.scatter_drawn < 0:
                self.scatter_item.clear()
                self.scatter_drawn = 0
            n, m = self.scatter_drawn, len(self.s_ids)
            if m > n:
                self.scatter_item.addPoints(
                    x=self.s_logp.view()[n:m],
                    y=self.s_score.view()[n:m],
                    brush=self.s_brushes[n:m],
                    data=np.array(self.s_ids[n:m], dtype=np.int64),
                )
                self.scatter_drawn = m
        if "front" in dirty or "pareto" in dirty:
            self._draw_front()
        if "loss" in dirty:
            pts = np.asarray(self.curve, dtype=np.float64).reshape(-1, 2)
            self.loss_item.setData(pts[:, 0], pts[:, 1])
            title = "training loss" + (f" — #{self.curve_id}" if self.curve_id is not None else "")
            self.loss.setTitle(title, color=COLORS["text"], size="10pt")
        if "selected" in dirty or "pareto" in dirty:
            i = self._index_of(self.curve_id)
            if i is None:
                self.selected_item.setData([], [])
            else:
                self.selected_item.setData([self.s_logp.view()[i]], [self.s_score.view()[i]])
        self._update_summary()
        # back off when drawing gets expensive (tens of thousands of points): the UI
        # stays responsive however long the run
        spent_ms = (time.perf_counter() - started) * 1000
        self._timer.setInterval(max(REDRAW_MS, min(2000, int(spent_ms * 4))))

    def _index_of(self, ind: int | None) -> int | None:
        if ind is None:
            return None
        i = bisect.bisect_left(self.s_ids, ind)
        return i if i < len(self.s_ids) and self.s_ids[i] == ind else None

    def _draw_front(self) -> None:
        xs, ys = self.front.xs, self.front.ys
        if not xs:
            self.front_item.setData([], [])
            self.front_points_item.setData([], [])
            return
        self.front_points_item.setData(np.log10(xs), ys)
        right = max(xs[-1], self.max_params)
        sx: list[float] = []
        sy: list[float] = []
        for i, (x, y) in enumerate(zip(xs, ys)):
            nxt = xs[i + 1] if i + 1 < len(xs) else right
            sx += [x, nxt]
            sy += [y, y]
            if i + 1 < len(xs):  # the riser to the next, better point
                sx.append(nxt)
                sy.append(ys[i + 1])
        self.front_item.setData(np.log10(sx), sy)

    def _restyle(self) -> None:
        # short labels: the plots share a strip under the canvas and must not clip them
        # the arrow says which way is better; it sits in the (horizontal) title, since a
        # rotated axis label would turn it sideways
        arrow = "↑" if self.higher else "↓"
        label = f"val {self.metric_name}"
        bottom = "individual #" if self.x_mode == "individuals" else "minutes since start"
        best, median = COLORS["best"], COLORS["median"]
        title = (
            f"<span style='color:{best}'>━ best</span> &amp; "
            f"<span style='color:{median}'>━ median</span> {self.metric_name} {arrow}"
        )
        _style_plot(self.progress, title, label, bottom)
        _style_plot(self.pareto, "size vs score · Pareto front", label, "parameters (log)")
        _style_plot(self.loss, "training loss", "loss", "step")

    def _update_summary(self) -> None:
        if self.best_so_far is None:
            self.summary.setText(f"{len(self.seen):,} individuals")
            return
        self.summary.setText(
            f"{len(self.seen):,} individuals · best {self.metric_name} {self.best_so_far:.4f} · "
            f"front {len(self.front.xs)} points"
        )

    def _on_point_clicked(self, _item: Any, points: Any, *_: Any) -> None:
        for p in points:
            data = p.data()
            if data is not None:
                self.individualActivated.emit(int(data))
                return


_BRUSHES: dict[Any, Any] = {}


def _species_brush(species: Any) -> Any:
    """One cached brush per species (pyqtgraph takes a list of brushes, one per point)."""
    brush = _BRUSHES.get(species)
    if brush is None:
        try:
            c = QColor(SPECIES_COLORS[int(species) % len(SPECIES_COLORS)])
        except (TypeError, ValueError):
            c = QColor(COLORS["text_dim"])
        c.setAlphaF(0.75)
        brush = _BRUSHES[species] = pg.mkBrush(c)
    return brush


def _has_id(d: dict[str, Any]) -> bool:
    try:
        int(d["id"])
    except (KeyError, TypeError, ValueError):
        return False
    return True
