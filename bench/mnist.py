"""MNIST: champion test accuracy at 5, 15 and 30 minutes within a parameter bound.

Goals (issue 18): ≥ 0.99 at 30 minutes with ≤ 10,000 parameters (the default bound); with
``--max-params 1000``, ≥ 0.98 with ≤ 1,000 (the last line's keys then end in ``_1k`` and the
results go to their own section, ``mnist-1k``).

.venv/bin/python bench/mnist.py --data ../shared/data/mnist [--minutes 30] [--workers 2]
    [--max-params 10000] [--patch 4]

``--patch`` is the task's patch side: the search sees 28×28 digits as a grid of
``patch``×``patch`` patches, one channel per pixel of a patch (4: a 7×7 grid of 16
channels, where a 3×3 convolution costs 144 weights per output channel; 2: 14×14 of 4;
1: the 28×28 pixels). A run at another patch than 4 is recorded in its own section.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import search
from bench.record import record
from openbrains.engine.run import RunSettings

CHECKPOINTS_MIN = (5, 15, 30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--max-params", type=int, default=10_000)
    ap.add_argument("--patch", type=int, default=4, choices=(1, 2, 4, 7, 14))
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    settings = RunSettings(
        task={"name": "mnist", "data": str(Path(args.data).resolve()), "patch": args.patch},
        workers=args.workers,
        max_params=args.max_params,
    )
    with tempfile.TemporaryDirectory() as tmp:
        timeline = search(Path(tmp) / "mnist", settings, args.minutes * 60)
    rows, acc = [], {}
    for m in CHECKPOINTS_MIN:
        if m > args.minutes:
            continue
        champ = timeline.champion_at(m * 60)
        acc[m] = champ["test_score"] if champ else 0.0
        rows.append(
            f"| {m} min | {champ['score'] if champ else 0:.4f} | {acc[m]:.4f} | "
            f"{champ['params'] if champ else 0:,} |"
        )
    final = timeline.champion_at(args.minutes * 60)
    tiny = "_1k" if args.max_params <= 1000 else ""
    goal = 0.98 if tiny else 0.99
    last = (
        " ".join(f"acc_{m}min{tiny}={a:.4f}" for m, a in acc.items())
        + f" params{tiny}={final['params'] if final else 0}"
    )
    table = "\n".join(["| time | validation | test | params |", "|---|---:|---:|---:|", *rows])
    table += f"\n\n{len(timeline.births)} individuals on {args.workers} workers."
    print(table)
    print(last)
    if not args.no_record:
        body = (
            f"`--max-params {args.max_params}`, patch {args.patch}, {args.workers} workers; "
            "champion by validation "
            f"(last 6,000 training images), its test accuracy on t10k. Goal: ≥ {goal} at 30 "
            f"min with ≤ {args.max_params:,} parameters.\n\n" + table
        )
        command = (
            f"python bench/mnist.py --data DIR --minutes {args.minutes:g} "
            f"--max-params {args.max_params}"
            + (f" --patch {args.patch}" if args.patch != 4 else "")
        )
        section = ("mnist-1k" if tiny else "mnist") + (
            f"-patch{args.patch}" if args.patch != 4 else ""
        )
        record(section, command, body, last)


if __name__ == "__main__":
    main()
