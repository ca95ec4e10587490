"""The camera: OpenCV ``VideoCapture`` by device index, or a video file standing in for one.

Frames come out as uint8 RGB ``[H, W, 3]`` at ``size`` (width, height), shrunk with
``INTER_AREA`` (the resampling that does not alias when making images smaller): tiny brains
see tiny pictures. A video file plays as fast as it can be decoded unless ``fps`` (or
``real_time``) asks for pacing, so tests and batch runs do not wait on a clock.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from openbrains.nodes.sources import Chunk, SourceBase, SourceError, check_path, one_line


def _cv2() -> Any:
    try:
        import cv2
    except ImportError as e:
        raise SourceError(f"OpenCV is not installed, so no camera or video: {e}") from e
    return cv2


@contextmanager
def _quiet(cv2: Any) -> Iterator[None]:
    """Silence OpenCV's log (it prints backend warnings for a missing camera) for a moment."""
    log = getattr(getattr(cv2, "utils", None), "logging", None)
    if log is None:
        yield
        return
    old = log.getLogLevel()
    log.setLogLevel(log.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        log.setLogLevel(old)


def to_rgb(frame: np.ndarray, size: tuple[int, int] | None, cv2: Any) -> np.ndarray:
    """An OpenCV frame (BGR, BGRA or grey; any depth) → uint8 RGB, resized to ``size``."""
    if frame.dtype != np.uint8:
        scale = 255.0 / 65535.0 if frame.dtype == np.uint16 else 255.0
        frame = np.clip(frame.astype(np.float32) * scale, 0, 255).astype(np.uint8)
    if frame.ndim == 2:
        rgb = cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
    elif frame.shape[2] == 4:
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGRA2RGB)
    elif frame.shape[2] == 1:
        rgb = cv2.cvtColor(frame[:, :, 0], cv2.COLOR_GRAY2RGB)
    else:
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    if size is not None and (rgb.shape[1], rgb.shape[0]) != tuple(size):
        rgb = cv2.resize(rgb, tuple(size), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb)


def check_size(size: Any) -> tuple[int, int] | None:
    if size is None:
        return None
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"size must be (width, height), got {size!r}") from None
    if w < 1 or h < 1:
        raise ValueError(f"size must be positive, got {size!r}")
    return w, h


class CameraSource(SourceBase):
    """Frames from a webcam (``0``, ``1``…) or a video file path.

    ``size``: output (width, height), ``None`` keeps the native size. ``fps``: for a camera,
    the frame rate to ask the device for; for a file, deliver frames no faster than this.
    ``real_time``: pace a file at its own frame rate (when ``fps`` is not given). A file ends
    the stream at its last frame; a camera that stops giving frames is a ``SourceError``.
    """

    kind = "image"

    def __init__(
        self,
        source: int | str | Path = 0,
        size: tuple[int, int] | None = (64, 64),
        fps: float | None = None,
        real_time: bool = False,
    ) -> None:
        super().__init__()
        if isinstance(source, bool) or not isinstance(source, int | str | Path):
            raise ValueError(f"a camera is an index or a video file path, got {source!r}")
        if isinstance(source, str) and source.isdigit():
            source = int(source)
        if fps is not None and fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        self.source = source
        self.size = check_size(size)
        self.fps = fps
        self.real_time = real_time
        self._cap: Any = None
        self._cv2: Any = None
        self._first: np.ndarray | None = None
        self._period = 0.0
        self._next_due = 0.0
        self._ended = False

    @property
    def is_file(self) -> bool:
        return not isinstance(self.source, int)

    def describe(self) -> str:
        what = f"video {str(self.source)!r}" if self.is_file else f"camera {self.source}"
        size = f"{self.size[0]}x{self.size[1]}" if self.size else "native size"
        return f"{what} ({size})"

    @property
    def native_fps(self) -> float:
        """The frame rate the device or file reports (0 when it does not say)."""
        if self._cap is None:
            return 0.0
        fps = float(self._cap.get(self._cv2.CAP_PROP_FPS) or 0.0)
        return fps if np.isfinite(fps) and fps > 0 else 0.0

    def _open(self) -> None:
        cv2 = self._cv2 = _cv2()
        if self.is_file:
            path = check_path(self.source, "video file")
            if path.is_dir():
                raise SourceError(f"{path} is a folder, not a video (use file:{path} for images)")
            cap = cv2.VideoCapture(str(path))
            if not cap.isOpened():
                cap.release()
                raise SourceError(
                    f"video {str(path)!r} could not be opened (not a video, or a codec "
                    "OpenCV lacks)"
                )
        else:
            with _quiet(cv2):  # OpenCV's own warnings would bury our one clear line
                cap = cv2.VideoCapture(self.source)
            if not cap.isOpened():
                cap.release()
                raise SourceError(
                    f"camera {self.source} could not be opened "
                    "(is it connected, or used by another program?)"
                )
            if self.fps:
                cap.set(cv2.CAP_PROP_FPS, float(self.fps))
        self._cap = cap
        ok, frame = self._grab()
        if not ok:
            if self.is_file:
                raise SourceError(f"video {str(self.source)!r} has no readable frame")
            raise SourceError(
                f"camera {self.source} opened but gave no frame "
                "(is it used by another program, or blocked by privacy settings?)"
            )
        self._first = frame
        if self.is_file:
            rate = self.fps or (self.native_fps if self.real_time else 0.0)
            self._period = 1.0 / rate if rate else 0.0
        self._next_due = time.monotonic()

    def _grab(self) -> tuple[bool, np.ndarray | None]:
        try:
            ok, frame = self._cap.read()
        except Exception as e:  # OpenCV raises cv2.error on broken streams
            raise SourceError(f"{self.describe()} failed: {one_line(e)}") from e
        if not ok or frame is None or frame.size == 0:
            return False, None
        return True, frame

    def _read(self, timeout: float | None) -> Chunk | None:
        if self._ended:
            return None
        if self._period:
            wait = self._next_due - time.monotonic()
            if wait > 0:
                if timeout is not None and wait > timeout:
                    time.sleep(timeout)
                    raise TimeoutError("next frame not due yet")
                time.sleep(wait)
            # the next frame is due one period after this one; after a stall, no catch-up burst
            self._next_due = max(self._next_due, time.monotonic()) + self._period
        if self._first is not None:
            frame, self._first = self._first, None
        else:
            ok, frame = self._grab()
            if not ok:
                if self.is_file:
                    self._ended = True
                    return None
                raise SourceError(
                    f"camera {self.source} stopped giving frames (unplugged, or taken by "
                    "another program?)"
                )
        t = time.monotonic()
        pos = int(self._cap.get(self._cv2.CAP_PROP_POS_FRAMES) or 0) if self.is_file else None
        meta = {"frame": pos - 1} if pos else {}
        return self._chunk(to_rgb(frame, self.size, self._cv2), t, **meta)

    def _close(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()
