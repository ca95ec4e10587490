"""The samples window for real: a tiny denoiser trained a few steps, saved to a .graph,
sampled on a background thread, every denoising step shown in the image grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtWidgets import QMessageBox, QWidget

from openbrains.app.samples_window import SamplesWindow, open_samples_window
from openbrains.engine.format import load_brain, save_brain
from openbrains.engine.taskrecord import TaskRecord
from openbrains.engine.tasks.denoise import denoise_task, sample_images
from openbrains.engine.train.trainer import Budget, train

ROOT = Path(__file__).resolve().parents[2]
STEPS = 25  # a short schedule keeps the loop fast (β reaches 20/steps, so it must exceed 20)


@pytest.fixture(scope="module")
def denoiser(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The denoise sample project's seed brain, trained a few steps on a 25-step task."""
    torch.set_num_threads(1)
    _graph, brain = load_brain(ROOT / "sample_graphs" / "denoise.graph")
    task = denoise_task(steps=STEPS, draws=1)
    result = train(brain.train(), task, Budget(steps=20), {"lr": 3e-3, "batch_size": 32})
    assert not result.diverged, result.reason
    brain.graph.tasks = {"denoise": TaskRecord("denoise", settings=dict(task.settings))}
    path = tmp_path_factory.mktemp("samples") / "denoiser.graph"
    save_brain(path, brain.eval())
    return path


def test_on_step_keeps_the_default_samples(denoiser: Path) -> None:
    _graph, brain = load_brain(denoiser)
    seen: list[tuple[int, np.ndarray]] = []
    plain = sample_images(brain, {"steps": STEPS}, 3, seed=2)
    watched = sample_images(
        brain, {"steps": STEPS}, 3, seed=2, on_step=lambda d, x: seen.append((d, x))
    )
    assert np.array_equal(plain, watched)
    assert [d for d, _ in seen] == list(range(STEPS + 1))
    assert np.array_equal(seen[-1][1], plain)


def test_window_shows_every_step(qtbot, denoiser: Path) -> None:
    window = SamplesWindow(denoiser, count=5, seed=1)
    qtbot.addWidget(window)
    window.show()
    assert window.running  # the loop runs off the GUI thread; the window is already up
    qtbot.waitUntil(lambda: window.grid.count > 0, timeout=60_000)
    grid = window.grid
    assert grid.count == 5 and grid.frame_count == STEPS + 1
    assert grid.step == STEPS and "done" in grid.step_text()
    final = np.stack(grid.current_images())
    _graph, brain = load_brain(denoiser)
    want = sample_images(brain, {"steps": STEPS}, 5, seed=1)
    assert np.array_equal(final, (want * 255).round().astype(np.uint8))
    grid.set_step(0)
    assert "noise" in grid.step_text()
    noise = np.stack(grid.current_images())
    assert noise.shape == final.shape and not np.array_equal(noise, final)
    distinct = {np.stack(f).tobytes() for f in grid.frames}
    assert len(distinct) > STEPS // 2  # the frames change as the steps go
    with qtbot.waitSignal(window.samplesShown, timeout=60_000):
        window.new_samples()
    assert window.seed == 2 and not np.array_equal(np.stack(window.grid.frames[-1]), final)


def test_a_graph_that_is_not_a_denoiser_gets_a_message(qtbot, denoiser: Path) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    assert open_samples_window(parent, ROOT / "sample_graphs" / "xor.graph") is None
    box = parent.findChild(QMessageBox)
    assert box is not None and "not a denoiser" in box.text() and "xor.graph" in box.text()
    box.close()
    window = open_samples_window(parent, denoiser, count=2)
    assert window is not None and window.isVisible() and window.isWindow()
    qtbot.waitUntil(lambda: window.grid.count == 2, timeout=60_000)
    window.close()


def test_file_menu_action_opens_the_window(
    qtbot, denoiser: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QFileDialog

    from openbrains.app.main import MainWindow

    monkeypatch.setenv("OPENBRAINS_HOME", str(tmp_path / "home"))
    main = MainWindow(start_engine=False)
    qtbot.addWidget(main)
    file_menu = main.menuBar().actions()[0].menu()
    texts = [a.text() for a in file_menu.actions()]
    play = texts.index("&Play a game against a brain…")
    assert texts[play + 1] == "&Generate images from a denoiser…"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(denoiser), ""))
    file_menu.actions()[play + 1].trigger()
    window = main.samples_window
    assert window is not None and window.path == denoiser
    qtbot.waitUntil(lambda: window.grid.count == 8, timeout=60_000)
    window.close()
    main.project.dirty = False
    main.close()
