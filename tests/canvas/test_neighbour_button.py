"""The run bar's Neighbour menu: real widgets offscreen; edits come out as setting changes,
a malformed hours text does not, and a held search says why it waits."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from openbrains.canvas.runbar import RunBar


def test_rules_are_shown_edited_and_the_wait_is_explained(qtbot: Any) -> None:
    bar = RunBar()
    qtbot.addWidget(bar)
    button = bar.neighbour
    got: list[tuple[str, Any]] = []
    button.changed.connect(lambda key, value: got.append((key, value)))

    button.set_values({"pause_on_battery": True, "hours": "22-07", "workers": 3})
    assert got == [] and button.battery.isChecked() and button.hours.text() == "22-07"
    assert button.text() == "Neighbour (2)"

    button.battery.setChecked(False)
    button.busy.setValue(40)
    button.busy.editingFinished.emit()
    button.hours.setText("whenever")
    button.hours.editingFinished.emit()  # refused: marked, not sent
    button.hours.setText("9-17")
    button.hours.editingFinished.emit()
    assert got == [("pause_on_battery", False), ("pause_when_busy", 40.0), ("hours", "9-17")]

    bar.set_progress({"individuals": 3, "waiting": ["on battery"]})
    assert button.text() == "Waiting" and "on battery" in button.toolTip()
    bar.set_progress({"individuals": 4, "waiting": []})
    assert button.text().startswith("Neighbour")
    assert button.values()["pause_when_busy"] == 40.0
    qtbot.keyClick(bar, Qt.Key.Key_Escape)  # nothing left open
