"""Continuing a shared brain: a digits brain continued on spoken digits (audio) in each
--keep mode, beside a fresh search on spoken digits with the same minutes.

Every step is the real command line in its own process: `openbrains run --task audio
--data data/spoken_digits --seed-from DIGITS.graph --keep MODE --minutes M --workers W`,
`export --best`, then `eval --task digits` (the old task's test accuracy) and `eval --task
audio --data …` (the new task's). The fresh search is `run --task audio` alone for M
minutes. retention = the old task's test accuracy after / before (the seed's own, measured
the same way); new_vs_fresh = the new task's test accuracy over the fresh search's.

    .venv/bin/python bench/continual.py [--minutes 5] [--workers 2] [--seed FILE.graph]
        [--seed-minutes 3] [--budget-steps N] [--no-record]

Without --seed, a digits brain is grown first (`run --task digits` for --seed-minutes,
then exported with its task record and probe).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.record import record  # noqa: E402

CLI = [sys.executable, "-m", "openbrains"]
DATA = ROOT / "data" / "spoken_digits"
MODES = ("protect", "share", "off")


def ob(*args: str) -> str:
    out = subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"openbrains {' '.join(args)} failed: {out.stderr.strip()[-400:]}")
    return out.stdout


def test_score(path: Path, task: str, *extra: str) -> float:
    data = json.loads(ob("eval", str(path), "--task", task, *extra, "--json"))
    if "tasks" in data:
        return float(data["tasks"][0]["test"])
    return float(data["test"])


BUDGET: list[str] = []  # --budget-steps N for every search alike (a shorter check)


SEEN: dict[str, tuple[int, str]] = {}  # search → individuals trained, load average after it


def load() -> str:
    """The 1/5/15-minute load averages, as `uptime` prints them: the machine is shared."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def search(work: Path, name: str, minutes: float, workers: int, *task: str) -> Path:
    run_dir, out = work / name, work / f"{name}.graph"
    ob("run", *task, "--run-dir", str(run_dir), "--minutes", str(minutes),
       "--workers", str(workers), "--quiet", *BUDGET)  # fmt: skip
    SEEN[name] = (int(json.loads(ob("status", str(run_dir), "--json"))["individuals"]), load())
    ob("export", str(run_dir), "--best", "-o", str(out))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=Path, help="the digits .graph to continue")
    ap.add_argument("--seed-minutes", type=float, default=3.0)
    ap.add_argument("--budget-steps", type=int, help="rung-0 training steps, for every search")
    ap.add_argument(
        "--holdout",
        default="",
        help="a voice held out as the test split (ny-f3_ as in sample_graphs/spoken_digits"
        ".graph); default: the task's stratified 70/15/15 split, whose test is measured like "
        "the validation that selection sees (docs/benchmarks.md says why)",
    )
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    if args.budget_steps:
        BUDGET.extend(["--budget-steps", str(args.budget_steps)])
    holdout = ("--option", f"holdout={args.holdout}") if args.holdout else ()
    audio = ("--task", "audio", "--data", str(DATA), *holdout)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        t0, load0 = time.monotonic(), load()
        seed = args.seed or search(
            work, "digits", args.seed_minutes, args.workers, "--task", "digits"
        )
        before = test_score(seed, "digits")
        rows = {}
        for mode in MODES:
            out = search(
                work, f"audio-{mode}", args.minutes, args.workers, *audio,
                "--seed-from", str(seed), "--keep", mode,
            )  # fmt: skip
            rows[mode] = (
                test_score(out, "digits"),
                test_score(out, "audio", "--data", str(DATA), *holdout),
            )
            seen = SEEN[f"audio-{mode}"]
            print(
                f"{mode}: digits {rows[mode][0]:.4f}, audio {rows[mode][1]:.4f}, "
                f"{seen[0]} individuals, load {seen[1]}",
                flush=True,
            )
        fresh = test_score(
            search(work, "audio-fresh", args.minutes, args.workers, *audio),
            "audio",
            "--data",
            str(DATA),
            *holdout,
        )
        wall = time.monotonic() - t0
    retention = {m: rows[m][0] / before for m in MODES}
    new_vs_fresh = {m: rows[m][1] / fresh for m in MODES}
    last = (
        f"retention_protect={retention['protect']:.3f} retention_share={retention['share']:.3f} "
        f"retention_off={retention['off']:.3f} new_vs_fresh_protect={new_vs_fresh['protect']:.3f} "
        f"new_vs_fresh_share={new_vs_fresh['share']:.3f}"
    )
    table = [
        "| search | digits test (old task) | retention | spoken digits test (new) | vs fresh "
        "| individuals | load after (1/5/15 min) |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {m} | {rows[m][0]:.4f} | {retention[m]:.3f} | {rows[m][1]:.4f} | "
            f"{new_vs_fresh[m]:.3f} | {SEEN[f'audio-{m}'][0]} | {SEEN[f'audio-{m}'][1]} |"
            for m in MODES
        ),
        f"| fresh search | — | — | {fresh:.4f} | 1.000 | {SEEN['audio-fresh'][0]} "
        f"| {SEEN['audio-fresh'][1]} |",
    ]
    body = (
        f"Digits seed: test accuracy {before:.4f} "
        f"({'given: ' + str(args.seed) if args.seed else f'grown for {args.seed_minutes} min'}). "
        f"Each continued run and the fresh search: {args.minutes} min on {args.workers} "
        f"workers{', rung-0 budget ' + str(args.budget_steps) + ' steps' if args.budget_steps else ''}; "
        f"{wall / 60:.1f} min in all, on a machine shared with other work (load average "
        f"{load0} at the start, as `uptime` prints it).\n\n" + "\n".join(table)
    )
    print(body)
    print(last)
    if not args.no_record:
        command = "python bench/continual.py " + " ".join(sys.argv[1:])
        record("Continue a shared brain (bench/continual.py)", command.strip(), body, last)


if __name__ == "__main__":
    main()
