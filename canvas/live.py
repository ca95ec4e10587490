"""The live panel (DESIGN §6): source → champion → outputs, with a latency meter, and a
button to hold while recording examples of a label (Teachable Machine style).

It shows the engine's ``live`` events as they are (plain data: the input frame, text or
sound level, each output decoded, the chunk's latency) and emits what the user asks for;
the window turns those signals into ``live_start``/``live_stop``/``record``/``record_stop``
commands. Nothing here needs torch.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from openbrains.canvas.media import ItemView, NoticeLabel, dim_label

LATENCY_WINDOW = 200  # chunks the p50/p99 are taken over
LATENCY_SCALE_MS = 50.0  # a full meter
SOURCES = ("mic", "camera", "camera:1", "text")
# the sources that can feed an input of each modality, the first one the default
SOURCES_FOR = {
    "image": ("camera", "camera:1"),
    "audio": ("mic",),
    "text": ("text",),
}
SOURCE_MODALITY = {"mic": "audio", "camera": "image", "text": "text"}
MODALITY_WORDS = {"image": "images", "audio": "sound", "text": "text", "vector": "numbers"}


def source_modality(spec: str) -> str:
    """What a source spec gives: ``camera:1`` → image; files and follows are not known."""
    return SOURCE_MODALITY.get(spec.split(":", 1)[0].strip(), "")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


class LivePanel(QWidget):
    """Live outputs of one individual on one source."""

    startRequested = Signal(str)  # source spec
    stopRequested = Signal()
    recordPressed = Signal(str, str)  # label, source spec (used when live mode is off)
    recordReleased = Signal()
    textEntered = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.running = False
        self.modality = ""  # what the brain's input reads (set_modality)
        self.latencies: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.views: dict[str, ItemView] = {}
        self.recorded = 0

        self.source = QComboBox(self)
        self.source.setEditable(True)
        self.source.addItems(SOURCES)
        self.source.setToolTip("mic[:DEVICE], camera[:N|:PATH], text, follow:PATH, file:PATH")
        self.start_button = QPushButton("Start", self)
        self.start_button.clicked.connect(self._toggle)
        self.input_view = ItemView(self)
        self.typed = QLineEdit(self)
        self.typed.setPlaceholderText("type here, Enter sends (source: text)")
        self.typed.returnPressed.connect(self._send_text)
        self.outputs = QFormLayout()
        self.latency = QProgressBar(self)
        self.latency.setRange(0, 1000)
        self.latency.setTextVisible(False)
        self.latency.setFixedHeight(10)
        self.latency_text = dim_label("latency —", self)
        self.label = QLineEdit(self)
        self.label.setPlaceholderText("label to record")
        self.record_button = QPushButton("Hold to record", self)
        self.record_button.pressed.connect(self._record_pressed)
        self.record_button.released.connect(self.recordReleased)
        self.record_text = dim_label("", self)
        self.message = NoticeLabel("", self)

        top = QHBoxLayout()
        top.addWidget(self.source, 1)
        top.addWidget(self.start_button)
        rec = QHBoxLayout()
        rec.addWidget(self.label, 1)
        rec.addWidget(self.record_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.input_view)
        layout.addWidget(self.typed)
        layout.addLayout(self.outputs)
        layout.addWidget(self.latency)
        layout.addWidget(self.latency_text)
        layout.addLayout(rec)
        layout.addWidget(self.record_text)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.set_running(False)

    # ----- user actions --------------------------------------------------------------------
    def source_spec(self) -> str:
        return self.source.currentText().strip()

    def set_modality(self, modality: str) -> None:
        """The brain reads ``modality``: offer the sources that give it, the first one
        chosen, and type-in text only for a text brain."""
        self.modality = modality
        fitting = SOURCES_FOR.get(modality, ())
        self.source.blockSignals(True)
        self.source.clear()
        self.source.addItems([*fitting, *(s for s in SOURCES if s not in fitting)])
        self.source.setCurrentIndex(0)
        self.source.blockSignals(False)
        if modality and not fitting:
            words = MODALITY_WORDS.get(modality, modality)
            self.show_message(f"This brain reads {words}; live sources give images, sound or text.")
        else:
            self.show_message("")
        self.set_running(self.running)

    def mismatch(self, spec: str) -> str:
        """Why ``spec`` cannot feed the brain, in words ("" when it can or is unknown)."""
        gives = source_modality(spec)
        if not gives or not self.modality or gives == self.modality:
            return ""
        reads = MODALITY_WORDS.get(self.modality, self.modality)
        fitting = SOURCES_FOR.get(self.modality, ())
        hint = f"; choose {' or '.join(fitting)}" if fitting else ""
        return f"This brain reads {reads}, and {spec} gives {MODALITY_WORDS[gives]}{hint}."

    def _toggle(self) -> None:
        if self.running:
            self.stopRequested.emit()
            return
        problem = self.mismatch(self.source_spec())
        if problem:
            self.show_message(problem, error=True)
            return
        self.show_message("")
        self.startRequested.emit(self.source_spec())

    def _record_pressed(self) -> None:
        problem = "" if self.running else self.mismatch(self.source_spec())
        if problem:
            self.show_message(problem, error=True)
            return
        self.record_text.setText(f"recording {self.label.text().strip()!r}…")
        self.recordPressed.emit(self.label.text().strip(), self.source_spec())

    def _send_text(self) -> None:
        text = self.typed.text()
        if text:
            self.textEntered.emit(text + "\n")
            self.typed.clear()

    # ----- what the engine says ------------------------------------------------------------
    def set_running(self, running: bool) -> None:
        self.running = running
        self.start_button.setText("Stop" if running else "Start")
        self.source.setEnabled(not running)
        self.typed.setEnabled(
            running and self.source_spec().startswith("text") and self.modality in ("", "text")
        )

    def show_message(self, text: str, error: bool = False, detail: str = "") -> None:
        self.message.show_notice(text, error, detail)

    def show_step(self, data: dict[str, Any]) -> None:
        """One ``live`` event: the input (when it came along), outputs and latency."""
        if not self.running:
            self.set_running(True)
        if data.get("input") is not None:
            self.input_view.set_item(data["input"])
        for name, value in (data.get("outputs") or {}).items():
            view = self.views.get(name)
            if view is None:
                view = self.views[name] = ItemView(self)
                self.outputs.addRow(dim_label(name, self), view)
            view.set_item(as_item(value))
        ms = float(data.get("latency_ms", 0.0))
        self.latencies.append(ms)
        self.latency.setValue(int(1000 * min(1.0, ms / LATENCY_SCALE_MS)))
        values = list(self.latencies)
        self.latency_text.setText(
            f"latency {ms:.2f} ms · p50 {percentile(values, 0.5):.2f} · "
            f"p99 {percentile(values, 0.99):.2f} ms over {len(values)} chunks"
        )

    def set_recording(self, count: int, label: str = "") -> None:
        self.recorded = count
        self.record_text.setText(f"recording {label!r}: {count} samples")

    def recording_done(
        self, count: int, label: str = "", error: str = "", detail: str = ""
    ) -> None:
        self.recorded = count
        text = f"recorded {count} samples of {label!r}"
        self.record_text.setText(text + (" — it failed" if error else ""))
        if error:
            self.show_message(error, error=True, detail=detail)


def as_item(value: Any) -> dict[str, Any]:
    """A decoded live output as a view item: ``{"label", "p"}`` dicts, text, numbers."""
    if isinstance(value, dict) and "kind" in value:
        return value
    if isinstance(value, dict) and "label" in value:
        return {"kind": "label", "label": value["label"], "p": value.get("p", 0.0)}
    if isinstance(value, int | float):
        return {"kind": "value", "value": float(value)}
    return {"kind": "text", "text": str(value)}
