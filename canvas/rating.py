"""The rating panel (DESIGN §6): the outputs of a few candidates for the same input, side by
side, with one slider each (0–10) and a Submit button.

It takes the ``rating_batch`` reply of the engine as it is (plain data, no torch) and emits
``ratingsSubmitted`` with exactly what the engine's ``rate`` command takes, so the window
only forwards signals. Every candidate gets a rating: a slider left alone counts as the
middle (5), which says "no opinion" and moves the shrunk mean nowhere in particular.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from openbrains.canvas.media import ItemView, NoticeLabel, dim_label

MAX_SCORE = 10
NEUTRAL = 5


class CandidateColumn(QFrame):
    """One candidate: its id, its output and its slider."""

    def __init__(self, individual: int, output: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.individual = individual
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(f"#{individual}", self)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.view = ItemView(self)
        self.view.set_item(output)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, MAX_SCORE)
        self.slider.setValue(NEUTRAL)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(1)
        self.slider.setPageStep(1)
        self.value = QLabel(str(NEUTRAL), self)
        self.value.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.slider.valueChanged.connect(lambda v: self.value.setText(str(v)))
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.slider)
        layout.addWidget(self.value)

    def score(self) -> int:
        return int(self.slider.value())


class RatingPanel(QWidget):
    """Shows one rating batch; ``Submit`` sends its ratings, ``Next`` asks for another."""

    ratingsSubmitted = Signal(dict)  # {"batch", "input_id", "ratings": [{individual, score}]}
    nextRequested = Signal()
    playRequested = Signal(object, int)  # samples, rate (the window plays them)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.batch: dict[str, Any] | None = None
        self.columns: list[CandidateColumn] = []
        self.input_view = ItemView(self)
        self.input_view.playRequested.connect(self.playRequested)
        self.expected = dim_label("", self)
        self.grid = QGridLayout()
        self.count = QSpinBox(self)
        self.count.setRange(2, 6)
        self.count.setValue(3)
        self.count.setToolTip("candidates shown side by side")
        self.submit_button = QPushButton("Submit", self)
        self.submit_button.clicked.connect(self.submit)
        self.next_button = QPushButton("Next input", self)
        self.next_button.clicked.connect(self.nextRequested)
        self.message = NoticeLabel("Ask for an input to rate what the candidates answer.", self)

        top = QHBoxLayout()
        top.addWidget(dim_label("input", self))
        top.addWidget(self.input_view, 1)
        top.addWidget(self.expected)
        buttons = QHBoxLayout()
        buttons.addWidget(dim_label("candidates", self))
        buttons.addWidget(self.count)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        buttons.addWidget(self.submit_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(self.grid, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.submit_button.setEnabled(False)

    # ----- showing ---------------------------------------------------------------------
    def set_batch(self, batch: dict[str, Any]) -> None:
        """Show a ``rating_batch`` reply: its input and each candidate with a fresh slider."""
        for col in self.columns:
            self.grid.removeWidget(col)
            col.deleteLater()
        self.batch = batch
        self.input_view.set_item(batch.get("input"))
        expected = batch.get("expected")
        self.expected.setText(f"(the data says {expected})" if expected is not None else "")
        self.columns = []
        for i, cand in enumerate(batch.get("candidates") or []):
            col = CandidateColumn(int(cand["individual"]), cand.get("output"), self)
            col.view.playRequested.connect(self.playRequested)
            self.grid.addWidget(col, 0, i)
            self.columns.append(col)
        self.submit_button.setEnabled(bool(self.columns))
        self.show_message(
            "Move each slider: 0 = useless, 10 = exactly right; then Submit."
            if self.columns
            else "No candidates to rate yet."
        )

    def show_message(self, text: str, error: bool = False, detail: str = "") -> None:
        self.message.show_notice(text, error, detail)

    def candidates(self) -> int:
        return int(self.count.value())

    # ----- rating ----------------------------------------------------------------------
    def ratings(self) -> list[dict[str, Any]]:
        return [{"individual": c.individual, "score": c.score()} for c in self.columns]

    def submit(self) -> None:
        if self.batch is None or not self.columns:
            return
        payload = {
            "batch": self.batch.get("batch", ""),
            "input_id": self.batch.get("input_id", ""),
            "ratings": self.ratings(),
        }
        self.submit_button.setEnabled(False)
        self.show_message("Sent.")
        self.ratingsSubmitted.emit(payload)
