"""The run bar's "Neighbour" menu: the good-neighbour rules of a run (pause on battery,
pause while other programs are busy, wait until the person is away, allowed hours), and
why the search is waiting when one of them holds it. Plain data out (``changed``), so the
canvas stays free of the engine."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QMenu,
    QSpinBox,
    QToolButton,
    QWidget,
    QWidgetAction,
)

HOURS_PATTERN = re.compile(r"^\s*$|^\d{1,2}(:\d{2})?-\d{1,2}(:\d{2})?$")
DEFAULTS: dict[str, Any] = {
    "pause_on_battery": False,
    "pause_when_busy": 0.0,
    "resume_after_idle": 0.0,
    "hours": "",
}


class NeighbourButton(QToolButton):
    """A tool button whose menu holds the rules; ``changed(key, value)`` per edit."""

    changed = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setText("Neighbour")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolTip("when the search steps aside for you and your machine")
        self.waiting: list[str] = []
        menu = QMenu(self)
        panel = QWidget(menu)
        form = QFormLayout(panel)
        self.battery = QCheckBox("pause on battery", panel)
        self.busy = QSpinBox(panel)
        self.busy.setRange(0, 100)
        self.busy.setSuffix(" %")
        self.busy.setSpecialValueText("never")
        self.busy.setToolTip("pause while other programs use more than this share of the CPU")
        self.idle = QDoubleSpinBox(panel)
        self.idle.setRange(0, 24 * 60)
        self.idle.setDecimals(0)
        self.idle.setSuffix(" min")
        self.idle.setSpecialValueText("any time")
        self.idle.setToolTip(
            "run only after the keyboard and mouse have been idle this long\n"
            "(where the desktop cannot tell, you count as present)"
        )
        self.hours = QLineEdit(panel)
        self.hours.setPlaceholderText("any time, or e.g. 22-07")
        form.addRow(self.battery)
        form.addRow("Pause while others use", self.busy)
        form.addRow("Run after I am away for", self.idle)
        form.addRow("Run only in the hours", self.hours)
        holder = QWidgetAction(menu)
        holder.setDefaultWidget(panel)
        menu.addAction(holder)
        self.setMenu(menu)
        self.battery.toggled.connect(lambda on: self.changed.emit("pause_on_battery", bool(on)))
        self.busy.editingFinished.connect(
            lambda: self.changed.emit("pause_when_busy", float(self.busy.value()))
        )
        self.idle.editingFinished.connect(
            lambda: self.changed.emit("resume_after_idle", float(self.idle.value()))
        )
        self.hours.editingFinished.connect(self._hours_done)
        self.show_waiting([])

    def _hours_done(self) -> None:
        text = self.hours.text().strip()
        if not HOURS_PATTERN.match(text):
            self.hours.setStyleSheet("color: #ef6b6b;")
            self.hours.setToolTip("from-to on a 24-hour clock, e.g. 22-07 or 22:30-06:45")
            return
        self.hours.setStyleSheet("")
        self.changed.emit("hours", text)

    def set_values(self, values: dict[str, Any]) -> None:
        """Show rules (from a project) without emitting ``changed``."""
        v = {**DEFAULTS, **{k: values[k] for k in DEFAULTS if k in values}}
        for w in (self.battery, self.busy, self.idle, self.hours):
            w.blockSignals(True)
        try:
            self.battery.setChecked(bool(v["pause_on_battery"]))
            self.busy.setValue(int(v["pause_when_busy"] or 0))
            self.idle.setValue(float(v["resume_after_idle"] or 0))
            self.hours.setText(str(v["hours"] or ""))
        finally:
            for w in (self.battery, self.busy, self.idle, self.hours):
                w.blockSignals(False)
        self.show_waiting(self.waiting)

    def values(self) -> dict[str, Any]:
        return {
            "pause_on_battery": self.battery.isChecked(),
            "pause_when_busy": float(self.busy.value()),
            "resume_after_idle": float(self.idle.value()),
            "hours": self.hours.text().strip(),
        }

    def show_waiting(self, reasons: list[str]) -> None:
        """The search steps aside for ``reasons`` (empty: it may run)."""
        self.waiting = list(reasons)
        rules = sum(1 for k, v in self.values().items() if v and v != DEFAULTS[k])
        if self.waiting:
            self.setText("Waiting")
            self.setToolTip("the search waits: " + "; ".join(self.waiting))
        else:
            self.setText(f"Neighbour ({rules})" if rules else "Neighbour")
            self.setToolTip("when the search steps aside for you and your machine")
