"""Text sources: typed text, lines from stdin, and a text file followed as it grows.

Text travels as UTF-8 ``bytes`` (``kind="bytes"``) because the byte codec reads bytes: no
decoding step can fail on a half-written multi-byte character at a chunk edge.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import BinaryIO, TextIO

from openbrains.nodes.sources import (
    Chunk,
    ChunkQueue,
    SourceBase,
    SourceError,
    check_path,
    one_line,
)


class TextSource(SourceBase):
    """Text typed into the app (``push``) and/or read line by line from a stream (stdin).

    ``push`` may be called from any thread, before or after ``open``; each push is one
    chunk. With ``stream``, a daemon thread reads lines and each line (with its newline) is
    a chunk; the stream's end ends the source. Without one, ``finish`` ends it.
    """

    kind = "bytes"

    def __init__(
        self,
        stream: BinaryIO | TextIO | None = None,
        name: str = "typed text",
        max_queue: int | None = None,
    ) -> None:
        super().__init__()
        self.stream = stream
        self.name = name
        self._queue = ChunkQueue(max_queue, "oldest")
        self._thread: threading.Thread | None = None

    def describe(self) -> str:
        return f"text ({self.name})"

    def push(self, text: str | bytes) -> None:
        """Queue one piece of text (thread-safe); empty text is ignored."""
        if isinstance(text, str):
            data = text.encode("utf-8")
        elif isinstance(text, bytes | bytearray | memoryview):
            data = bytes(text)
        else:
            raise TypeError(f"push takes str or bytes, got {type(text).__name__}")
        if data:
            self._queue.put((data, time.monotonic()))

    def finish(self) -> None:
        """No more text: readers get what is queued, then the end of the stream."""
        self._queue.end()

    @property
    def overruns(self) -> int:
        return self._queue.overruns

    def _open(self) -> None:
        if self.stream is not None:
            self._thread = threading.Thread(
                target=self._pump, name=f"openbrains-{self.name}", daemon=True
            )
            self._thread.start()

    def _pump(self) -> None:
        """Lines from the stream into the queue; a blocked readline cannot be interrupted,
        so this thread is a daemon and ``close`` simply stops listening to it."""
        stream = self.stream
        assert stream is not None
        try:
            for line in iter(stream.readline, ""):
                if not line:  # bytes stream at EOF gives b""
                    break
                self.push(line)
        except (OSError, ValueError) as e:  # closed or broken stream
            if not self._queue.ended:
                self._queue.end(SourceError(f"{self.describe()} failed: {one_line(e)}"))
                return
        self._queue.end()

    def _read(self, timeout: float | None) -> Chunk | None:
        item = self._queue.get(timeout)
        if item is None:
            return None
        data, t = item
        return self._chunk(data, t)

    def _close(self) -> None:
        self._queue.end()


class FollowSource(SourceBase):
    """A text file followed as it grows (``tail -F``): each chunk is bytes appended since.

    ``from_start``: deliver what the file holds already (else start at its end). A file
    truncated in place is read again from its start; a file replaced (a new inode under the
    same name, as log rotation and atomic saves do) is finished and then followed anew from
    the start of the new file. If the name disappears for a while the source waits for it.
    Truncation is noticed when the file got shorter than what was read; a truncation
    followed by a rewrite to a larger size before the next poll cannot be seen (as in tail).
    The stream only ends when the source is closed.
    """

    kind = "bytes"

    def __init__(
        self,
        path: str | Path,
        from_start: bool = False,
        poll_interval: float = 0.05,
        max_chunk: int = 65536,
    ) -> None:
        super().__init__()
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be > 0, got {poll_interval}")
        if max_chunk < 1:
            raise ValueError(f"max_chunk must be >= 1, got {max_chunk}")
        self.path = Path(path).expanduser()
        self.from_start = from_start
        self.poll_interval = poll_interval
        self.max_chunk = max_chunk
        self._fh: BinaryIO | None = None
        self._ino: tuple[int, int] | None = None
        self._pos = 0
        self.rotations = 0
        self.truncations = 0

    def describe(self) -> str:
        return f"followed file {str(self.path)!r}"

    def _open(self) -> None:
        path = check_path(self.path, "file")
        if path.is_dir():
            raise SourceError(f"{path} is a folder; follow needs a text file")
        self._reopen()
        if not self.from_start and self._fh is not None:
            self._pos = self._fh.seek(0, os.SEEK_END)

    def _reopen(self) -> bool:
        """Open the file under the name now (True), or note that it is missing (False)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - kept open while following
        except FileNotFoundError:
            self._ino = None
            return False
        except OSError as e:
            raise SourceError(f"cannot read {str(self.path)!r}: {one_line(e)}") from e
        st = os.fstat(fh.fileno())
        self._fh, self._ino, self._pos = fh, (st.st_dev, st.st_ino), 0
        return True

    def _poll(self) -> bytes:
        """New bytes, after handling truncation and replacement; b"" when nothing is new."""
        if self._fh is None:
            if not self._reopen():
                return b""
            self.rotations += 1
        assert self._fh is not None
        size = os.fstat(self._fh.fileno()).st_size
        if size < self._pos:  # truncated in place
            self.truncations += 1
            self._pos = 0
        self._fh.seek(self._pos)
        data = self._fh.read(self.max_chunk)
        if data:
            self._pos += len(data)
            return data
        try:  # nothing new in the file we hold: has the name moved on to another file?
            st = os.stat(self.path)
            replaced = (st.st_dev, st.st_ino) != self._ino
        except FileNotFoundError:
            replaced = True
        if replaced:
            self._fh.close()
            self._fh = None
            if self._reopen():
                self.rotations += 1
                return self._poll()
        return b""

    def _read(self, timeout: float | None) -> Chunk | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.closed:
            data = self._poll()
            if data:
                return self._chunk(data, offset=self._pos - len(data))
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError(f"nothing new in {self.path}")
            time.sleep(self.poll_interval if left is None else min(left, self.poll_interval))
        return None

    def _close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
