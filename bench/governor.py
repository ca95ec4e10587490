"""CPU under the governor: a real `openbrains run --cpu-cap 25` on digits with 2 workers;
the CPU time of its whole process tree (coordinator + workers) over wall time, in percent
of one core. Start-up (interpreters importing torch) is measured separately: the cap
governs training, and a run lives for hours, so the steady state is what counts.

    .venv/bin/python bench/governor.py [--seconds 120] [--cap 25] [--no-record]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import tree_cpu_seconds
from bench.record import record

ROOT = Path(__file__).resolve().parents[1]


def wait_first_individual(db: Path, proc: subprocess.Popen, timeout: float = 300) -> None:
    import sqlite3

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                if sqlite3.connect(db).execute("SELECT COUNT(*) FROM individuals").fetchone()[0]:
                    return
            except sqlite3.Error:
                pass
        time.sleep(0.2)
    raise SystemExit("the run produced no individual")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--cap", type=float, default=25)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [
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
                "--cpu-cap",
                str(args.cap),
                "--quiet",
            ],
            cwd=ROOT,
        )
        try:
            wait_first_individual(run_dir / "run.sqlite", proc)
            startup_cpu, startup_wall = tree_cpu_seconds(proc.pid), time.monotonic() - t0
            c0, w0 = startup_cpu, time.monotonic()
            samples = []
            while time.monotonic() - w0 < args.seconds:
                time.sleep(5)
                samples.append((time.monotonic() - w0, tree_cpu_seconds(proc.pid) - c0))
            cpu, wall = samples[-1][1], samples[-1][0]
        finally:
            proc.terminate()
            proc.wait(30)
    pct = 100 * cpu / wall
    rows = [
        f"| {t:.0f} s | {100 * c / t:.1f} % |" for t, c in samples[:: max(1, len(samples) // 8)]
    ]
    table = "\n".join(
        ["| since first individual | average CPU (of one core) |", "|---:|---:|", *rows]
    )
    table += (
        f"\n\nStart-up until the first individual: {startup_cpu:.1f} CPU-s in {startup_wall:.1f} s "
        "(three interpreters importing torch, not governed)."
    )
    last = f"cpu_pct={pct:.1f} cap={args.cap:g}"
    print(table)
    print(last)
    if not args.no_record:
        body = (
            f"`openbrains run --task digits --workers 2 --cpu-cap {args.cap:g}`, measured over "
            f"{args.seconds:g} s after the first individual (coordinator + workers, from /proc). "
            "Goal: within 5 points of the cap.\n\n" + table
        )
        record("governor", "python bench/governor.py", body, last)


if __name__ == "__main__":
    main()
