"""A log file that grows: the sample byte stream for the ``stream`` task.

Real logs are private and machine-specific, so the sample is a made-up web service log
with the structure that makes logs predictable (timestamps that count up, a few levels,
recurring paths and status codes). ``python -m openbrains.engine.datasets.logs data/stream.log``
writes a start of 2,000 lines; add ``--follow`` to keep appending lines (``--rate`` per
second) while a run learns from the file.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

PATHS = ("/", "/login", "/api/items", "/api/items/42", "/static/app.js", "/health")
EPOCH = datetime(2024, 1, 1)


def log_line(i: int, rng: random.Random) -> str:
    """The ``i``-th line: mostly requests, some warnings and errors."""
    stamp = (EPOCH + timedelta(seconds=i * 2 + rng.randint(0, 1))).isoformat()
    roll = rng.random()
    if roll < 0.05:
        return f"{stamp} ERROR db: connection reset, retry {rng.randint(1, 3)}\n"
    if roll < 0.15:
        return f"{stamp} WARN  cache: miss rate {rng.randint(10, 40)}%\n"
    path = rng.choice(PATHS)
    status = 200 if path != "/login" or rng.random() < 0.7 else 401
    return f"{stamp} INFO  web: GET {path} {status} {rng.randint(2, 90)}ms\n"


def write_log(path: Path, lines: int = 2000, seed: int = 0, start: int = 0) -> int:
    """Append ``lines`` lines numbered from ``start``; returns the next line number."""
    rng = random.Random(seed * 1_000_003 + start)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write("".join(log_line(start + k, rng) for k in range(lines)))
    return start + lines


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m openbrains.engine.datasets.logs", description=__doc__
    )
    p.add_argument("file", type=Path, nargs="?", default=Path("data/stream.log"))
    p.add_argument("--lines", type=int, default=2000, help="lines written at the start")
    p.add_argument("--follow", action="store_true", help="then keep appending")
    p.add_argument("--rate", type=float, default=2.0, help="lines per second with --follow")
    args = p.parse_args(argv)
    n = write_log(args.file, args.lines) if args.lines > 0 else 0
    print(f"wrote {args.lines} lines to {args.file}", file=sys.stderr)
    try:
        while args.follow:
            time.sleep(1.0 / max(args.rate, 1e-3))
            n = write_log(args.file, 1, start=n)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
