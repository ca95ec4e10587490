"""A grid of tiny images, optionally with several frames each (the steps of a denoising
loop) and a slider to scrub through them.

It shows plain data only: uint8 grey ``[h, w]`` or colour ``[h, w, 3|4]`` images as
numpy arrays or nested lists, so the app can hand it what a brain made without the
canvas ever knowing about brains (it never imports the engine or torch). Tiny images
are scaled up by whole pixels, without blur, so an 8×8 digit stays readable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QVBoxLayout, QWidget

from openbrains.canvas.media import to_qimage
from openbrains.canvas.theme import COLORS

GAP = 6  # pixels between tiles
MIN_TILE = 48  # a tile is never drawn smaller than this (8×8 digits at 6×)


def as_image(data: Any) -> np.ndarray:
    """One image as a uint8 ``[h, w]`` or ``[h, w, c]`` array; anything else is refused
    here, where the mistake is made, rather than at paint time."""
    a = np.asarray(data)
    if a.dtype != np.uint8:
        if a.size and (a.min() < 0 or a.max() > 255):
            raise ValueError("image values must lie in 0…255 (uint8)")
        a = a.astype(np.uint8)
    if a.ndim == 3 and a.shape[2] not in (1, 3, 4):
        raise ValueError(f"an image has 1, 3 or 4 channels, not {a.shape[2]}")
    if a.ndim not in (2, 3) or 0 in a.shape[:2]:
        raise ValueError(f"an image is [h, w] or [h, w, c], not {list(a.shape)}")
    return a


class TileView(QWidget):
    """Paints the current frame's images in rows of ``columns``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.images: list[QImage] = []
        self.columns = 1
        self.setMinimumSize(MIN_TILE, MIN_TILE)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def rows(self) -> int:
        return math.ceil(len(self.images) / self.columns) if self.images else 0

    def tile_side(self) -> int:
        """The largest square tile that fits the grid in the widget (at least MIN_TILE)."""
        if not self.images:
            return MIN_TILE
        w = (self.width() - GAP * (self.columns + 1)) // self.columns
        h = (self.height() - GAP * (self.rows() + 1)) // self.rows()
        return max(MIN_TILE, min(w, h))

    def tile_rect(self, index: int) -> QRect:
        """Where image ``index`` is drawn (tests and tooltips use it)."""
        side = self.tile_side()
        row, col = divmod(index, self.columns)
        width = self.columns * side + (self.columns - 1) * GAP
        height = self.rows() * side + (self.rows() - 1) * GAP
        x0 = max(GAP, (self.width() - width) // 2)
        y0 = max(GAP, (self.height() - height) // 2)
        return QRect(x0 + col * (side + GAP), y0 + row * (side + GAP), side, side)

    def sizeHint(self) -> QSize:
        side = 96  # an 8×8 image at 12×
        rows = max(1, self.rows())
        return QSize(self.columns * side + (self.columns + 1) * GAP, rows * side + (rows + 1) * GAP)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(COLORS["canvas"]))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for i, image in enumerate(self.images):
            rect = self.tile_rect(i)
            scale = min(rect.width() / image.width(), rect.height() / image.height())
            w, h = int(image.width() * scale), int(image.height() * scale)
            target = QRect(
                rect.x() + (rect.width() - w) // 2, rect.y() + (rect.height() - h) // 2, w, h
            )
            painter.drawImage(target, image)
            painter.setPen(QColor(COLORS["border"]))
            painter.drawRect(target.adjusted(0, 0, -1, -1))
        painter.end()


class ImageGrid(QWidget):
    """A titled grid of images. With more than one frame a slider scrubs through them and
    a label says which step is shown; ``stepChanged(index)`` fires when it moves."""

    stepChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None, title: str = "") -> None:
        super().__init__(parent)
        self.frames: list[list[np.ndarray]] = []
        self.labels: list[str] = []
        self.title = QLabel(title, self)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setVisible(bool(title))
        self.tiles = TileView(self)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self._show_step)
        self.step_label = QLabel(self)
        self.step_label.setMinimumWidth(120)
        scrub = QHBoxLayout()
        scrub.addWidget(self.slider, 1)
        scrub.addWidget(self.step_label)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.tiles, 1)
        layout.addLayout(scrub)
        self._scrub_visible(False)

    # ----- data ----------------------------------------------------------------------
    def set_title(self, title: str) -> None:
        self.title.setText(title)
        self.title.setVisible(bool(title))

    def set_images(self, images: Sequence[Any], columns: int | None = None) -> None:
        """Show one frame of images (no slider)."""
        self.set_frames([images], columns=columns)

    def set_frames(
        self,
        frames: Sequence[Sequence[Any]],
        labels: Sequence[str] | None = None,
        columns: int | None = None,
        step: int | None = None,
    ) -> None:
        """Show ``frames[k][i]``, image ``i`` at step ``k``; every frame has the same
        number of images. ``labels[k]`` names step ``k`` (default "step k / last");
        ``step`` is the one shown first (default: the last, the finished images)."""
        converted = [[as_image(img) for img in frame] for frame in frames]
        if converted and any(len(f) != len(converted[0]) for f in converted):
            raise ValueError("every frame must hold the same number of images")
        if labels is not None and len(labels) != len(converted):
            raise ValueError(f"{len(labels)} labels for {len(converted)} frames")
        self.frames = converted
        last = max(0, len(converted) - 1)
        self.labels = (
            list(labels)
            if labels is not None
            else [f"step {k} / {last}" for k in range(len(converted))]
        )
        n = self.count
        self.tiles.columns = max(1, columns or math.ceil(math.sqrt(max(n, 1))))
        self._scrub_visible(len(converted) > 1)
        self.slider.blockSignals(True)
        self.slider.setRange(0, last)
        self.slider.setValue(last if step is None else min(max(0, step), last))
        self.slider.blockSignals(False)
        self._show_step(self.slider.value())
        self.tiles.updateGeometry()

    def clear(self) -> None:
        self.set_frames([])

    # ----- state ---------------------------------------------------------------------
    @property
    def count(self) -> int:
        """How many images the grid holds."""
        return len(self.frames[0]) if self.frames else 0

    @property
    def frame_count(self) -> int:
        return len(self.frames)

    @property
    def step(self) -> int:
        return self.slider.value()

    def set_step(self, index: int) -> None:
        """Scrub to frame ``index`` (clamped), as dragging the slider would."""
        self.slider.setValue(index)

    def current_images(self) -> list[np.ndarray]:
        """The arrays shown now."""
        return list(self.frames[self.step]) if self.frames else []

    def step_text(self) -> str:
        return self.step_label.text()

    # ----- display -------------------------------------------------------------------
    def _scrub_visible(self, on: bool) -> None:
        self.slider.setVisible(on)
        self.step_label.setVisible(on)

    def _show_step(self, index: int) -> None:
        self.tiles.images = [to_qimage(img) for img in self.current_images()]
        self.step_label.setText(self.labels[index] if self.labels else "")
        self.tiles.update()
        self.stepChanged.emit(index)


__all__ = ["ImageGrid", "TileView", "as_image"]
