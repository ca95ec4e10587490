"""Tasks that need no files: XOR and the 8×8 handwritten digits (engine.datasets.digits)."""

from __future__ import annotations

import numpy as np
import torch

from openbrains.engine.signal import SignalMeta, SignalSpec
from openbrains.engine.tasks.base import DatasetTask, Split

DIGITS_VAL_FRACTION = 0.2


def xor_task() -> DatasetTask:
    """The four XOR points as a two-class problem (train = validation = test: it is a toy)."""
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]).unsqueeze(1)
    y = torch.tensor([0, 1, 1, 0])
    split = Split({"x": x}, y)
    return DatasetTask(
        name="xor",
        kind="classification",
        inputs={"x": SignalSpec(2, 1)},
        outputs={"y": SignalSpec(2, 1)},
        train=split,
        val=split,
        test=split,
        codecs={"x": {"kind": "vector", "features": 2}},
        classes=["0", "1"],
    )


def digits_task(seed: int = 0, labelled: int = 0, views: bool = True) -> DatasetTask:
    """8×8 digits with scikit-learn's example split: first half train, second half test.

    Validation is the last 20 % of the train half, a contiguous block, so test images never
    steer selection and validation, like test, comes from writers the brains did not train
    on: a random 20 % rewarded memorising the training writers (docs/decisions.md). ``seed``
    is kept for the registry's signature; the split does not depend on it.
    Each pixel is one patch: a grid of 8×8 steps with one channel, scaled to [0, 1].
    ``labelled`` > 0 keeps only that many training examples, the first of each class in
    turn (a person with a few labelled images; semi-supervised benchmarks): validation
    and test stay as they are. ``views`` off: its brains answer for the image alone, not
    for the mean over its one-pixel shifts too (engine.views).
    """
    from openbrains.engine.datasets.digits import digits

    pixels, labels = digits()
    images = pixels.astype(np.float32) / 16.0
    half = len(images) // 2
    n_val = int(round(half * DIGITS_VAL_FRACTION))
    train_idx, val_idx = np.arange(half - n_val), np.arange(half - n_val, half)
    if labelled > 0:
        train_idx = first_per_class(labels[train_idx], labelled)

    def split(idx: np.ndarray) -> Split:
        x = torch.from_numpy(images[idx].reshape(len(idx), 64, 1))
        return Split({"image": x}, torch.from_numpy(labels[idx]))

    test_idx = np.arange(half, len(images))
    return DatasetTask(
        name="digits",
        kind="classification",
        inputs={"image": SignalSpec(1, 64, SignalMeta("image", grid=(8, 8)))},
        outputs={"label": SignalSpec(10, 1)},
        train=split(train_idx),
        val=split(val_idx),
        test=split(test_idx),
        codecs={
            "image": {
                "kind": "image",
                "patch": 1,
                "channels": 1,
                "height": 8,
                "width": 8,
                "scale": 16.0,
            }
        },
        settings={
            "validation": DIGITS_VAL_FRACTION,
            "seed": seed,
            **({"labelled": labelled} if labelled > 0 else {}),
            **({} if views else {"views": False}),
        },
        classes=[str(i) for i in range(10)],
    )


def first_per_class(labels: np.ndarray, n: int) -> np.ndarray:
    """Positions of ``n`` examples taken round-robin over the classes, each class's first
    ones first (so 50 of ten classes is the first five of each), in their original order."""
    by_class = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    picked: list[int] = []
    depth = 0
    while len(picked) < n and any(depth < len(ix) for ix in by_class):
        for ix in by_class:
            if depth < len(ix) and len(picked) < n:
                picked.append(int(ix[depth]))
        depth += 1
    return np.array(sorted(picked), dtype=np.int64)
