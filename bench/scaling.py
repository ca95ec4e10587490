"""Candidates per minute on digits with 1 and with 2 worker processes (same run settings).

Counted from the first finished individual, so process start-up is not in the rate.

    .venv/bin/python bench/scaling.py [--seconds 60] [--no-record]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import search
from bench.record import record
from engine.run import RunSettings


def rate(workers: int, seconds: float, folder: Path) -> float:
    settings = RunSettings(task={"name": "digits"}, seed=1, workers=workers, max_params=5000)
    timeline = search(folder / f"w{workers}", settings, seconds)
    births = timeline.births
    if len(births) < 2:
        return 0.0
    return (len(births) - 1) / (births[-1] - births[0]) * 60


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one = rate(1, args.seconds, Path(tmp))
        two = rate(2, args.seconds, Path(tmp))
    last = f"scaling={two / one:.3f} per_min_1={one:.1f} per_min_2={two:.1f}"
    table = f"| workers | candidates / min |\n|---:|---:|\n| 1 | {one:.1f} |\n| 2 | {two:.1f} |"
    print(table)
    print(last)
    if not args.no_record:
        body = (
            "Digits, `--max-params 5000`, same seed and settings; rate from the first to the "
            f"last finished individual over {args.seconds:g} s. Goal: scaling ≥ 1.7.\n\n" + table
        )
        record("scaling", "python bench/scaling.py", body, last)


if __name__ == "__main__":
    main()
