"""`openbrains run/status/export/eval` through real subprocesses: progress, Ctrl+C, resume,
and a clear one-line error with exit status 2 for every kind of bad input."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli_kit import CLI, ROOT, ob, one_line_error


def test_run_status_export_eval_round_trip(tmp_path: Path) -> None:
    run_dir = tmp_path / "xor"
    out = ob(
        "run", "--task", "xor", "--run-dir", str(run_dir), "--workers", "0", "--individuals", "12"
    )
    assert out.returncode == 0, out.stderr
    assert "new champion" in out.stderr and "individuals" in out.stderr
    st = json.loads(ob("status", str(run_dir), "--json").stdout)
    assert st["individuals"] == 12 and st["elapsed_s"] > 0 and st["species"] >= 1
    best = st["best"]
    assert best["metric"] == "accuracy" and best["score"] == 1.0 and best["params"] > 0
    assert {"id", "score", "test_score", "params"} <= best.keys()
    graph = tmp_path / "best.graph"
    assert ob("export", str(run_dir), "--best", "-o", str(graph)).returncode == 0
    info = ob("inspect", str(graph)).stdout
    assert "trained on: xor" in info and "lineage" in info
    ev = json.loads(ob("eval", str(graph), "--task", "xor", "--json").stdout)
    assert ev["test"] == pytest.approx(best["test_score"])
    # running again resumes the same archive
    again = ob(
        "run", "--task", "xor", "--run-dir", str(run_dir), "--workers", "0", "--individuals", "3"
    )
    assert again.returncode == 0 and "resuming 12 individuals" in again.stderr
    assert json.loads(ob("status", str(run_dir), "--json").stdout)["individuals"] == 15


def test_ctrl_c_stops_cleanly_and_leaves_no_workers(tmp_path: Path) -> None:
    run_dir = tmp_path / "digits"
    proc = subprocess.Popen(
        [
            *CLI,
            "run",
            "--task",
            "digits",
            "--run-dir",
            str(run_dir),
            "--workers",
            "2",
            "--budget-steps",
            "20",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    db = run_dir / "run.sqlite"
    while time.monotonic() < deadline:
        if _individuals(db) > 2:
            break
        time.sleep(0.2)
    kids = [
        int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _ppid(p) == proc.pid
    ]
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    time.sleep(0.5)
    assert not [k for k in kids if Path(f"/proc/{k}").exists() and _state(k) != "Z"]
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _individuals(db: Path) -> int:
    """Individuals in a run archive being written, 0 before its tables exist (the run may
    have created the file and not yet its schema)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            return con.execute("SELECT COUNT(*) FROM individuals").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _ppid(p: Path) -> int:
    try:
        return int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return -1


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "X"


def test_unknown_task() -> None:
    one_line_error(ob("run", "--task", "telepathy", "--workers", "0"), "unknown task")


def test_no_task() -> None:
    one_line_error(ob("run"), "--task")


def test_bad_until() -> None:
    one_line_error(ob("run", "--task", "xor", "--until", "accuracy>maybe"), "--until")


def test_newer_archive_is_refused_and_kept(tmp_path: Path) -> None:
    run_dir = tmp_path / "future"
    run_dir.mkdir()
    db = sqlite3.connect(run_dir / "run.sqlite")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('schema_version', '99')")
    db.commit()
    db.close()
    before = (run_dir / "run.sqlite").read_bytes()
    one_line_error(
        ob("run", "--task", "xor", "--run-dir", str(run_dir), "--workers", "0"), "newer Open Brains"
    )
    assert (run_dir / "run.sqlite").read_bytes() == before


def test_locked_archive(tmp_path: Path) -> None:
    run_dir = tmp_path / "busy"
    run_dir.mkdir()
    fd = os.open(run_dir / "run.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, b"4242")
    try:
        # busy, not bad input: 75 (EX_TEMPFAIL), which the service's unit retries
        one_line_error(
            ob("run", "--task", "xor", "--run-dir", str(run_dir), "--workers", "0"),
            "pid 4242",
            code=75,
        )
    finally:
        os.close(fd)


def test_corrupt_archive_is_refused_and_kept(tmp_path: Path) -> None:
    run_dir = tmp_path / "broken"
    run_dir.mkdir()
    (run_dir / "run.sqlite").write_bytes(b"this is not sqlite at all" * 100)
    one_line_error(
        ob("run", "--task", "xor", "--run-dir", str(run_dir), "--workers", "0"),
        "not a readable run archive",
    )
    assert (run_dir / "run.sqlite").read_bytes() == b"this is not sqlite at all" * 100
    one_line_error(ob("status", str(run_dir)), "not a readable run archive")


def test_folder_of_another_task(tmp_path: Path) -> None:
    run_dir = tmp_path / "xor"
    assert (
        ob(
            "run",
            "--task",
            "xor",
            "--run-dir",
            str(run_dir),
            "--workers",
            "0",
            "--individuals",
            "1",
        ).returncode
        == 0
    )
    one_line_error(
        ob("run", "--task", "digits", "--run-dir", str(run_dir), "--workers", "0"),
        "belongs to task 'xor'",
    )


def test_status_and_export_of_a_non_run(tmp_path: Path) -> None:
    one_line_error(ob("status", str(tmp_path)), "not a run folder")
    one_line_error(
        ob("export", str(tmp_path), "--best", "-o", str(tmp_path / "x.graph")), "not a run folder"
    )


def test_run_help_names_every_task() -> None:
    """`run --help` lists the tasks without importing the registry (which needs torch)."""
    from openbrains.app.run_cmd import RUN_TASKS
    from openbrains.engine.tasks.registry import TASK_NAMES

    assert RUN_TASKS == TASK_NAMES


def test_a_project_runs_on_the_data_given(tmp_path: Path) -> None:
    """A project names its task; `--data` points that task at the user's own file."""
    text = tmp_path / "notes.txt"
    text.write_text("the quick brown fox jumps over the lazy dog\n" * 40)
    run_dir = tmp_path / "run"
    project = str(ROOT / "sample_graphs" / "text.graph")
    common = ("--run-dir", str(run_dir), "--workers", "0", "--quiet", "--budget-steps", "5")
    out = ob("run", project, "--data", str(text), "--individuals", "1", *common)
    assert out.returncode == 0, out.stderr
    status = json.loads(ob("status", str(run_dir), "--json").stdout)
    assert status["individuals"] == 1


def test_status_shows_the_refit_and_export_writes_it_unless_told_not_to(
    tmp_path: Path,
) -> None:
    run_dir = tmp_path / "digits"
    common = ["--task", "digits", "--run-dir", str(run_dir), "--workers", "0"]
    out = ob(
        *("run", *common, "--individuals", "5", "--budget-steps", "40", "--max-params", "3000")
    )
    assert out.returncode == 0, out.stderr
    best = json.loads(ob("status", str(run_dir), "--json").stdout)["best"]
    assert "refit" in best, "a run that ends on its own refits its last champion"
    assert "refit of #" in out.stderr
    refit = best["refit"]
    assert refit["of"] == best["id"] and refit["steps"] == 40
    assert "refit with the validation data" in ob("status", str(run_dir)).stdout
    for flags, want in (((), refit["test_score"]), (("--no-refit",), best["test_score"])):
        graph = tmp_path / f"best{len(flags)}.graph"
        done = ob("export", str(run_dir), "--best", "-o", str(graph), *flags)
        assert done.returncode == 0, done.stderr
        ev = json.loads(ob("eval", str(graph), "--task", "digits", "--json").stdout)
        assert ev["test"] == pytest.approx(want, abs=1e-6)
