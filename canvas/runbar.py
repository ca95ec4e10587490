"""The run bar: start/pause, workers, CPU cap, size↔score trade-off, and how it is going.

Always visible (DESIGN §6). Settings are emitted once per deliberate change: the spin box
waits for Enter or focus-out before it reports typed numbers, and the sliders report when
released (or at once for keyboard and wheel steps), so dragging does not flood the engine.
"""

from __future__ import annotations

import html
import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QStyle,
    QWidget,
)

from openbrains.canvas.neighbour import NeighbourButton
from openbrains.canvas.theme import COLORS

MAX_WORKERS = 64
CPU_STEP = 5  # percent of one core per slider step; step 0 means "no cap"
CPU_MAX = 400
TRADEOFF_MAX = 0.2
TRADEOFF_STEPS = 200  # 0.001 per step


def format_cpu(pct: float) -> str:
    return "no cap" if pct <= 0 else f"{pct:.0f} % of a core"


class RunBar(QWidget):
    """Run controls; the window connects the signals to the engine's ``set``/``start``."""

    startPauseClicked = Signal()
    workersChanged = Signal(int)
    cpuCapChanged = Signal(float)
    tradeoffChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.running = False
        self.progress: dict[str, Any] = {}

        self.start_button = QPushButton(self)
        self.start_button.setMinimumWidth(92)
        self.start_button.clicked.connect(self.startPauseClicked.emit)

        self.workers = QSpinBox(self)
        self.workers.setRange(0, MAX_WORKERS)
        self.workers.setValue(1)
        self.workers.setSpecialValueText("in process")
        self.workers.setKeyboardTracking(False)
        self.workers.setToolTip(
            "worker processes that train candidates in parallel\n"
            "(“in process” trains in the engine itself: fastest for tiny tasks)"
        )
        self.workers.valueChanged.connect(lambda v: self.workersChanged.emit(int(v)))

        self.cpu = QSlider(Qt.Orientation.Horizontal, self)
        self.cpu.setRange(0, CPU_MAX // CPU_STEP)
        self.cpu.setSingleStep(1)
        self.cpu.setPageStep(5)
        self.cpu.setFixedWidth(130)
        self.cpu.setToolTip("CPU cap for the whole run, in percent of one core (far left: no cap)")
        self.cpu_label = QLabel(self)
        self.cpu_label.setMinimumWidth(96)
        self.cpu.valueChanged.connect(self._cpu_moved)
        self.cpu.sliderReleased.connect(self._emit_cpu)

        self.tradeoff = QSlider(Qt.Orientation.Horizontal, self)
        self.tradeoff.setRange(0, TRADEOFF_STEPS)
        self.tradeoff.setSingleStep(1)
        self.tradeoff.setPageStep(10)
        self.tradeoff.setFixedWidth(130)
        self.tradeoff.setToolTip(
            "size ↔ score: how much a bigger model must score to be preferred\n"
            "(0: score only; higher: smaller graphs win close calls)"
        )
        self.tradeoff_label = QLabel(self)
        self.tradeoff_label.setMinimumWidth(44)
        self.tradeoff.valueChanged.connect(self._tradeoff_moved)
        self.tradeoff.sliderReleased.connect(self._emit_tradeoff)

        self.neighbour = NeighbourButton(self)  # good-neighbour rules: changed(key, value)

        self.status = QLabel(self)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        # the text grows with the run; it must never widen the window (it fits 1280×800):
        # what does not fit is cut, and the whole line is the tooltip
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.setMinimumWidth(80)

        dim = f"color: {COLORS['text_dim']};"
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        row.setSpacing(6)
        row.addWidget(self.start_button)
        row.addSpacing(10)
        for text, widgets in (
            ("Workers", (self.workers,)),
            ("CPU", (self.cpu, self.cpu_label)),
            ("Size ↔ score", (self.tradeoff, self.tradeoff_label)),
        ):
            label = QLabel(text, self)
            label.setStyleSheet(dim)
            row.addWidget(label)
            for w in widgets:
                row.addWidget(w)
            row.addSpacing(10)
        row.addWidget(self.neighbour)
        row.addSpacing(10)
        row.addWidget(self.status, 1)

        self.set_values(workers=1, cpu_cap=0.0, tradeoff=0.02)
        self.set_running(False)
        self.set_progress({})

    # ----- public API ----------------------------------------------------------------
    def set_running(self, running: bool) -> None:
        self.running = bool(running)
        style = self.style()
        if self.running:
            self.start_button.setText("Pause")
            self.start_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPause))
            self.start_button.setToolTip("finish the candidates in training, start no new ones")
        else:
            self.start_button.setText("Start")
            self.start_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
            self.start_button.setToolTip("start or resume evolving this project")

    def set_values(
        self,
        workers: int | None = None,
        cpu_cap: float | None = None,
        tradeoff: float | None = None,
    ) -> None:
        """Show settings (from a project or the engine) without emitting change signals."""
        for w in (self.workers, self.cpu, self.tradeoff):
            w.blockSignals(True)
        try:
            if workers is not None:
                self.workers.setValue(int(workers))
            if cpu_cap is not None:
                self.cpu.setValue(_cpu_to_step(float(cpu_cap)))
            if tradeoff is not None:
                self.tradeoff.setValue(
                    round(
                        min(TRADEOFF_MAX, max(0.0, float(tradeoff))) / TRADEOFF_MAX * TRADEOFF_STEPS
                    )
                )
        finally:
            for w in (self.workers, self.cpu, self.tradeoff):
                w.blockSignals(False)
        self._update_labels()

    def values(self) -> dict[str, float]:
        return {
            "workers": self.workers.value(),
            "cpu_cap": self.cpu_cap(),
            "tradeoff": self.tradeoff_value(),
        }

    def cpu_cap(self) -> float:
        return float(self.cpu.value() * CPU_STEP)

    def tradeoff_value(self) -> float:
        return round(self.tradeoff.value() * TRADEOFF_MAX / TRADEOFF_STEPS, 6)

    def set_progress(self, data: dict[str, Any]) -> None:
        """Take a "progress" event: individuals, per_minute, species, best{score, params, metric}."""
        self.progress = dict(data or {})
        text = self.progress_text()
        self.status.setText(text)
        self.status.setToolTip(text)
        self.neighbour.show_waiting(list(self.progress.get("waiting") or []))

    def progress_text(self) -> str:
        d = self.progress
        dim = COLORS["text_dim"]
        if not d:
            return f"<span style='color:{dim}'>not running</span>"
        parts = [f"{int(d.get('individuals') or 0):,} individuals"]
        per_minute = d.get("per_minute")
        if isinstance(per_minute, int | float) and math.isfinite(per_minute):
            parts.append(f"{per_minute:.1f}/min")
        if d.get("species") is not None:
            parts.append(f"{int(d['species'])} species")
        text = f"<span style='color:{dim}'>{' · '.join(parts)}</span>"
        best = d.get("best")
        if isinstance(best, dict) and best.get("score") is not None:
            metric = best.get("metric") or d.get("metric") or "score"
            params = best.get("params")
            size = f" ({int(params):,} params)" if isinstance(params, int | float) else ""
            ident = f"#{best['id']} " if best.get("id") is not None else ""
            text += (
                f"&nbsp;&nbsp;<span style='color:{COLORS['champion']}'>★ champion "
                f"{ident}{metric} <b>{float(best['score']):.4f}</b>{size}</span>"
            )
            refit = best.get("refit")
            if isinstance(refit, dict) and refit.get("test_score") is not None:
                text += (
                    f"<span style='color:{dim}'> · refit with the validation data: test "
                    f"{float(refit['test_score']):.4f}</span>"
                )
            text += old_tasks_html(best.get("tasks"), dim)
        return text

    # ----- internals -----------------------------------------------------------------
    def _update_labels(self) -> None:
        self.cpu_label.setText(format_cpu(self.cpu_cap()))
        self.tradeoff_label.setText(f"{self.tradeoff_value():.3f}")

    def _cpu_moved(self, _v: int) -> None:
        self._update_labels()
        if not self.cpu.isSliderDown():
            self._emit_cpu()

    def _tradeoff_moved(self, _v: int) -> None:
        self._update_labels()
        if not self.tradeoff.isSliderDown():
            self._emit_tradeoff()

    def _emit_cpu(self) -> None:
        self.cpuCapChanged.emit(self.cpu_cap())

    def _emit_tradeoff(self) -> None:
        self.tradeoffChanged.emit(self.tradeoff_value())


def _cpu_to_step(pct: float) -> int:
    if pct <= 0:
        return 0
    return max(1, min(CPU_MAX // CPU_STEP, round(pct / CPU_STEP)))


def old_tasks_html(tasks: object, dim: str) -> str:
    """A continued run's old tasks as the champion keeps them: each task's probe agreement
    (and its metric where the run had its data)."""
    if not isinstance(tasks, dict) or not tasks:
        return ""
    parts = []
    for name, scores in tasks.items():
        if not isinstance(scores, dict):
            continue
        shown = [
            f"{k} {float(v):.3f}"
            for k, v in scores.items()
            if isinstance(v, int | float) and math.isfinite(v)
        ]
        parts.append(f"{html.escape(str(name))}: {', '.join(shown) or '—'}")
    return f"&nbsp;&nbsp;<span style='color:{dim}'>old tasks: {' · '.join(parts)}</span>"
