"""A real `openbrains run` killed with SIGKILL at random moments: the archive stays intact,
finished individuals are never lost, the run resumes, and no worker outlives its run."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20


def children_of(pid: int) -> set[int]:
    kids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            kids.add(int(entry.name))
    return kids


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def archive_state(run_dir: Path) -> tuple[str, int]:
    db = sqlite3.connect(run_dir / "run.sqlite")
    try:
        ok = db.execute("PRAGMA integrity_check").fetchone()[0]
        count = db.execute("SELECT COUNT(*) FROM individuals").fetchone()[0]
    finally:
        db.close()
    return ok, count


def finished_count(run_dir: Path) -> int:
    """Individuals in the archive, read without disturbing the writer (0 before it exists)."""
    path = run_dir / "run.sqlite"
    if not path.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("SELECT COUNT(*) FROM individuals").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def start_run(run_dir: Path, *extra: str) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "openbrains",
        "run",
        "--task",
        "digits",
        "--run-dir",
        str(run_dir),
        "--workers",
        "2",
        "--quiet",
        "--budget-steps",
        "30",
        *extra,
    ]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    rng = random.Random(1234)
    run_dir = tmp_path / "run"
    finished = 0
    for i in range(KILLS):
        proc = start_run(run_dir)
        deadline = time.monotonic() + rng.uniform(1.0, 7.0)
        # every fourth life lasts until one more individual is in (start-up alone can take
        # 7 s on a busy machine), then a random moment more, so the count must grow
        wait_for_birth = i % 4 == 3
        if wait_for_birth:
            deadline = time.monotonic() + 120
        workers: set[int] = set()
        while time.monotonic() < deadline and proc.poll() is None:
            workers |= children_of(proc.pid)
            if wait_for_birth and finished_count(run_dir) > finished:
                wait_for_birth = False
                deadline = time.monotonic() + rng.uniform(0.0, 1.5)
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()
        workers |= children_of(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stderr.close()
        gone_by = time.monotonic() + 5
        while any(alive(w) for w in workers) and time.monotonic() < gone_by:
            time.sleep(0.05)
        assert not [w for w in workers if alive(w)], f"kill {i}: workers outlived the run"
        if (run_dir / "run.sqlite").exists():
            ok, count = archive_state(run_dir)
            assert ok == "ok", f"kill {i}: integrity_check said {ok}"
            assert count >= finished, f"kill {i}: {finished} finished individuals became {count}"
            finished = count
    assert finished > 0, "no individual ever finished; kill later"
    # and it resumes: a normal run continues from the same archive
    proc = start_run(run_dir, "--individuals", "6")
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err.decode()
    ok, count = archive_state(run_dir)
    assert ok == "ok" and count >= finished + 6
