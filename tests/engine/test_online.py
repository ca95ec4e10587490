"""Online learning: recording into a running search. The run notices new samples between
births, ships the refreshed task to its worker processes, rescores the living on the
refreshed validation split, and the next candidates train on the larger data set, all
asserted from the archive. A recording source that fails leaves the run running."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from openbrains.engine.record import RecordError, open_for_plan, plan_of, record
from openbrains.engine.run import Run, RunSettings, status_of
from openbrains.engine.store import Archive
from openbrains.nodes.sources import SourceError
from openbrains.nodes.sources.text import TextSource
from tests.engine import feedback_data as fd
from tests.nodes import media

ROOT = Path(__file__).resolve().parents[2]


def wait_for(cond: Callable[[], bool], timeout: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def trained_on(run_dir: Path, size: int) -> int:
    """Candidates in the archive that trained on ``size`` examples (read-only, like a GUI)."""
    archive = Archive(run_dir, readonly=True)
    try:
        return sum(1 for r in archive.records() if r.train_size == size)
    finally:
        archive.close()


def start(run: Run) -> threading.Thread:
    thread = threading.Thread(target=run.run, kwargs={"minutes": 5}, daemon=True)
    thread.start()
    return thread


def test_recording_during_a_run_reaches_the_next_candidates(tmp_path: Path) -> None:
    data = fd.image_folder(tmp_path / "img")
    video = tmp_path / "cam.avi"
    media.moving_square_video(video, "MJPG", frames=12)
    run = Run(tmp_path / "run", RunSettings(**fd.images_settings(data, workers=1)))
    base = len(run.task.train)
    thread = start(run)
    try:
        wait_for(lambda: run.births >= 3, what="three individuals before recording")
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "openbrains",
                "record",
                str(tmp_path / "run"),
                "--source",
                f"camera:{video}",
                "--label",
                "left",
                "--chunks",
                "10",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        assert "recorded 10 samples of 'left'" in out.stdout
        assert "8 training and 2 validation" in out.stdout
        wait_for(lambda: trained_on(tmp_path / "run", base + 8) >= 3, what="three new candidates")
    finally:
        run.stop()
        thread.join(timeout=60)
    try:
        recs = [r for r in run.archive.records() if r.status == "done"]
        sizes = [r.train_size for r in recs]
        # samples commit one by one, so a refresh may have caught part of the take first;
        # either way the data only grows, and once a candidate saw all of it, all later did
        assert sizes[0] == base and sizes == sorted(sizes)
        first_new = sizes.index(base + 8)
        assert set(sizes[first_new:]) == {base + 8} and len(recs) - first_new >= 3
        assert all(r.trained_version == 10 for r in recs[first_new:])
        assert all(r.trained_version == 0 for r in recs if r.train_size == base)
        # comparable scores: the living are all scored on the refreshed validation data
        alive = [r for r in recs if r.alive]
        assert alive and all(r.scored_version == 10 for r in alive)
        assert run.best is not None and run.best.scored_version == 10
        events = run.archive.db.execute("SELECT data FROM events WHERE kind='data'").fetchall()
        assert events and '"version":10' in events[-1][0]
        assert status_of(tmp_path / "run")["samples"] == {"left": {"train": 8, "val": 2}}
    finally:
        run.close()


class BrokenStream(io.BytesIO):
    """A text stream (a pipe, a serial port) that fails after two lines."""

    def __init__(self) -> None:
        super().__init__(b"hello there, how are you today?\nfine, and you, my friend?\n")
        self.lines = 0

    def readline(self, *args: object) -> bytes:
        self.lines += 1
        if self.lines > 2:
            raise OSError("device disconnected")
        return super().readline()


def test_a_failing_recording_source_leaves_the_run_running(tmp_path: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_text("a small text to learn to continue, byte by byte. " * 30)
    settings = RunSettings(
        task={"name": "text", "data": str(text), "context": 16},
        workers=0,
        population=4,
        budget_steps=10,
        sibling_rate=0.0,
    )
    run = Run(tmp_path / "run", settings)
    thread = start(run)
    try:
        plan = plan_of(tmp_path / "run")
        wait_for(lambda: run.births >= 2, what="two individuals")
        with pytest.raises(SourceError, match="no such file"):
            record(open_for_plan(f"follow:{tmp_path / 'gone.log'}", plan), run.run_dir, "")
        with pytest.raises(RecordError, match="gives image"):
            open_for_plan(f"camera:{tmp_path}", plan)
        source = TextSource(stream=BrokenStream(), name="serial")
        with pytest.raises(RecordError, match=r"device disconnected.*2 samples recorded"):
            record(source, run.run_dir, "", chunks=10)
        born = run.births
        wait_for(lambda: run.births >= born + 3, what="births after the failures")
        wait_for(lambda: run.data_version == 2, what="the two kept samples")
        assert thread.is_alive()
    finally:
        run.stop()
        thread.join(timeout=60)
        run.close()
    archive = Archive(tmp_path / "run", readonly=True)
    try:
        assert [s.data[:5] for s in archive.samples()] == [b"hello", b"fine,"]
    finally:
        archive.close()


def test_samples_recorded_while_stopped_are_there_on_resume(tmp_path: Path) -> None:
    data = fd.image_folder(tmp_path / "img")
    run = Run(tmp_path / "run", RunSettings(**fd.images_settings(data)))
    base = len(run.task.train)
    try:
        run.run(max_individuals=2)
    finally:
        run.close()
    video = tmp_path / "cam.avi"
    media.moving_square_video(video, "MJPG", frames=5)
    plan = plan_of(tmp_path / "run")
    assert record(open_for_plan(f"camera:{video}", plan), tmp_path / "run", "right") == [
        1,
        2,
        3,
        4,
        5,
    ]
    again = Run(tmp_path / "run", None)
    try:
        assert again.data_version == 5 and len(again.task.train) == base + 4
        again.run(max_individuals=2)
        newest = again.archive.records()[-2:]
        assert [r.train_size for r in newest] == [base + 4] * 2
        assert [r.trained_version for r in newest] == [5, 5]
    finally:
        again.close()


def test_a_streamed_file_that_grows_is_picked_up_between_births(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("".join(f"12:00:{i:02d} INFO request {i} ok\n" for i in range(40)))
    settings = RunSettings(
        task={"name": "stream", "data": str(log), "context": 16},
        workers=1,
        population=3,
        budget_steps=10,
        sibling_rate=0.0,
    )
    run = Run(tmp_path / "run", settings)
    before = len(run.task.train)
    thread = start(run)
    try:
        wait_for(lambda: run.births >= 2, what="two individuals")
        with log.open("a") as f:
            f.write("".join(f"12:01:{i:02d} WARN slow request {i}\n" for i in range(60)))
        wait_for(lambda: len(run.task.train) > before, what="the grown file")
        grown = len(run.task.train)
        wait_for(lambda: trained_on(tmp_path / "run", grown) >= 2, what="candidates on it")
    finally:
        run.stop()
        thread.join(timeout=60)
        run.close()
