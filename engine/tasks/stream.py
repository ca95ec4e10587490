"""Next-byte prediction on a byte stream: a file that keeps growing (a log being appended).

It is the ``text`` task on the newest ``tail`` bytes of the file, cut the same way
(contiguous 80/10/10, so validation and test are the most recent bytes: the model is
always scored on what came after what it trained on). ``refresh()`` reads what was
appended since the last read (or the file again from its start when it was truncated or
replaced, as log rotation does), rebuilds the splits and says whether they changed; the
run loop calls it to pick up new data without a restart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from openbrains.engine.tasks.base import DatasetTask, TaskError
from openbrains.engine.tasks.files import need_path
from openbrains.engine.tasks.text import (
    bytes_task,
    min_bytes,
    order0_entropy,
    split_bounds,
    windows,
)

DEFAULT_TAIL = 1_000_000


@dataclass
class StreamTask(DatasetTask):
    """A completion task whose data is the tail of a growing file."""

    path: Path = field(default_factory=Path)
    tail: int = DEFAULT_TAIL
    blob: bytes = b""  # the newest ``tail`` bytes read so far
    position: tuple[int, int] = (0, 0)  # (inode, file offset read up to)

    def refresh(self) -> bool:
        """Read what the file gained; True when the splits were rebuilt.

        Too few bytes for one window per split (a log rotated a moment ago) keeps the old
        splits, so the task never goes empty; they are rebuilt once the new file is long
        enough.
        """
        try:
            st = os.stat(self.path)
        except OSError as e:
            raise TaskError(f"stream: cannot read {self.path}: {e}") from None
        inode, offset = self.position
        if st.st_ino == inode and st.st_size == offset:
            return False
        if st.st_ino == inode and st.st_size > offset:
            added = _read(self.path, offset, st.st_size - offset)
            blob, end = (self.blob + added)[-self.tail :], offset + len(added)
        else:  # truncated or replaced: start again
            start = max(0, st.st_size - self.tail)
            blob = _read(self.path, start, self.tail)
            end = start + len(blob)
        self.position = (st.st_ino, end)
        changed = blob != self.blob
        self.blob = blob
        if not changed or len(blob) < min_bytes(int(self.settings["context"])):
            return False
        self._rebuild()
        return True

    def _rebuild(self) -> None:
        context, stride = int(self.settings["context"]), int(self.settings["stride"])
        a, b = split_bounds(len(self.blob))
        self.train = windows(self.blob[:a], context, stride)
        self.val = windows(self.blob[a:b], context, context)
        self.test = windows(self.blob[b:], context, context)
        self.settings.update(
            bytes=len(self.blob), order0_entropy=round(order0_entropy(self.blob), 6)
        )


def _read(path: Path, offset: int, size: int) -> bytes:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read(size)
    except OSError as e:
        raise TaskError(f"stream: cannot read {path}: {e}") from None


def stream_task(
    data: str | Path | None,
    seed: int = 0,
    context: int = 64,
    stride: int | None = None,
    tail: int = DEFAULT_TAIL,
) -> StreamTask:
    """Next-byte prediction on the newest ``tail`` bytes of the growing file ``data``."""
    path = need_path("stream", data, "file", "a file that grows (a log being appended)")
    if context >= 1 and tail < min_bytes(context):
        raise TaskError(f"stream: tail {tail} is too small for context {context}")
    try:
        st = os.stat(path)
    except OSError as e:
        raise TaskError(f"stream: cannot read {path}: {e}") from None
    start = max(0, st.st_size - tail)
    blob = _read(path, start, tail)
    base = bytes_task(blob, str(path), seed, context, stride, name="stream")
    return StreamTask(
        name="stream",
        kind="completion",
        inputs=base.inputs,
        outputs=base.outputs,
        train=base.train,
        val=base.val,
        test=base.test,
        codecs=base.codecs,
        settings={**base.settings, "tail": tail},
        path=path,
        tail=tail,
        blob=blob,
        position=(st.st_ino, start + len(blob)),
    )


__all__ = ["StreamTask", "stream_task"]
