"""`openbrains record` through the real sounddevice path (virtual microphone) and OpenCV,
and item 6 of the omnimodal issue: a missing or busy microphone or camera is one clear
line and exit 2, for `record` and `live` alike."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from openbrains.engine.run import Run, RunSettings
from openbrains.engine.store import Archive
from tests.engine import feedback_data as fd
from tests.nodes import media

ROOT = Path(__file__).resolve().parents[2]


def openbrains(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "openbrains", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line_exit_2(out: subprocess.CompletedProcess, *words: str) -> None:
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert all(w in lines[0] for w in words), lines[0]


@pytest.fixture(scope="module")
def audio_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("audio")
    run = Run(root / "run", RunSettings(**fd.audio_settings(fd.audio_folder(root / "wav"))))
    run.close()  # a run folder that knows what one example is; no training needed
    return root / "run"


@pytest.fixture(scope="module")
def image_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("images")
    run = Run(root / "run", RunSettings(**fd.images_settings(fd.image_folder(root / "img"))))
    run.close()
    return root / "run"


def test_record_from_a_virtual_microphone(tmp_path: Path, audio_run: Path) -> None:
    raw = media.write_raw_s16(
        tmp_path / "tone.raw", (fd.tone(300, seconds=3.0) * 32767).astype("int16")
    )
    home = tmp_path / "home"
    media.write_asoundrc(home, media.ASOUNDRC_CAPTURE.format(infile=raw))
    env = {**os.environ, "HOME": str(home)}
    out = openbrains(
        "record", str(audio_run), "--source", "mic", "--label", "low", "--chunks", "40", env=env
    )
    assert out.returncode == 0, out.stderr
    # 40 chunks of 32 ms = 1.28 s: two 0.5 s clips and a padded rest of 0.28 s
    assert "recorded 3 samples of 'low'" in out.stdout and "microphone" in out.stderr
    archive = Archive(audio_run, readonly=True)
    try:
        clips = [s for s in archive.samples() if s.label == "low"]
        assert [s.meta["samples"] for s in clips[-3:]] == [8000, 8000, 4480]
        assert all(s.meta["rate"] == 16000 and s.modality == "audio" for s in clips)
    finally:
        archive.close()


def test_record_without_a_microphone_is_one_clear_line(tmp_path: Path, audio_run: Path) -> None:
    home = tmp_path / "home"
    media.write_asoundrc(home, media.ASOUNDRC_BROKEN)
    out = openbrains(
        "record",
        str(audio_run),
        "--source",
        "mic",
        "--label",
        "low",
        env={**os.environ, "HOME": str(home)},
    )
    one_line_exit_2(out, "openbrains record:", "microphone")


def test_record_with_a_camera_that_is_not_there(image_run: Path) -> None:
    out = openbrains("record", str(image_run), "--source", "camera:7", "--label", "left")
    one_line_exit_2(out, "camera 7 could not be opened")


def test_record_refuses_what_the_run_cannot_learn(
    tmp_path: Path, image_run: Path, audio_run: Path
) -> None:
    one_line_exit_2(
        openbrains("record", str(image_run), "--source", "camera:7", "--label", "up"),
        "label 'up' is not a class",
        "left, right",
    )
    one_line_exit_2(
        openbrains("record", str(audio_run), "--source", f"camera:{tmp_path}", "--label", "low"),
        "gives image",
    )
    one_line_exit_2(
        openbrains("record", str(tmp_path / "none"), "--source", "mic", "--label", "x"),
        "not a run folder",
    )


def test_record_from_a_video_file(tmp_path: Path, image_run: Path) -> None:
    video = tmp_path / "cam.avi"
    media.moving_square_video(video, "MJPG", frames=8)
    out = openbrains("record", str(image_run), "--source", f"camera:{video}", "--label", "right")
    assert out.returncode == 0, out.stderr  # to the end of the video
    assert "recorded 8 samples of 'right'" in out.stdout


def test_live_with_a_camera_that_is_not_there() -> None:
    out = openbrains("live", str(ROOT / "sample_graphs" / "digits.graph"), "--source", "camera:7")
    one_line_exit_2(out, "openbrains live:", "camera 7 could not be opened")


def test_record_typed_text_into_a_text_run(tmp_path: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_text("some text to continue, byte by byte, again and again. " * 20)
    settings = RunSettings(task={"name": "text", "data": str(text), "context": 16}, workers=0)
    Run(tmp_path / "run", settings).close()
    out = subprocess.run(
        [sys.executable, "-m", "openbrains", "record", str(tmp_path / "run"), "--source", "text"],
        cwd=ROOT,
        input="the first line I type\nand a second one\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "recorded 2 samples of 'text'" in out.stdout  # a completion task needs no label
    archive = Archive(tmp_path / "run", readonly=True)
    try:
        assert [s.data for s in archive.samples()] == [
            b"the first line I type\n",
            b"and a second one\n",
        ]
    finally:
        archive.close()
