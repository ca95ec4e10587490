"""Live and recorded sources: the outside world in chunks (DESIGN §3.11 "Real time").

A source is a harness object, not a graph unit: it delivers raw data (audio samples, RGB
frames, bytes) chunk by chunk; a codec turns each chunk into a Signal and ``Brain.step``
runs it while carrying recurrent state. Every source follows the same small protocol so the
app, the CLI and a run can treat a microphone, a webcam, a followed log file or a folder of
pictures alike:

    with open_source("mic") as src:          # or MicSource(...), CameraSource(...), ...
        while (chunk := src.read(timeout=1.0)) is not None:
            ...                              # chunk.data, chunk.kind, chunk.time, chunk.index

``read`` returns ``None`` only at the end of the stream and raises ``TimeoutError`` when
``timeout`` passes with nothing new, so a polling loop can tell "quiet" from "finished".
Every failure a user can cause (no microphone, a camera in use, a missing or unreadable
file) is a ``SourceError`` with one clear line, so the app can show it and keep going.

Heavy libraries (sounddevice/PortAudio, OpenCV, torch) are imported by the source that needs
them, when it is built: a machine without a sound card can still read files.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, Protocol, Self, runtime_checkable

import numpy as np

from openbrains.engine.errors import OpenBrainsError

ChunkKind = Literal["audio", "image", "bytes"]


class SourceError(OpenBrainsError):
    """A source that cannot deliver: one line that says what and, where known, why."""


@dataclass
class Chunk:
    """One piece of a stream.

    ``data``: audio = float32 mono ``[n]`` in [-1, 1]; image = uint8 ``[H, W, 3]`` RGB;
    bytes = ``bytes`` (text is UTF-8). ``time``: ``time.monotonic()`` when it was captured
    (or read, for files), so latency can be measured end to end. ``index``: 0, 1, 2, … in
    the order the source delivered its chunks.
    """

    data: Any
    kind: ChunkKind
    time: float
    index: int
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.data)


@runtime_checkable
class Source(Protocol):
    """What every source offers (``SourceBase`` implements the shared parts)."""

    kind: ChunkKind

    def open(self) -> None: ...

    def read(self, timeout: float | None = None) -> Chunk | None: ...

    def close(self) -> None: ...

    def describe(self) -> str: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...


class SourceBase:
    """Context manager, iteration and chunk numbering shared by the concrete sources.

    Subclasses implement ``_open``, ``_read(timeout)`` and ``_close``; ``open`` is
    idempotent and ``close`` may be called any number of times (also after a failed open).
    """

    kind: ChunkKind = "bytes"

    def __init__(self) -> None:
        self._opened = False
        self._closed = False
        self._index = 0

    # ----- protocol --------------------------------------------------------------------
    def open(self) -> None:
        if self._opened:
            return
        if self._closed:
            raise SourceError(f"{self.describe()} was closed; make a new source to read again")
        try:
            self._open()
        except SourceError:
            self._safe_close()
            raise
        except Exception as e:  # a library error we did not foresee: still one line
            self._safe_close()
            raise SourceError(f"{self.describe()} could not be opened: {one_line(e)}") from e
        self._opened = True

    def read(self, timeout: float | None = None) -> Chunk | None:
        """The next chunk; ``None`` at the end of the stream; ``TimeoutError`` if none came."""
        if self._closed:
            return None
        if not self._opened:
            self.open()
        return self._read(timeout)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._safe_close()

    def describe(self) -> str:
        return type(self).__name__

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Any:
        """Chunks until the end of the stream (blocks while a live source is quiet)."""
        while (chunk := self.read()) is not None:
            yield chunk

    def __repr__(self) -> str:
        return f"<{self.describe()}>"

    # ----- for subclasses --------------------------------------------------------------
    def _open(self) -> None:
        pass

    def _read(self, timeout: float | None) -> Chunk | None:
        raise NotImplementedError

    def _close(self) -> None:
        pass

    def _safe_close(self) -> None:
        try:
            self._close()
        except Exception:  # closing must never hide the error that made us close
            pass

    def _chunk(self, data: Any, t: float | None = None, **meta: Any) -> Chunk:
        chunk = Chunk(data, self.kind, time.monotonic() if t is None else t, self._index, meta)
        self._index += 1
        return chunk


def one_line(e: BaseException) -> str:
    """An exception as one line (PortAudio and OpenCV messages can span several)."""
    text = " ".join(str(e).split())
    return text or type(e).__name__


# ----- a bounded hand-over queue between a capture thread and the reader -----------------


class ChunkQueue:
    """Thread-safe FIFO with a bound, an overrun count and an end-of-stream mark.

    A capture callback must never block (PortAudio would glitch), so when the reader is
    slow the queue drops: ``"oldest"`` (default: a live stream wants the freshest audio) or
    ``"newest"`` (keep a take from its start; used by tests whose virtual devices deliver
    faster than real time). Every drop counts in ``overruns``.
    """

    def __init__(self, maxlen: int | None, drop: Literal["oldest", "newest"] = "oldest") -> None:
        if maxlen is not None and maxlen < 1:
            raise ValueError(f"maxlen must be >= 1, got {maxlen}")
        if drop not in ("oldest", "newest"):
            raise ValueError(f"drop must be 'oldest' or 'newest', got {drop!r}")
        self.maxlen = maxlen
        self.drop = drop
        self.overruns = 0
        self._items: deque[Any] = deque()
        self._cond = threading.Condition()
        self._ended = False
        self._error: BaseException | None = None

    def put(self, item: Any) -> bool:
        """Add an item; False when the queue was full and something was dropped."""
        with self._cond:
            if self._ended:
                return False
            full = self.maxlen is not None and len(self._items) >= self.maxlen
            if full:
                self.overruns += 1
                if self.drop == "newest":
                    return False
                self._items.popleft()
            self._items.append(item)
            self._cond.notify()
            return not full

    def end(self, error: BaseException | None = None) -> None:
        """No more items will come; readers get what is left, then ``None`` (or ``error``)."""
        with self._cond:
            self._ended = True
            if error is not None and self._error is None:
                self._error = error
            self._cond.notify_all()

    def get(self, timeout: float | None = None) -> Any:
        """The oldest item; ``None`` after the end; ``TimeoutError`` if nothing came in time."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._items:
                if self._ended:
                    if self._error is not None:
                        raise self._error
                    return None
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError("no data yet")
                self._cond.wait(left)
            return self._items.popleft()

    @property
    def ended(self) -> bool:
        return self._ended

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)


