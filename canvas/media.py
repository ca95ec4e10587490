"""Plain data from the engine shown as widgets: text, a class label with its probability,
a value, an image, a sound (with a play button) or a level meter.

The engine sends these as JSON-safe dicts (``engine.tasks.rating``: ``{"kind": "image",
"width", "height", "channels", "data": base64}`` and so on); nothing here needs torch, and
the rating and live panels share these views so an output looks the same in both.
"""

from __future__ import annotations

import base64
import html
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap, QTextDocumentFragment
from PySide6.QtWidgets import (
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from openbrains.canvas.theme import COLORS

IMAGE_SIDE = 128  # pixels an image is shown at (tiny images are scaled up, without blur)


def image_array(item: dict[str, Any]) -> np.ndarray:
    """The uint8 ``[h, w, c]`` array of an image item (base64 bytes or nested lists)."""
    data = item["data"]
    if isinstance(data, str):
        raw = np.frombuffer(base64.b64decode(data), dtype=np.uint8)
    else:
        raw = np.asarray(data, dtype=np.uint8)
    return raw.reshape(int(item["height"]), int(item["width"]), int(item.get("channels", 1)))


def audio_array(item: dict[str, Any]) -> np.ndarray:
    data = item["data"]
    if isinstance(data, str):
        return np.frombuffer(base64.b64decode(data), dtype="<f4").astype(np.float32)
    return np.asarray(data, dtype=np.float32)


def to_qimage(img: np.ndarray) -> QImage:
    """An RGB or grey uint8 array as a QImage that owns its pixels."""
    a = np.ascontiguousarray(img, dtype=np.uint8)
    if a.ndim == 3 and a.shape[2] == 1:
        a = np.ascontiguousarray(a[:, :, 0])
    h, w = a.shape[:2]
    if a.ndim == 2:
        return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    if a.shape[2] == 4:
        return QImage(a.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def summary(item: dict[str, Any] | Any) -> str:
    """One line for any item (tooltips, tests, the text of a plain value)."""
    if not isinstance(item, dict):
        return str(item)
    kind = item.get("kind")
    if kind == "text":
        return str(item.get("text", ""))
    if kind == "label":
        return f"{item.get('label')} ({float(item.get('p', 0)):.0%})"
    if kind == "value":
        return f"{float(item.get('value', 0)):.4g}"
    if kind == "image":
        return f"image {item.get('width')}×{item.get('height')}"
    if kind == "audio":
        return f"sound {int(item.get('samples', 0)) / max(1, int(item.get('rate', 1))):.2f} s"
    if kind == "level":
        return f"level {float(item.get('rms', 0)):.3f}"
    return str(item)


class ItemView(QWidget):
    """One item, shown by kind; ``set_item`` may change the kind at any time."""

    playRequested = Signal(object, int)  # samples (float32 numpy), rate

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item: Any = None
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture = QLabel(self)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(IMAGE_SIDE // 2, IMAGE_SIDE // 2)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(8)
        self.play = QPushButton("Play", self)
        self.play.clicked.connect(self._play)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        for w in (self.picture, self.text, self.bar, self.play):
            layout.addWidget(w)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.set_item(None)

    def set_item(self, item: Any) -> None:
        self.item = item
        kind = item.get("kind") if isinstance(item, dict) else None
        self.picture.setVisible(kind == "image")
        self.bar.setVisible(kind in ("label", "level"))
        self.play.setVisible(kind == "audio")
        self.text.setVisible(kind != "image")
        self.text.setStyleSheet("")
        if item is None:
            self.text.setText("—")
        elif kind == "image":
            pix = QPixmap.fromImage(to_qimage(image_array(item)))
            self.picture.setPixmap(
                pix.scaled(
                    IMAGE_SIDE,
                    IMAGE_SIDE,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.FastTransformation,
                )
            )
            self.picture.setToolTip(summary(item))
        elif kind == "label":
            self.text.setText(str(item.get("label")))
            self.text.setStyleSheet("font-size: 16pt; font-weight: bold;")
            self.bar.setValue(int(1000 * float(item.get("p", 0))))
            probs = item.get("probs") or {}
            self.text.setToolTip(", ".join(f"{k}: {v:.2f}" for k, v in probs.items()))
        elif kind == "level":
            self.text.setText(summary(item))
            self.bar.setValue(int(1000 * min(1.0, 4 * float(item.get("rms", 0)))))
        elif kind == "audio":
            self.text.setText(summary(item))
        else:
            self.text.setText(summary(item))

    def _play(self) -> None:
        if isinstance(self.item, dict) and self.item.get("kind") == "audio":
            self.playRequested.emit(audio_array(self.item), int(self.item.get("rate", 16000)))


def dim_label(text: str, parent: QWidget | None = None) -> QLabel:
    label = QLabel(text, parent)
    label.setStyleSheet(f"color: {COLORS['text_dim']};")
    return label


class NoticeLabel(QLabel):
    """A panel's one-line message; an error may carry its technical detail behind a
    "details" link (one click away, emitted as ``detailRequested``), never in the way."""

    detailRequested = Signal(str)

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.detail = ""
        self.linkActivated.connect(self._on_link)
        self.show_notice(text)

    def _on_link(self, _link: str) -> None:
        if self.detail:
            self.detailRequested.emit(self.detail)

    def show_notice(self, text: str, error: bool = False, detail: str = "") -> None:
        self.detail = detail if detail and detail != text else ""
        line = html.escape(text, quote=False)
        if self.detail:
            line += f" <a href='detail' style='color: {COLORS['accent']};'>details</a>"
        self.setText(line)
        self.setStyleSheet(f"color: {COLORS['error'] if error else COLORS['text_dim']};")

    def plain_text(self) -> str:
        """The message as a person reads it (without the markup)."""
        return QTextDocumentFragment.fromHtml(self.text()).toPlainText()
