"""Image output: the latest frame a brain produced, ready to draw or save."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from openbrains.nodes.sinks import SinkBase, SinkError, to_numpy


def to_uint8_rgb(value: Any) -> np.ndarray:
    """One image as uint8 ``[H, W, 3]`` RGB.

    Takes what ``ImageCodec.decode`` gives (``[B, H, W, ch]``, the last item is kept) or one
    ``[H, W, ch]`` / ``[H, W]`` image; floats are read as [0, 1] and clipped; grey is
    repeated, an alpha channel dropped.
    """
    a = np.asarray(to_numpy(value))
    if a.ndim == 4:
        if a.shape[0] == 0:
            raise ValueError("empty batch of images")
        a = a[-1]
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4) or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"expected an image [H, W, 1|3|4], got shape {np.shape(value)}")
    if a.dtype == np.uint8:
        out = a
    elif a.dtype == np.uint16:
        out = (a.astype(np.float32) / 257.0).round().astype(np.uint8)
    elif np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.bool_):
        f = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
        out = (np.clip(f, 0.0, 1.0) * 255.0).round().astype(np.uint8)
    elif np.issubdtype(a.dtype, np.integer):
        out = np.clip(a, 0, 255).astype(np.uint8)
    else:
        raise ValueError(f"images must be numbers, got {a.dtype}")
    if out.shape[2] == 1:
        out = np.repeat(out, 3, axis=2)
    elif out.shape[2] == 4:
        out = out[:, :, :3]
    return np.ascontiguousarray(out)


class ImageSink(SinkBase):
    """Keeps the latest frame (uint8 RGB) for a live view; ``save_png`` writes it out."""

    def __init__(self) -> None:
        super().__init__()
        self._latest: np.ndarray | None = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        if self._latest is None:
            return "image output (no frame yet)"
        h, w = self._latest.shape[:2]
        return f"image output ({w}x{h}, {self.count} frames)"

    def write(self, value: Any) -> None:
        frame = to_uint8_rgb(value)
        with self._lock:
            self._latest = frame
            self.count += 1

    @property
    def latest(self) -> np.ndarray | None:
        """The newest frame (a copy, so a reader cannot race the writer), or None."""
        with self._lock:
            return None if self._latest is None else self._latest.copy()

    def save_png(self, path: str | Path) -> Path:
        """Write the latest frame as PNG (an atomic replace, so a viewer never sees half)."""
        frame = self.latest
        if frame is None:
            raise SinkError("no image to save yet: the sink has received no frame")
        import cv2

        path = Path(path)
        ok, buf = cv2.imencode(".png", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        if not ok:
            raise SinkError(f"could not encode the frame as PNG for {str(path)!r}")
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_bytes(buf.tobytes())
            tmp.replace(path)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise SinkError(f"could not save {str(path)!r}: {e.strerror or e}") from e
        return path
