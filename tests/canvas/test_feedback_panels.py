"""The rating and live panels as real widgets (offscreen Qt, pytest-qt): plain data in,
signals out, sliders moved and buttons clicked the way a person would."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from openbrains.canvas.live import LivePanel, as_item, percentile
from openbrains.canvas.media import image_array, summary
from openbrains.canvas.rating import NEUTRAL, RatingPanel

ROOT = Path(__file__).resolve().parents[2]


def image_item(side: int = 8) -> dict:
    img = np.zeros((side, side, 3), np.uint8)
    img[: side // 2] = (255, 0, 0)
    return {
        "kind": "image",
        "width": side,
        "height": side,
        "channels": 3,
        "data": base64.b64encode(img.tobytes()).decode(),
    }


def audio_item(rate: int = 8000) -> dict:
    wave = np.sin(np.linspace(0, 100, rate // 4)).astype("<f4")
    return {
        "kind": "audio",
        "rate": rate,
        "samples": len(wave),
        "data": base64.b64encode(wave.tobytes()).decode(),
    }


def batch() -> dict:
    return {
        "batch": "b1",
        "input_id": "val:3",
        "input": image_item(),
        "expected": "left",
        "candidates": [
            {"individual": 4, "output": {"kind": "label", "label": "left", "p": 0.9}},
            {"individual": 7, "output": {"kind": "text", "text": "once upon a time"}},
            {"individual": 9, "output": audio_item()},
        ],
    }


def test_rating_panel_sends_one_score_per_candidate(qtbot) -> None:
    panel = RatingPanel()
    qtbot.addWidget(panel)
    panel.show()
    assert not panel.submit_button.isEnabled()
    panel.set_batch(batch())
    assert [c.individual for c in panel.columns] == [4, 7, 9]
    assert panel.input_view.picture.pixmap() is not None
    assert "left" in panel.expected.text()
    assert panel.columns[0].view.text.text() == "left"
    assert panel.columns[1].view.text.text() == "once upon a time"
    first, second, third = (c.slider for c in panel.columns)
    for _ in range(3):  # keyboard steps, as with arrow keys
        qtbot.keyClick(first, Qt.Key.Key_Right)
    qtbot.keyClick(second, Qt.Key.Key_Home)
    qtbot.keyClick(third, Qt.Key.Key_End)
    assert panel.columns[0].value.text() == str(NEUTRAL + 3)
    with qtbot.waitSignal(panel.ratingsSubmitted) as sent:
        qtbot.mouseClick(panel.submit_button, Qt.MouseButton.LeftButton)
    assert sent.args[0] == {
        "batch": "b1",
        "input_id": "val:3",
        "ratings": [
            {"individual": 4, "score": 8},
            {"individual": 7, "score": 0},
            {"individual": 9, "score": 10},
        ],
    }
    assert not panel.submit_button.isEnabled()  # one submission per batch
    with qtbot.waitSignal(panel.playRequested) as played:
        qtbot.mouseClick(panel.columns[2].view.play, Qt.MouseButton.LeftButton)
    wave, rate = played.args
    assert rate == 8000 and len(wave) == 2000 and wave.dtype == np.float32
    with qtbot.waitSignal(panel.nextRequested):
        qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    panel.set_batch({**batch(), "candidates": batch()["candidates"][:2], "batch": "b2"})
    assert len(panel.columns) == 2 and panel.submit_button.isEnabled()
    assert all(c.score() == NEUTRAL for c in panel.columns)  # fresh sliders


def test_rating_panel_says_when_there_is_nothing_to_rate(qtbot) -> None:
    panel = RatingPanel()
    qtbot.addWidget(panel)
    panel.set_batch({"batch": "x", "input_id": "", "input": None, "candidates": []})
    assert "No candidates" in panel.message.text() and not panel.submit_button.isEnabled()
    panel.show_message("no run is open", error=True)
    assert "no run" in panel.message.text()


def test_live_panel_shows_outputs_and_latency(qtbot) -> None:
    panel = LivePanel()
    qtbot.addWidget(panel)
    panel.show()
    for i, ms in enumerate([1.0, 2.0, 3.0, 4.0, 40.0]):
        panel.show_step(
            {
                "index": i,
                "latency_ms": ms,
                "input": image_item() if i == 0 else None,
                "outputs": {"label": {"label": "yes", "p": 0.75}, "next": "é", "level": 0.5},
            }
        )
    assert panel.running and panel.start_button.text() == "Stop"
    assert set(panel.views) == {"label", "next", "level"}
    assert panel.views["label"].text.text() == "yes"
    assert panel.views["label"].bar.value() == 750
    assert panel.views["next"].text.text() == "é" and panel.views["level"].text.text() == "0.5"
    assert "p50 3.00" in panel.latency_text.text() and "p99 40.00" in panel.latency_text.text()
    assert panel.latency.value() == 800  # 40 ms of a 50 ms meter
    assert panel.input_view.picture.pixmap() is not None


def test_live_panel_asks_for_start_stop_recording_and_text(qtbot) -> None:
    panel = LivePanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.source.setEditText("camera:/tmp/cam.avi")
    with qtbot.waitSignal(panel.startRequested) as start:
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert start.args == ["camera:/tmp/cam.avi"]
    qtbot.keyClicks(panel.label, "left")
    with qtbot.waitSignal(panel.recordPressed) as pressed:
        qtbot.mousePress(panel.record_button, Qt.MouseButton.LeftButton)
    assert pressed.args == ["left", "camera:/tmp/cam.avi"]
    with qtbot.waitSignal(panel.recordReleased):
        qtbot.mouseRelease(panel.record_button, Qt.MouseButton.LeftButton)
    panel.set_recording(4, "left")
    assert "4 samples" in panel.record_text.text()
    panel.recording_done(0, "left", "camera 7 could not be opened")
    assert "camera 7" in panel.message.text()
    panel.source.setEditText("text")
    panel.set_running(True)
    qtbot.keyClicks(panel.typed, "hello")
    with qtbot.waitSignal(panel.textEntered) as typed:
        qtbot.keyClick(panel.typed, Qt.Key.Key_Return)
    assert typed.args == ["hello\n"]
    with qtbot.waitSignal(panel.stopRequested):
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)


def test_plain_data_helpers() -> None:
    img = image_array(image_item(4))
    assert img.shape == (4, 4, 3) and img[0, 0].tolist() == [255, 0, 0]
    nested = {"kind": "image", "width": 2, "height": 1, "channels": 1, "data": [[0, 255]]}
    assert image_array(nested).shape == (1, 2, 1)
    assert summary({"kind": "label", "label": "a", "p": 0.5}) == "a (50%)"
    assert as_item({"label": "x", "p": 0.2})["kind"] == "label" and as_item(3)["value"] == 3.0
    assert percentile([5.0, 1.0, 3.0], 0.5) == 3.0 and percentile([], 0.9) == 0.0


def test_canvas_panels_do_not_import_torch() -> None:
    code = (
        "import sys, openbrains.canvas.live, openbrains.canvas.rating, openbrains.canvas.media; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
