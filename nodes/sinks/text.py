"""Text output: what a brain wrote, collected (and optionally echoed as it comes)."""

from __future__ import annotations

import codecs
import threading
from collections.abc import Sequence
from typing import TextIO

from openbrains.nodes.sinks import SinkBase


class TextSink(SinkBase):
    """Collects decoded text; ``text`` is everything so far (the newest ``max_chars``).

    ``write`` takes ``str``, UTF-8 ``bytes`` or a list of them (what ``BytesCodec.decode``
    returns: one item per batch row, the first is kept). Bytes go through an incremental
    decoder, so a character split across two chunks still comes out whole. ``echo``: a
    stream (``sys.stdout``) that sees each piece as it arrives.
    """

    def __init__(self, echo: TextIO | None = None, max_chars: int = 1_000_000) -> None:
        super().__init__()
        if max_chars < 1:
            raise ValueError(f"max_chars must be >= 1, got {max_chars}")
        self.echo = echo
        self.max_chars = max_chars
        self._parts: list[str] = []
        self._size = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"text output ({self._size} characters)"

    def write(self, value: str | bytes | Sequence[str | bytes]) -> None:
        if isinstance(value, list | tuple):
            if not value:
                return
            value = value[0]
        if isinstance(value, bytes | bytearray | memoryview):
            text = self._decoder.decode(bytes(value))
        elif isinstance(value, str):
            text = value
        else:
            raise TypeError(f"TextSink takes str or bytes, got {type(value).__name__}")
        with self._lock:
            self.count += 1
            if text:
                self._parts.append(text)
                self._size += len(text)
                if self._size > 2 * self.max_chars:  # trim now and then, not every write
                    joined = "".join(self._parts)[-self.max_chars :]
                    self._parts, self._size = [joined], len(joined)
        if text and self.echo is not None:
            self.echo.write(text)
            self.echo.flush()

    @property
    def text(self) -> str:
        with self._lock:
            return "".join(self._parts)[-self.max_chars :]

    def clear(self) -> None:
        with self._lock:
            self._parts, self._size = [], 0
            self._decoder.reset()

    def _close(self) -> None:
        tail = self._decoder.decode(b"", final=True)  # a dangling partial character
        if tail:
            with self._lock:
                self._parts.append(tail)
                self._size += len(tail)
