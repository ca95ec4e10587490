"""The image grid as a real widget (offscreen Qt, pytest-qt): plain numpy arrays and
nested lists in, tiles drawn at whole-pixel scale, a slider that scrubs the steps."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor

from openbrains.canvas.imagegrid import ImageGrid, as_image


def frames(steps: int, n: int, side: int = 8) -> np.ndarray:
    """``[steps, n, side, side]`` uint8: frame k is all grey level 20·k (+ image index)."""
    out = np.zeros((steps, n, side, side), dtype=np.uint8)
    for k in range(steps):
        for i in range(n):
            out[k, i] = 20 * k + i
    return out


def test_single_frame_from_nested_lists_has_no_slider(qtbot) -> None:
    grid = ImageGrid(title="digits")
    qtbot.addWidget(grid)
    grid.resize(400, 400)
    grid.show()
    white = [[255] * 4 for _ in range(4)]
    rgb = np.zeros((4, 4, 3), dtype=np.uint8)
    rgb[..., 0] = 200  # red
    grid.set_images([white, rgb.tolist(), np.zeros((4, 4), np.uint8)])
    assert grid.count == 3 and grid.frame_count == 1
    assert grid.title.isVisible() and grid.title.text() == "digits"
    assert not grid.slider.isVisible() and not grid.step_label.isVisible()
    assert grid.tiles.columns == 2  # ⌈√3⌉
    image = grid.tiles.grab().toImage()
    center = grid.tiles.tile_rect(0).center()
    assert image.pixelColor(center) == QColor(255, 255, 255)
    assert image.pixelColor(grid.tiles.tile_rect(1).center()) == QColor(200, 0, 0)
    assert image.pixelColor(grid.tiles.tile_rect(2).center()) == QColor(0, 0, 0)


def test_scrubbing_steps(qtbot) -> None:
    grid = ImageGrid()
    qtbot.addWidget(grid)
    grid.resize(500, 500)
    grid.show()
    data = frames(5, 4)
    grid.set_frames(data, labels=[f"t={k}" for k in range(5)])
    assert grid.count == 4 and grid.frame_count == 5
    assert grid.slider.isVisible() and grid.slider.maximum() == 4
    assert grid.step == 4 and grid.step_text() == "t=4"  # the finished images first
    assert np.array_equal(np.stack(grid.current_images()), data[4])
    seen: list[int] = []
    grid.stepChanged.connect(seen.append)
    grid.slider.setValue(1)  # as a drag would
    assert seen == [1] and grid.step_text() == "t=1"
    assert np.array_equal(np.stack(grid.current_images()), data[1])
    drawn = grid.tiles.grab().toImage().pixelColor(grid.tiles.tile_rect(3).center())
    assert drawn == QColor(23, 23, 23)  # 20·1 + 3
    grid.set_step(99)  # clamped
    assert grid.step == 4
    grid.set_frames(data, step=0)
    assert grid.step == 0 and grid.step_text() == "step 0 / 4"
    grid.clear()
    assert grid.count == 0 and grid.current_images() == []


def test_bad_images_are_refused_where_they_are_given(qtbot) -> None:
    grid = ImageGrid()
    qtbot.addWidget(grid)
    with pytest.raises(ValueError, match="0…255"):
        grid.set_images([np.full((2, 2), 300)])
    with pytest.raises(ValueError, match="channels"):
        as_image(np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="same number"):
        grid.set_frames([[np.zeros((2, 2))], []])
    assert as_image([[1.0, 2.0]]).dtype == np.uint8
