"""Weight inheritance: evaluations until the champion reaches 0.95 validation accuracy on
digits, with children starting from their parents' weights vs from fresh weights.

Off means nothing learned is carried over: mutation and crossover children start fresh,
and a promoted survivor retrains from scratch for its whole longer budget. Two set-ups,
same seeds, medians over seeds:

- **fixed budget** (the headline ``evals_ratio``): every candidate trains
  ``--budget-steps`` steps, no promotions, so an evaluation costs the same in both arms
  and counting evaluations is fair. This is inheritance alone: a child is a fine-tune.
- **successive halving** (the run's default, ``sh_`` keys): promotions train survivors
  3×, 9×, … longer. With inheritance off a promotion retrains from scratch, so off's
  evaluations cost more; ``sh_steps_ratio`` compares optimiser steps spent instead.

A run that does not reach the target within ``--cap`` evaluations is shown as ``>cap``
and counted as ``cap`` (so a ratio against it is an upper bound for on/off).

    .venv/bin/python bench/inheritance.py [--seeds 3] [--budget-steps 50] [--cap 500]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.record import record
from openbrains.engine.run import Run, RunSettings, Until

TARGET = 0.95


@dataclass
class Outcome:
    evals: int
    steps: int
    reached: bool

    def shown(self) -> str:
        return f"{self.evals}" if self.reached else f">{self.evals}"


def steps_until(run_dir: Path, last_id: int) -> int:
    """Optimiser steps trained by individuals 1..last_id (a promotion that continued its
    parent counts only its own extra steps)."""
    con = sqlite3.connect(f"file:{run_dir / 'run.sqlite'}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT i.steps, CASE WHEN i.origin = 'promotion' AND i.steps > p.steps "
            "THEN p.steps ELSE 0 END FROM individuals i LEFT JOIN individuals p "
            "ON p.id = json_extract(i.parents, '$[0]') WHERE i.id <= ?",
            (last_id,),
        ).fetchall()
    finally:
        con.close()
    return sum(int(own or 0) - int(prior or 0) for own, prior in rows)


def evals_to_target(
    seed: int, inherit: bool, budget: int, folder: Path, cap: int, halving: bool
) -> Outcome:
    """Evaluations and optimiser steps until the first champion at the target."""
    settings = RunSettings(
        task={"name": "digits"},
        seed=seed,
        workers=2,
        max_params=5000,
        budget_steps=budget,
        inherit=inherit,
        max_rung=RunSettings.max_rung if halving else 0,
    )
    run_dir = folder / f"{seed}-{inherit}-{halving}"
    run = Run(run_dir, settings)
    try:
        run.run(until=Until("accuracy", ">=", TARGET), max_individuals=cap)
        reached = run.best is not None and (run.best.val_metric or 0) >= TARGET
        # the id of the first champion to reach it is the evaluations it took
        last = run.best.id if reached and run.best else min(run.archive.count(), cap)
    finally:
        run.close()
    return Outcome(last, steps_until(run_dir, last), reached)


def arms(args: argparse.Namespace, folder: Path, halving: bool) -> tuple[list, list, list[str]]:
    on, off, rows = [], [], []
    for seed in range(args.seeds):
        a = evals_to_target(seed, True, args.budget_steps, folder, args.cap, halving)
        b = evals_to_target(seed, False, args.budget_steps, folder, args.cap, halving)
        on.append(a)
        off.append(b)
        name = "successive halving" if halving else "fixed budget"
        rows.append(f"| {name} | {seed} | {a.shown()} | {b.shown()} | {a.steps:,} | {b.steps:,} |")
        print(rows[-1], flush=True)
    return on, off, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget-steps", type=int, default=50)
    ap.add_argument("--cap", type=int, default=500, help="give up after this many evaluations")
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    med = statistics.median
    with tempfile.TemporaryDirectory() as tmp:
        on, off, rows = arms(args, Path(tmp), halving=False)
        sh_on, sh_off, sh_rows = arms(args, Path(tmp), halving=True)
    reached_off = sum(o.reached for o in off)
    last = (
        f"evals_ratio={med(o.evals for o in on) / med(o.evals for o in off):.3f} "
        f"evals_on={med(o.evals for o in on)} evals_off={med(o.evals for o in off)} "
        f"off_reached={reached_off}/{args.seeds} "
        f"sh_evals_ratio={med(o.evals for o in sh_on) / med(o.evals for o in sh_off):.3f} "
        f"sh_steps_ratio={med(o.steps for o in sh_on) / med(o.steps for o in sh_off):.3f}"
    )
    table = "\n".join(
        [
            "| set-up | seed | evaluations, inheritance on | off | steps, on | off |",
            "|---|---:|---:|---:|---:|---:|",
            *rows,
            *sh_rows,
        ]
    )
    print(last)
    if not args.no_record:
        body = (
            f"Digits, 2 workers, `--budget-steps {args.budget_steps}`, `--max-params 5000`; "
            f"evaluations until the champion's validation accuracy ≥ {TARGET}; `>N`: not "
            f"reached within {args.cap} evaluations, counted as {args.cap} (the ratio is then "
            "an upper bound). Fixed budget: no promotions, every evaluation costs the same. "
            "Successive halving: the run's default promotions; with inheritance off a "
            "promotion retrains from scratch. Goal: evals_ratio ≤ 0.5.\n\n" + table
        )
        record("inheritance", "python bench/inheritance.py", body, last)


if __name__ == "__main__":
    main()
