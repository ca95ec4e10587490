"""Recorded data as a stream: sound files, images (one or a folder), videos, raw bytes.

A file plays through the same protocol as a live source, so whatever the app does with a
microphone or a camera can be tried, and tested, on a recording. What a path holds is
decided by its extension (``kind=`` overrides): sound files go through soundfile
(libsndfile: WAV, FLAC, OGG, AIFF…), images and videos through OpenCV, anything else is
raw bytes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

import numpy as np

from openbrains.nodes.sources import (
    Chunk,
    ChunkKind,
    Rechunker,
    SourceBase,
    SourceError,
    StreamResampler,
    check_path,
    one_line,
)
from openbrains.nodes.sources.camera import CameraSource, _cv2, check_size, to_rgb

AUDIO_EXTS = frozenset({".wav", ".flac", ".ogg", ".oga", ".aiff", ".aif", ".au", ".mp3", ".opus"})
IMAGE_EXTS = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm", ".pbm"}
)
VIDEO_EXTS = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"})

FileKind = Literal["audio", "image", "video", "bytes"]
_CHUNK_KIND: dict[str, ChunkKind] = {
    "audio": "audio",
    "image": "image",
    "video": "image",
    "bytes": "bytes",
}


def guess_kind(path: Path) -> FileKind:
    """What a path holds, by extension; a folder is a folder of images."""
    if path.is_dir():
        return "image"
    ext = path.suffix.lower()
    if ext in AUDIO_EXTS:
        return "audio"
    if ext in IMAGE_EXTS:
        return "image"
    if ext in VIDEO_EXTS:
        return "video"
    return "bytes"


class FileSource(SourceBase):
    """Chunks from a file or a folder of images.

    audio: float32 mono chunks of ``chunk_ms`` at ``rate`` (channels averaged, resampled
    as one continuous stream; the last chunk may be shorter). image: one frame per image,
    folders in sorted name order (files that are not images are skipped; an image that
    cannot be decoded is a ``SourceError``). video: its frames. bytes: chunks of
    ``chunk_bytes``. ``size`` (width, height) resizes frames; ``None`` keeps them as they are.
    ``real_time`` paces audio and video at their own speed (off: as fast as they decode).
    """

    def __init__(
        self,
        path: str | Path,
        kind: FileKind | None = None,
        rate: int = 16000,
        chunk_ms: float = 32,
        size: tuple[int, int] | None = None,
        chunk_bytes: int = 256,
        real_time: bool = False,
    ) -> None:
        super().__init__()
        if kind is not None and kind not in ("audio", "image", "video", "bytes"):
            raise ValueError(f"kind must be audio, image, video or bytes, got {kind!r}")
        if rate < 1:
            raise ValueError(f"rate must be positive, got {rate}")
        if chunk_ms <= 0:
            raise ValueError(f"chunk_ms must be > 0, got {chunk_ms}")
        if chunk_bytes < 1:
            raise ValueError(f"chunk_bytes must be >= 1, got {chunk_bytes}")
        self.path = Path(path).expanduser()
        self.file_kind: FileKind = kind or guess_kind(self.path)
        self.rate = int(rate)
        self.chunk_ms = chunk_ms
        self.chunk = max(1, round(rate * chunk_ms / 1000))
        self.size = check_size(size)
        self.chunk_bytes = chunk_bytes
        self.real_time = real_time
        self.kind: ChunkKind = _CHUNK_KIND[self.file_kind]
        self._impl: Any = None
        self._start = 0.0
        self._played = 0.0
        self._pending: Any = None  # a chunk read but not yet due (real-time pacing)

    def describe(self) -> str:
        what = {"audio": "sound file", "bytes": "file"}.get(self.file_kind, self.file_kind)
        return f"{what} {str(self.path)!r}"

    def _open(self) -> None:
        path = check_path(self.path)
        kind = self.file_kind
        if path.is_dir() and kind != "image":
            raise SourceError(f"{path} is a folder; only a folder of images can be read")
        if kind == "audio":
            self._impl = _AudioFile(path, self.rate, self.chunk)
        elif kind == "image":
            self._impl = _Images(path, self.size)
        elif kind == "video":
            video = CameraSource(path, size=self.size, real_time=self.real_time)
            video.open()
            self._impl = video
        else:
            try:
                self._impl = open(path, "rb")  # noqa: SIM115 - closed in _close
            except OSError as e:
                raise SourceError(f"cannot read {str(path)!r}: {one_line(e)}") from e
        self._start = time.monotonic()

    def _read(self, timeout: float | None) -> Chunk | None:
        kind = self.file_kind
        if kind == "video":
            chunk = self._impl.read(timeout)
            return None if chunk is None else self._chunk(chunk.data, chunk.time, **chunk.meta)
        if kind == "bytes":
            data = self._impl.read(self.chunk_bytes)
            return self._chunk(data, offset=self._index * self.chunk_bytes) if data else None
        item, self._pending = self._pending, None
        if item is None:
            item = self._impl.next()
        if item is None:
            return None
        if kind == "audio" and self.real_time:
            wait = self._start + self._played - time.monotonic()
            if timeout is not None and wait > timeout:
                time.sleep(max(0.0, timeout))
                self._pending = item
                raise TimeoutError("next audio chunk not due yet")
            if wait > 0:
                time.sleep(wait)
            self._played += len(item) / self.rate
        if kind == "image":
            frame, name = item
            return self._chunk(frame, file=name)
        return self._chunk(item)

    def _close(self) -> None:
        impl, self._impl = self._impl, None
        if impl is not None:
            impl.close()


class _AudioFile:
    """A sound file read block by block, mixed to mono, resampled, cut to exact chunks."""

    def __init__(self, path: Path, rate: int, chunk: int) -> None:
        try:
            import soundfile
        except OSError as e:  # libsndfile missing
            raise SourceError(f"cannot read sound files: libsndfile is missing ({e})") from e
        try:
            self.file = soundfile.SoundFile(str(path))
        except Exception as e:  # soundfile.LibsndfileError (a RuntimeError) and friends
            raise SourceError(f"{path.name} is not a readable sound file: {one_line(e)}") from e
        self.path = path
        self.file_rate = int(self.file.samplerate)
        self.resampler = StreamResampler(self.file_rate, rate)
        self.rechunk = Rechunker(chunk)
        self.block = max(256, round(chunk * self.file_rate / rate))
        self.eof = False

    def next(self) -> np.ndarray | None:
        while True:
            out = self.rechunk.pop(partial=self.eof)
            if out is not None or self.eof:
                return out
            try:
                data = self.file.read(self.block, dtype="float32", always_2d=True)
            except Exception as e:
                raise SourceError(f"{self.path.name} is damaged: {one_line(e)}") from e
            if len(data) == 0:
                self.eof = True
                self.rechunk.push(self.resampler.flush())
                continue
            mono = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1, dtype=np.float32)
            self.rechunk.push(self.resampler.feed(mono))

    def close(self) -> None:
        self.file.close()


class _Images:
    """One image, or every image in a folder in sorted name order."""

    def __init__(self, path: Path, size: tuple[int, int] | None) -> None:
        self.cv2 = _cv2()
        if path.is_dir():
            self.files = sorted(
                (p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTS),
                key=lambda p: p.name,
            )
            if not self.files:
                raise SourceError(f"no images in folder {str(path)!r}")
        else:
            self.files = [path]
        self.size = size
        self.pos = 0

    def next(self) -> tuple[np.ndarray, str] | None:
        if self.pos >= len(self.files):
            return None
        p = self.files[self.pos]
        self.pos += 1
        # imdecode reads any path (imread trips over non-ASCII names on some systems)
        try:
            raw = np.fromfile(p, dtype=np.uint8)
        except OSError as e:
            raise SourceError(f"cannot read image {str(p)!r}: {one_line(e)}") from e
        frame = self.cv2.imdecode(raw, self.cv2.IMREAD_UNCHANGED) if raw.size else None
        if frame is None:
            raise SourceError(f"{p.name} is not a readable image")
        return to_rgb(frame, self.size, self.cv2), p.name

    def close(self) -> None:
        pass
