"""Text completion: predict the next byte of any file (DESIGN §5: bytes → ids 0–255).

The file is cut *contiguously* — first 80 % train, next 10 % validation, last 10 % test —
before any window is made, so no window straddles two splits and validation/test text was
never seen in training. Each split is cut into windows of ``context + 1`` bytes: the input
is the first ``context`` bytes, the target the same window shifted by one. Validation and
test windows step by ``context`` (every byte after the first is scored exactly once);
training windows step by ``stride`` (default ``context``; smaller gives more, overlapping
windows). The metric is bits per character (byte); ``order0_entropy`` gives the file's
order-0 entropy, the score of a model that knows only byte frequencies.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from openbrains.engine.codecs import BytesCodec
from openbrains.engine.signal import SignalMeta, SignalSpec
from openbrains.engine.tasks.base import DatasetTask, Split, TaskError
from openbrains.engine.tasks.files import need_path

TEXT_SPLIT = (0.8, 0.1, 0.1)


def order0_entropy(data: bytes) -> float:
    """Bits per byte of ``data`` under its own byte frequencies (0.0 for empty data)."""
    if not data:
        return 0.0
    counts = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
    p = counts[counts > 0] / len(data)
    return float(-(p * np.log2(p)).sum())


def split_bounds(n: int) -> tuple[int, int]:
    """Where train ends and validation ends, in bytes, for a file of ``n`` bytes."""
    return int(n * TEXT_SPLIT[0]), int(n * (TEXT_SPLIT[0] + TEXT_SPLIT[1]))


def min_bytes(context: int) -> int:
    """The shortest data that gives train, validation and test a window each."""
    n = 10 * (context + 1)
    while True:
        a, b = split_bounds(n)
        if min(a, b - a, n - b) >= context + 1:
            return n
        n += 1


def windows(part: bytes, context: int, step: int) -> Split:
    """Windows of ``context + 1`` bytes every ``step`` bytes: ids ``[N, context, 1]`` (float)
    and next-byte targets ``[N, context]`` (long)."""
    arr = np.frombuffer(part, dtype=np.uint8)
    w = np.lib.stride_tricks.sliding_window_view(arr, context + 1)[::step]
    x = torch.from_numpy(w[:, :-1].astype(np.float32)).unsqueeze(-1)
    y = torch.from_numpy(w[:, 1:].astype(np.int64))
    return Split({"text": x}, y)


def text_task(
    data: str | Path | None, seed: int = 0, context: int = 64, stride: int | None = None
) -> DatasetTask:
    """Next-byte prediction on the bytes of ``data`` (any file: text in any language, code,
    logs). ``seed`` is recorded but unused: the split is contiguous, not random."""
    path = need_path("text", data, "file", "a text (or any) file to learn to continue")
    try:
        blob = path.read_bytes()
    except OSError as e:
        raise TaskError(f"cannot read {path}: {e}") from None
    return bytes_task(blob, str(path), seed, context, stride)


def bytes_task(
    blob: bytes,
    where: str,
    seed: int = 0,
    context: int = 64,
    stride: int | None = None,
    name: str = "text",
) -> DatasetTask:
    """The completion task on ``blob`` (``where`` names its source in errors)."""
    if context < 1:
        raise TaskError(f"{name}: context must be >= 1, got {context}")
    stride = context if stride is None else stride
    if stride < 1:
        raise TaskError(f"{name}: stride must be >= 1, got {stride}")
    need = min_bytes(context)
    if len(blob) < need:
        raise TaskError(
            f"{name}: {where} has {len(blob)} bytes, too short for context {context}: it needs at "
            f"least {need} (train, validation and test each need a window of {context + 1} bytes)"
        )
    a, b = split_bounds(len(blob))
    codec = BytesCodec(length=context)
    return DatasetTask(
        name=name,
        kind="completion",
        inputs={"text": SignalSpec(1, None, SignalMeta("text", vocab=BytesCodec.VOCAB))},
        outputs={"next": SignalSpec(BytesCodec.VOCAB, None, SignalMeta("text"))},
        train=windows(blob[:a], context, stride),
        val=windows(blob[a:b], context, context),
        test=windows(blob[b:], context, context),
        codecs={"text": codec.to_dict(), "next": BytesCodec().to_dict()},
        settings={
            "context": context,
            "stride": stride,
            "split": list(TEXT_SPLIT),
            "bytes": len(blob),
            "order0_entropy": round(order0_entropy(blob), 6),
            "seed": seed,
        },
    )


__all__ = ["bytes_task", "min_bytes", "order0_entropy", "split_bounds", "text_task", "windows"]
