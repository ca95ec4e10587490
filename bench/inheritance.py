"""Weight inheritance: evaluations until the champion reaches 0.95 validation accuracy on
digits, with children starting from their parents' weights vs from fresh weights.

Same seeds, same settings otherwise; median over seeds. A small per-candidate budget
(`--budget-steps`) is where inheritance matters most: each child is then a fine-tune.

    .venv/bin/python bench/inheritance.py [--seeds 3] [--budget-steps 50] [--no-record]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.record import record
from engine.run import Run, RunSettings, Until

TARGET = 0.95


def evals_to_target(seed: int, inherit: bool, budget: int, folder: Path, cap: int) -> int:
    settings = RunSettings(
        task={"name": "digits"},
        seed=seed,
        workers=2,
        max_params=5000,
        budget_steps=budget,
        inherit=inherit,
    )
    run = Run(folder / f"{seed}-{inherit}", settings)
    try:
        run.run(until=Until("accuracy", ">=", TARGET), max_individuals=cap)
        reached = run.best is not None and (run.best.val_metric or 0) >= TARGET
        return run.best.id if reached else cap * 10  # id of the first champion to reach it
    finally:
        run.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget-steps", type=int, default=50)
    ap.add_argument("--cap", type=int, default=600, help="give up after this many evaluations")
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    rows, on, off = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            a = evals_to_target(seed, True, args.budget_steps, Path(tmp), args.cap)
            b = evals_to_target(seed, False, args.budget_steps, Path(tmp), args.cap)
            on.append(a)
            off.append(b)
            rows.append(f"| {seed} | {a} | {b} |")
            print(rows[-1], flush=True)
    ratio = statistics.median(on) / statistics.median(off)
    last = f"evals_ratio={ratio:.3f} evals_on={statistics.median(on)} evals_off={statistics.median(off)}"
    table = "\n".join(
        ["| seed | evaluations, inheritance on | inheritance off |", "|---:|---:|---:|", *rows]
    )
    print(last)
    if not args.no_record:
        body = (
            f"Digits, 2 workers, `--budget-steps {args.budget_steps}`, `--max-params 5000`; "
            f"evaluations until the champion's validation accuracy ≥ {TARGET} (a run that never "
            f"gets there within {args.cap} counts as {args.cap * 10}). Goal: evals_ratio ≤ 0.5.\n\n"
            + table
        )
        record("inheritance", "python bench/inheritance.py", body, last)


if __name__ == "__main__":
    main()
