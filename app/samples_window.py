"""The samples window: a denoiser's sampling loop, shown as images step by step.

The brain turns pure noise into images in ``steps`` denoising steps
(``engine.tasks.denoise.sample_images``); this window runs that loop on a background
thread, so the window never freezes, keeps every intermediate step, and hands them to
``canvas.imagegrid.ImageGrid`` as plain uint8 arrays, where a slider scrubs from noise
to the finished images. ``open_samples_window`` is what the File menu calls.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal, SignalInstance
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from openbrains.app.toplevel import open_top_level
from openbrains.canvas.imagegrid import ImageGrid
from openbrains.engine.errors import OpenBrainsError

DENOISER_INPUTS = ["noisy", "step"]


def to_uint8(images: np.ndarray) -> np.ndarray:
    """[0, 1] floats → uint8 greys, the only pixels the canvas takes."""
    return (np.clip(images, 0.0, 1.0) * 255).round().astype(np.uint8)


class SamplesWindow(QWidget):
    """``count`` images made by the denoiser in ``path``, every step kept. "New samples"
    runs the loop again with the next seed. ``samplesShown`` fires once a finished run
    is in the grid (tests wait for it)."""

    samplesShown = Signal()
    _progress = Signal(int, int)  # (run number, steps done), from the sampling thread
    _finished = Signal(int, object)  # (run number, frames [steps + 1, n, side, side])
    _failed = Signal(int, str)

    def __init__(
        self,
        path: str | os.PathLike[str],
        count: int = 8,
        seed: int = 0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        from openbrains.app.sample_cmd import task_of
        from openbrains.engine.format import load, load_brain

        self.path = Path(path)
        name, self.settings = task_of(load(self.path))
        _graph, self.brain = load_brain(self.path)
        if sorted(self.brain.input_names) != DENOISER_INPUTS:
            raise OpenBrainsError(
                f"{self.path.name} is not a denoiser: a denoiser takes inputs noisy and step, "
                f"this brain takes {', '.join(self.brain.input_names) or 'nothing'}"
                + (f" (it learned the task {name!r})" if name else "")
            )
        self.steps = int(self.settings.get("steps", 100))
        self.seed = seed
        self.run_number = 0
        self.running = False

        self.setWindowTitle(f"Generate images — {self.path.name}")
        self.grid = ImageGrid(self)
        self.count = QSpinBox(self)
        self.count.setRange(1, 64)
        self.count.setValue(max(1, min(64, count)))
        self.count.setPrefix("images: ")
        self.again = QPushButton("New samples", self)
        self.again.clicked.connect(self.new_samples)
        self.status = QLabel(self)
        bar = QHBoxLayout()
        bar.addWidget(self.count)
        bar.addWidget(self.again)
        bar.addStretch(1)
        bar.addWidget(QLabel(f"{self.steps} denoising steps", self))
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.status)
        self._progress.connect(self._on_progress)
        self._finished.connect(self._on_finished)
        self._failed.connect(self._on_failed)
        self.resize(520, 560)
        self.sample()

    # ----- sampling ------------------------------------------------------------------
    def new_samples(self) -> None:
        """The next seed: different noise, so different images."""
        self.seed += 1
        self.sample()

    def sample(self) -> None:
        """Run the sampling loop on its own thread; the grid fills when it is done."""
        from openbrains.engine.tasks.denoise import sample_images

        self.run_number += 1
        number, n, seed = self.run_number, self.count.value(), self.seed
        self.running = True
        self.again.setEnabled(False)
        self.status.setText(f"denoising {n} images from noise…")
        brain, settings = self.brain, self.settings

        def work() -> None:
            frames: list[np.ndarray] = []

            def keep(done: int, images: np.ndarray) -> None:
                frames.append(to_uint8(images))
                self._emit(self._progress, number, done)

            try:
                sample_images(brain, settings, n, seed, on_step=keep)
            except Exception as exc:  # shown in the window, not lost on a thread
                self._emit(self._failed, number, f"{type(exc).__name__}: {exc}")
                return
            self._emit(self._finished, number, np.stack(frames))

        threading.Thread(target=work, name="denoise-samples", daemon=True).start()

    @staticmethod
    def _emit(signal: SignalInstance, *args: object) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the window was closed (and deleted) meanwhile
            pass

    def _on_progress(self, number: int, done: int) -> None:
        if number == self.run_number:
            self.status.setText(f"denoising… step {done} / {self.steps}")

    def _on_finished(self, number: int, frames: np.ndarray) -> None:
        if number != self.run_number:
            return
        last = len(frames) - 1
        labels = [
            "step 0: pure noise"
            if k == 0
            else f"step {k} / {last}" + (" (done)" if k == last else "")
            for k in range(len(frames))
        ]
        self.grid.set_frames(list(frames), labels)
        self.grid.set_title(f"{len(frames[0])} images from {self.path.name}, seed {self.seed}")
        self.status.setText("drag the slider to watch the noise become images")
        self.running = False
        self.again.setEnabled(True)
        self.samplesShown.emit()

    def _on_failed(self, number: int, message: str) -> None:
        if number != self.run_number:
            return
        self.running = False
        self.again.setEnabled(True)
        self.status.setText(f"sampling failed: {message}")


def open_samples_window(
    parent: QWidget | None, graph_path: str | os.PathLike[str], count: int = 8, seed: int = 0
) -> SamplesWindow | None:
    """Open a samples window for ``graph_path`` as its own top-level window; a file that
    is not a denoiser (or cannot be read) gets a non-blocking message box instead and
    None is returned."""
    return open_top_level(
        parent,
        lambda: SamplesWindow(graph_path, count, seed, parent=parent),
        "Cannot generate images",
    )


__all__ = ["SamplesWindow", "open_samples_window", "to_uint8"]
