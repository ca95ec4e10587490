"""Image shift augmentation moves pixels, not patches, and never leaks into evaluation."""

from __future__ import annotations

import numpy as np
import torch

from openbrains.engine.codecs import ImageCodec
from openbrains.engine.tasks.builtin import digits_task, xor_task
from openbrains.engine.train.augment import ShiftSpec, random_shift, shift_specs


def test_shift_moves_each_example_by_at_most_the_limit() -> None:
    img = np.zeros((64, 8, 12, 3), np.uint8)
    img[:, 3, 5, :] = 255
    codec = ImageCodec(patch=2, channels=3)
    x = codec.encode(img).data
    y = random_shift(x, ShiftSpec((4, 6), 2, 3, 1), torch.Generator().manual_seed(0))
    back = codec.decode(y, grid=(4, 6))
    spots = {tuple(np.argwhere(back[i, :, :, 0] > 0.5)[0]) for i in range(64)}
    assert spots <= {(3 + dy, 5 + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)}
    assert len(spots) > 3  # examples really move independently
    assert np.isclose(back.sum(), 64 * 3)  # nothing but the one pixel, moved


def test_zero_shift_is_identity_and_specs_follow_the_codec() -> None:
    x = torch.rand(5, 16, 4)
    assert torch.equal(random_shift(x, ShiftSpec((4, 4), 2, 1, 0), torch.Generator()), x)
    assert shift_specs(digits_task()) == {"image": ShiftSpec((8, 8), 1, 1, 1)}
    assert shift_specs(xor_task()) == {}
    task = digits_task()
    task.settings["augment"] = "none"
    assert shift_specs(task) == {}
