"""Soak: a long digits run on 2 workers, with the memory of the coordinator and of each
worker and the size of the run's archive every minute. A search meant to run for weeks
must not grow: the goals are RSS growth < 10 % from minute 5 to the end, and at most
50 MB of archive per 1,000 individuals (retention keeps weights only where they matter).

    .venv/bin/python bench/soak.py [--minutes 60] [--workers 2] [--every 60] [--no-record]

Last line: ``rss_growth=X archive_mb_per_1000=X`` (growth as a fraction: 0.05 is 5 %).
The whole process tree is read with psutil; the archive with a read-only SQLite query.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024
GOAL_GROWTH = 0.10
GOAL_MB_PER_1000 = 50.0


@dataclass
class Sample:
    minute: float
    coordinator_mb: float
    workers_mb: list[float]
    archive_mb: float
    individuals: int
    weights_kept: int
    # files the coordinator mapped since the last sample (a library imported late shows here)
    new_maps: list[str] = field(default_factory=list)

    @property
    def total_mb(self) -> float:
        return self.coordinator_mb + sum(self.workers_mb)


def archive_size(run_dir: Path) -> float:
    """The archive on disk: the database and its write-ahead log."""
    names = ("run.sqlite", "run.sqlite-wal", "run.sqlite-shm")
    return sum((run_dir / n).stat().st_size for n in names if (run_dir / n).exists()) / MB


def counts(run_dir: Path) -> tuple[int, int]:
    db = run_dir / "run.sqlite"
    if not db.exists():
        return 0, 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            n = con.execute("SELECT COUNT(*) FROM individuals").fetchone()[0]
            w = con.execute("SELECT COUNT(*) FROM weights").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0, 0
    return int(n), int(w)


def mapped_files(proc: psutil.Process) -> set[str]:
    """The files ``proc`` has mapped (shared libraries, data files): where a late import
    or a newly loaded kernel library shows up in its memory."""
    try:
        return {m.path for m in proc.memory_maps(grouped=True) if m.path.startswith("/")}
    except (psutil.AccessDenied, psutil.NoSuchProcess):
        return set()


def sample(proc: psutil.Process, run_dir: Path, minute: float, seen: set[str]) -> Sample:
    coordinator = proc.memory_info().rss / MB
    maps = mapped_files(proc)
    new_maps = sorted(maps - seen) if seen else []
    seen |= maps
    workers = []
    for child in proc.children(recursive=True):
        try:
            workers.append(child.memory_info().rss / MB)
        except psutil.NoSuchProcess:
            continue
    n, w = counts(run_dir)
    return Sample(minute, coordinator, workers, archive_size(run_dir), n, w, new_maps)


def soak(minutes: float, workers: int, every: float, run_dir: Path) -> list[Sample]:
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "openbrains", "run", "--task", "digits"),
            *("--workers", str(workers), "--run-dir", str(run_dir), "--quiet"),
        ],
        cwd=ROOT,
    )
    watched = psutil.Process(proc.pid)
    samples: list[Sample] = []
    seen: set[str] = set()
    start = time.monotonic()
    try:
        while True:
            next_at = start + every * (len(samples) + 1)
            time.sleep(max(0.0, next_at - time.monotonic()))
            if proc.poll() is not None:
                raise SystemExit(f"the run ended early (exit code {proc.returncode})")
            s = sample(watched, run_dir, (time.monotonic() - start) / 60, seen)
            samples.append(s)
            workers_text = " ".join(f"{w:.0f}" for w in s.workers_mb)
            print(
                f"{s.minute:5.1f} min  coordinator {s.coordinator_mb:6.0f} MB  workers "
                f"[{workers_text}] MB  archive {s.archive_mb:6.1f} MB  "
                f"{s.individuals} individuals ({s.weights_kept} with weights)",
                flush=True,
            )
            if s.new_maps:
                print(f"      coordinator mapped {', '.join(s.new_maps)}", flush=True)
            if s.minute >= minutes - 1e-6:
                return samples
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


def summarise(samples: list[Sample], baseline_minute: float) -> tuple[float, float, Sample]:
    base = min(samples, key=lambda s: abs(s.minute - baseline_minute))
    last = samples[-1]
    growth = (last.total_mb - base.total_mb) / base.total_mb
    per_1000 = last.archive_mb / max(1, last.individuals) * 1000
    return growth, per_1000, base


def table(samples: list[Sample]) -> str:
    rows = [
        "| minute | coordinator MB | workers MB | total MB | archive MB | individuals | with weights |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in samples:
        workers = " + ".join(f"{w:.0f}" for w in s.workers_mb)
        rows.append(
            f"| {s.minute:.0f} | {s.coordinator_mb:.0f} | {workers} | {s.total_mb:.0f} | "
            f"{s.archive_mb:.1f} | {s.individuals} | {s.weights_kept} |"
        )
    return "\n".join(rows)


def late_maps(samples: list[Sample]) -> str:
    """Files the coordinator mapped after the first minute, by minute (empty: none)."""
    lines = [
        f"- minute {s.minute:.0f}: " + ", ".join(f"`{Path(m).name}`" for m in s.new_maps)
        for s in samples
        if s.new_maps
    ]
    if not lines:
        return "The coordinator mapped no new file after the first minute."
    return "Files the coordinator mapped after the first minute:\n\n" + "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--every", type=float, default=60, help="seconds between samples")
    ap.add_argument("--baseline", type=float, default=5, help="minute growth is measured from")
    ap.add_argument("--no-record", action="store_true")
    ap.add_argument("--note", default="", help="a sentence recorded with the results")
    args = ap.parse_args()
    if args.minutes <= args.baseline:
        raise SystemExit(f"--minutes must be more than --baseline ({args.baseline:g})")
    with tempfile.TemporaryDirectory() as tmp:
        samples = soak(args.minutes, args.workers, args.every, Path(tmp) / "run")
    growth, per_1000, base = summarise(samples, args.baseline)
    last = f"rss_growth={growth:.3f} archive_mb_per_1000={per_1000:.1f}"
    verdict = (
        f"RSS {base.total_mb:.0f} MB at minute {base.minute:.0f} → {samples[-1].total_mb:.0f} MB "
        f"at minute {samples[-1].minute:.0f} ({growth:+.1%}; goal < {GOAL_GROWTH:.0%}); "
        f"archive {samples[-1].archive_mb:.1f} MB for {samples[-1].individuals} individuals "
        f"({per_1000:.1f} MB per 1,000; goal ≤ {GOAL_MB_PER_1000:g})."
    )
    print(table(samples))
    print(verdict)
    print(last)
    if not args.no_record:
        from bench.record import record

        body = (
            f"`openbrains run --task digits --workers {args.workers}` for {args.minutes:g} min, "
            "sampled every minute with psutil (RSS of the coordinator and of each worker) and "
            "the archive's files on disk.\n\n"
            + table(samples)
            + "\n\n"
            + verdict
            + "\n\n"
            + late_maps(samples)
        )
        if args.note:
            body += "\n\n" + args.note
        command = f"python bench/soak.py --minutes {args.minutes:g}"
        record("soak", command, body, last)


if __name__ == "__main__":
    main()
