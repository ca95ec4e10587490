"""A full disk stops a run with one line and exit 2, keeps the archive intact, and the run
resumes once there is room again; a low-space warning comes first. Tested on a real small
file system (a tmpfs, where this process may mount one) and, everywhere, by injecting the
error SQLite raises into a real archive."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from openbrains.app.cli import main
from openbrains.engine import diskspace
from openbrains.engine.diskspace import DiskFullError, SpaceWatch
from openbrains.engine.run import Run, RunSettings
from openbrains.engine.store import Archive
from tests.cli_kit import ob

FULL = "database or disk is full"


class FullAfter:
    """A real SQLite connection that runs out of room after ``allowed`` new individuals:
    the statement fails as SQLite fails on a full disk, everything else goes through."""

    def __init__(self, db: sqlite3.Connection, allowed: int) -> None:
        self._db, self.left = db, allowed

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if sql.startswith("INSERT INTO individuals"):
            if self.left <= 0:
                raise sqlite3.OperationalError(FULL)
            self.left -= 1
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self._db, name)


def xor_run(run_dir: Path) -> Run:
    return Run(run_dir, RunSettings(task={"name": "xor"}, workers=0, population=4))


def test_a_full_disk_during_a_run_is_a_clean_stop(tmp_path: Path) -> None:
    run = xor_run(tmp_path / "run")
    try:
        run.archive.db = FullAfter(run.archive.db, 3)  # type: ignore[assignment]
        with pytest.raises(DiskFullError) as err:
            run.run(max_individuals=10)
    finally:
        run.close()
    message = str(err.value)
    assert message.startswith("disk full: ") and f"MB free in {tmp_path / 'run'}" in message
    assert "the archive is intact, 3 individuals kept" in message
    with Archive(tmp_path / "run", readonly=True) as archive:
        assert archive.count() == 3 and archive.integrity_ok()


def test_the_command_line_says_it_in_one_line_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = str(tmp_path / "run")
    real_add = Archive.add

    def add_on_a_disk_that_fills(self: Archive, *args: object, **kw: object) -> int:
        if not isinstance(self.db, FullAfter):
            self.db = FullAfter(self.db, 2)  # type: ignore[assignment]
        return real_add(self, *args, **kw)

    monkeypatch.setattr(Archive, "add", add_on_a_disk_that_fills)
    args = ["run", "--task", "xor", "--workers", "0", "--run-dir", run_dir, "--quiet"]
    code = main([*args, "--individuals", "6"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("openbrains run: disk full: ") and "2 individuals kept" in err, err
    monkeypatch.setattr(Archive, "add", real_add)  # room again
    assert main([*args, "--individuals", "3"]) == 0
    with Archive(Path(run_dir), readonly=True) as archive:
        assert archive.count() == 5


def test_opening_an_archive_on_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A restart used to end in the same traceback: now the same one line."""
    Archive(tmp_path / "run").close()
    real_connect = sqlite3.connect

    class FullConnection:
        def __init__(self, db: sqlite3.Connection) -> None:
            self._db = db

        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
            if sql.startswith(("INSERT", "UPDATE", "CREATE", "PRAGMA journal_mode")):
                raise sqlite3.OperationalError(FULL)
            return self._db.execute(sql, *args)

        def executescript(self, sql: str) -> sqlite3.Cursor:
            raise sqlite3.OperationalError(FULL)

        def __getattr__(self, name: str) -> object:
            return getattr(self._db, name)

    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: FullConnection(real_connect(*a, **k)))
    with pytest.raises(DiskFullError, match="the archive is intact, 0 individuals kept"):
        Archive(tmp_path / "run")


def test_low_space_warns_once_then_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    free = {"bytes": 300 * diskspace.MB}
    monkeypatch.setattr(diskspace, "free_bytes", lambda folder: free["bytes"])
    events: list[dict] = []
    watch = SpaceWatch(tmp_path, events.append)
    watch.check(lambda: 7)
    assert events == []
    free["bytes"] = 100 * diskspace.MB
    watch.check(lambda: 7)
    watch.check(lambda: 7)
    assert len(events) == 1 and events[0]["free_mb"] == 100
    assert "low disk space: 100 MB free" in events[0]["message"]
    free["bytes"] = diskspace.RESERVE_BYTES - 1
    with pytest.raises(
        DiskFullError, match=r"3 MB free in .*; the archive is intact, 7 individuals kept"
    ):
        watch.check(lambda: 7)


def test_disk_full_errors_are_recognised(tmp_path: Path) -> None:
    assert diskspace.is_disk_full(sqlite3.OperationalError(FULL))
    assert diskspace.is_disk_full(OSError(28, "No space left on device"))
    assert not diskspace.is_disk_full(sqlite3.OperationalError("no such table: x"))
    assert not diskspace.is_disk_full(sqlite3.OperationalError("disk I/O error"), tmp_path)
    assert not diskspace.is_disk_full(ValueError(FULL))


# ----- on a real, small file system --------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 12 MB tmpfs mounted for this test (root only; skipped with the reason elsewhere)."""
    mount = shutil.which("mount")
    point = tmp_path / "disk"
    point.mkdir()
    if mount is None or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    made = subprocess.run(
        [mount, "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(point)],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def fill(disk: Path) -> Path:
    """Write zeros until the file system says it is full."""
    filler = disk / "filler"
    block = bytes(64 * 1024)
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(block)
        except OSError as exc:
            assert exc.errno == 28, exc
    return filler


def test_on_a_small_tmpfs(small_disk: Path) -> None:
    run_dir = small_disk / "run"
    common = ["run", "--task", "xor", "--workers", "0", "--run-dir", str(run_dir), "--quiet"]
    first = ob(*common, "--individuals", "3")
    assert first.returncode == 0, first.stderr
    assert "warning: low disk space" in first.stderr and "MB free in" in first.stderr

    # the disk fills while a run is going: it stops with one line, exit 2
    proc = subprocess.Popen(
        [sys.executable, "-m", "openbrains", *common, "--minutes", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with Archive(run_dir, readonly=True) as archive:
            if archive.count() >= 5:
                break
        time.sleep(0.5)
    filler = fill(small_disk)
    _out, err = proc.communicate(timeout=240)
    lines = [line for line in err.strip().splitlines() if not line.startswith("warning:")]
    assert proc.returncode == 2, err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("openbrains run: disk full: ") and str(run_dir) in lines[0]
    with Archive(run_dir, readonly=True) as archive:
        kept = archive.count()
        assert archive.integrity_ok()
    assert f"the archive is intact, {kept} individuals kept" in lines[0]

    # a restart on the full disk: the same line, nothing lost
    again = ob(*common, "--individuals", "2")
    assert again.returncode == 2 and f"{kept} individuals kept" in again.stderr, again.stderr
    assert again.stderr.count("Traceback") == 0

    # room again: it resumes where it was
    filler.unlink()
    resumed = ob(*common, "--individuals", "2")
    assert resumed.returncode == 0, resumed.stderr
    with Archive(run_dir, readonly=True) as archive:
        assert archive.count() == kept + 2 and archive.integrity_ok()