# ----- streaming resampler -----------------------------------------------------------------

_RESAMPLE_MAX_TERMS = 1000  # the same ratio approximation engine.codecs.resample uses


class StreamResampler:
    """``engine.codecs.resample`` for a stream fed in pieces, with no seams between pieces.

    Resampling each chunk on its own would zero-pad both ends of every chunk and click
    32 times a second. Instead this keeps a margin of past input (the filter's reach) and
    holds back the same margin of new input, then resamples a window whose edges lie in the
    margins and keeps only the middle: the output equals resampling the whole stream at once
    (up to float rounding), delayed by the margin (about a millisecond).
    """

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        if src_rate < 1 or dst_rate < 1:
            raise ValueError(f"rates must be positive, got {src_rate} → {dst_rate}")
        self.src_rate, self.dst_rate = int(src_rate), int(dst_rate)
        ratio = Fraction(self.dst_rate, self.src_rate)
        if max(ratio.numerator, ratio.denominator) > _RESAMPLE_MAX_TERMS:
            ratio = ratio.limit_denominator(_RESAMPLE_MAX_TERMS)
        self.up, self.down = ratio.numerator, ratio.denominator
        # resample's filter reaches ceil(16 zero crossings / cutoff) input samples each side;
        # 20 leaves room, and a whole number of ``down`` keeps output phases aligned.
        reach = math.ceil(20 / (0.95 * min(1.0, self.up / self.down)))
        self.margin = -(-reach // self.down) * self.down
        self._buf = np.zeros(self.margin, dtype=np.float32)  # the stream starts after silence
        self._fed = 0
        self._made = 0

    @property
    def identity(self) -> bool:
        return self.up == self.down

    def feed(self, x: np.ndarray) -> np.ndarray:
        """New input samples → the output samples that are now final (may be empty)."""
        x = np.asarray(x, dtype=np.float32).reshape(-1)
        self._fed += len(x)
        if self.identity:
            self._made += len(x)
            return x
        buf = np.concatenate([self._buf, x])
        blocks = (len(buf) - 2 * self.margin) // self.down
        if blocks <= 0:
            self._buf = buf
            return np.zeros(0, dtype=np.float32)
        from openbrains.engine.codecs import resample  # torch: only when a stream really needs it

        n = blocks * self.down
        y = resample(buf[: n + 2 * self.margin], self.src_rate, self.dst_rate)
        start = self.margin * self.up // self.down
        out = np.ascontiguousarray(y[start : start + blocks * self.up], dtype=np.float32)
        self._buf = buf[n:]
        self._made += len(out)
        return out

    def flush(self) -> np.ndarray:
        """The rest at the end of the stream (as many samples as resampling it whole gives)."""
        if self.identity:
            return np.zeros(0, dtype=np.float32)
        fed, total = self._fed, -(-self._fed * self.up // self.down)
        tail = self.feed(np.zeros(2 * self.margin + self.down, dtype=np.float32))
        self._fed = fed
        keep = max(0, total - (self._made - len(tail)))
        self._made = total
        return tail[:keep]


class Rechunker:
    """Cuts a stream of sample arrays into chunks of exactly ``size`` samples."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._parts: list[np.ndarray] = []
        self._have = 0

    def push(self, x: np.ndarray) -> None:
        if len(x):
            self._parts.append(x)
            self._have += len(x)

    def pop(self, partial: bool = False) -> np.ndarray | None:
        """One chunk of ``size`` samples, or the rest when ``partial``; None if not enough."""
        if self._have < self.size and not (partial and self._have):
            return None
        joined = np.concatenate(self._parts) if len(self._parts) > 1 else self._parts[0]
        n = min(self.size, len(joined))
        out, rest = joined[:n], joined[n:]
        self._parts = [rest] if len(rest) else []
        self._have = len(rest)
        return np.ascontiguousarray(out, dtype=np.float32)

    def __len__(self) -> int:
        return self._have


# ----- registry and specs ------------------------------------------------------------------


def _mic(arg: str | None, **kw: Any) -> Source:
    from openbrains.nodes.sources.mic import MicSource

    device: int | str | None = None
    if arg:
        device = int(arg) if arg.isdigit() else arg
    return MicSource(device=device, **kw)


def _camera(arg: str | None, **kw: Any) -> Source:
    from openbrains.nodes.sources.camera import CameraSource

    if not arg:
        return CameraSource(0, **kw)
    return CameraSource(int(arg) if arg.isdigit() else arg, **kw)


def _text(arg: str | None, **kw: Any) -> Source:
    import sys

    from openbrains.nodes.sources.text import TextSource

    if arg == "-":
        # Unbuffered: a daemon thread blocked in a buffered readline holds the reader's lock
        # and aborts the interpreter at exit ("could not acquire lock ... at shutdown").
        try:
            stream: Any = open(sys.stdin.fileno(), "rb", buffering=0, closefd=False)  # noqa: SIM115
        except (OSError, ValueError, AttributeError):  # a stand-in stdin (tests, embedding)
            stream = getattr(sys.stdin, "buffer", sys.stdin)
        return TextSource(stream=stream, name="stdin", **kw)
    if arg:
        raise SourceError(f"text takes no argument except '-' (stdin), got {arg!r}")
    return TextSource(**kw)


def _follow(arg: str | None, **kw: Any) -> Source:
    from openbrains.nodes.sources.text import FollowSource

    if not arg:
        raise SourceError("follow needs a path: follow:PATH")
    return FollowSource(arg, **kw)


def _file(arg: str | None, **kw: Any) -> Source:
    from openbrains.nodes.sources.files import FileSource

    if not arg:
        raise SourceError("file needs a path: file:PATH")
    return FileSource(arg, **kw)


SOURCES: dict[str, Callable[..., Source]] = {
    "mic": _mic,
    "camera": _camera,
    "text": _text,
    "follow": _follow,
    "file": _file,
}
"""Spec prefix → factory ``(argument or None, **options) -> Source``."""

SPEC_HELP = "mic, mic:DEVICE, camera, camera:N, camera:PATH, text, text:-, follow:PATH, file:PATH"


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"camera:2"`` → ``("camera", "2")``; ``"mic"`` → ``("mic", None)``.

    Only the first colon splits, so paths with colons (and Windows drive letters) survive.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise SourceError(f"empty source spec; expected one of: {SPEC_HELP}")
    name, sep, arg = spec.strip().partition(":")
    name = name.lower()
    if name not in SOURCES:
        raise SourceError(f"unknown source {spec!r}; expected one of: {SPEC_HELP}")
    return name, (arg if sep and arg != "" else None)


def open_source(spec: str, **options: Any) -> Source:
    """Build the source a spec names (not yet opened: use it in a ``with`` or call ``open``).

    ``options`` go to the source's constructor (``rate=``, ``size=``, ``from_start=``…).
    A bad spec is a ``SourceError`` that lists the valid forms.
    """
    name, arg = parse_spec(spec)
    try:
        return SOURCES[name](arg, **options)
    except TypeError as e:
        raise SourceError(f"source {spec!r}: {one_line(e)}") from e
    except ValueError as e:
        raise SourceError(f"source {spec!r}: {one_line(e)}") from e


def check_path(path: str | Path, what: str = "file") -> Path:
    """An existing path, or a SourceError that names it."""
    p = Path(path).expanduser()
    if not p.exists():
        raise SourceError(f"no such {what}: {p}")
    return p


__all__ = [
    "SOURCES",
    "Chunk",
    "ChunkKind",
    "ChunkQueue",
    "Rechunker",
    "Source",
    "SourceBase",
    "SourceError",
    "StreamResampler",
    "check_path",
    "one_line",
    "open_source",
    "parse_spec",
]
