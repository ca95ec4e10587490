"""The live and rating docks installed on a window and wired to a real engine process:
a person rates candidates with the sliders, runs the champion on a video, and records
examples with the hold button; the archive shows that it all arrived."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

from openbrains.app.client import EngineClient
from openbrains.app.panels import install_live_and_rating_docks
from openbrains.engine.store import Archive
from tests.engine import feedback_data as fd
from tests.nodes import media

ROOT = Path(__file__).resolve().parents[2]


def count(run_dir: Path, what: str) -> int:
    archive = Archive(run_dir, readonly=True)
    try:
        return len(archive.ratings()) if what == "ratings" else len(archive.samples())
    finally:
        archive.close()


@pytest.mark.timeout(300)
def test_docks_drive_a_real_engine(qtbot: Any, tmp_path: Path) -> None:
    data = fd.image_folder(tmp_path / "img")
    video = tmp_path / "cam.avi"
    media.moving_square_video(video, "MJPG", frames=40)
    window = QMainWindow()
    qtbot.addWidget(window)
    client = EngineClient(window)
    client.proc.setWorkingDirectory(str(ROOT))
    docks = install_live_and_rating_docks(window, client)
    window.show()
    assert {d.objectName() for d in window.findChildren(QDockWidget)} >= {"LiveDock", "RatingDock"}
    seen: list[tuple[str, dict]] = []
    client.event.connect(lambda kind, d: seen.append((kind, d)))
    replies: list[dict] = []
    run_dir = tmp_path / "run"
    try:
        client.send(
            "open_run", replies.append, run_dir=str(run_dir), settings=fd.images_settings(data)
        )
        client.send("start", replies.append)
        qtbot.waitUntil(lambda: sum(k == "individual" for k, _ in seen) >= 3, timeout=120_000)
        assert all(r["ok"] for r in replies), replies

        # rating: ask for candidates, move the sliders, submit; the next input follows
        rating = docks.rating
        qtbot.mouseClick(rating.next_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(rating.columns) == 3, timeout=60_000)
        first = rating.batch["batch"]
        qtbot.keyClick(rating.columns[0].slider, Qt.Key.Key_End)
        qtbot.keyClick(rating.columns[1].slider, Qt.Key.Key_Home)
        qtbot.mouseClick(rating.submit_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: count(run_dir, "ratings") == 3, timeout=60_000)
        qtbot.waitUntil(lambda: rating.batch["batch"] != first, timeout=60_000)
        archive = Archive(run_dir, readonly=True)
        try:
            assert sorted(r.score for r in archive.ratings()) == [0.0, 5.0, 10.0]
        finally:
            archive.close()

        # live: the champion on a video, outputs and latency in the panel
        live = docks.live
        live.source.setEditText(f"camera:{video}")
        qtbot.mouseClick(live.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(live.latencies) >= 3, timeout=60_000)
        assert live.views["label"].text.text() in ("left", "right")
        assert "p99" in live.latency_text.text()
        qtbot.waitUntil(lambda: not live.running, timeout=60_000)  # the video ended

        # hold to record (live mode off: the chosen source is recorded directly)
        qtbot.keyClicks(live.label, "right")
        qtbot.mousePress(live.record_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "recorded" in live.record_text.text(), timeout=60_000)
        qtbot.mouseRelease(live.record_button, Qt.MouseButton.LeftButton)
        assert count(run_dir, "samples") == 40 and "40 samples" in live.record_text.text()

        # a camera that is not there: a message in the panel, nothing else stops
        live.source.setEditText("camera:7")
        qtbot.mouseClick(live.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "camera 7" in live.message.text(), timeout=60_000)
        assert not live.running
        born = sum(k == "individual" for k, _ in seen)
        qtbot.waitUntil(lambda: sum(k == "individual" for k, _ in seen) > born, timeout=60_000)
    finally:
        client.stop()
