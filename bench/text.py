"""Text: byte-level completion of a book's chapters, beside gzip, xz and bzip2 on the file.

``bench/data/alice-1-3.txt``: chapters I–III of Lewis Carroll's *Alice's Adventures in
Wonderland* (1865, public domain; Project Gutenberg's Millennium Fulcrum Edition 2.9 as the
Canterbury corpus carries it in ``alice29.txt``, line ends made LF), 33,191 bytes, used by
no test. The text task cuts it contiguously: the first 80 % to train on, the next 10 % to
choose the champion by, the last 10 % held out. A search of ``--minutes`` on ``--workers``
workers; the champion (by validation bits per character) is scored on the held-out tenth,
each byte predicted from at most ``--context`` bytes before it (windows restart every
``context`` bytes, so the first bytes of each see little).

The peers: the whole file's bits per character under ``gzip -9``, ``xz -9e`` and
``bzip2 -9`` (Python's gzip, lzma and bz2 modules at those settings, so no tool need be
installed). An adaptive compressor sees nothing before the file; the model has read the
first 80 % before the held-out part, so this is the bar a model must clear to have learnt
more than a compressor picks up on the way. Goal (issue #18): ``bpc_10min ≤ xz``.

    .venv/bin/python bench/text.py [--minutes 10] [--workers 2] [--context 128]
        [--stride 4] [--budget-steps 0] [--seed 0] [--seeds 3] [--text FILE] [--no-record]

Last line: ``bpc_10min=X xz=X gzip=X bzip2=X``, the median over ``--seeds`` searches run
one after another (``bpc_10min`` names the search's length; other lengths write
``bpc_{N}min``); the table gives each seed's champion over time.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import lzma
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import search
from bench.record import record
from openbrains.engine.run import RunSettings
from openbrains.engine.tasks.text import order0_entropy

TEXT = Path(__file__).resolve().parent / "data" / "alice-1-3.txt"
CHECKPOINTS_MIN = (1, 3, 5, 10, 20, 30)


def compressed_bpc(data: bytes) -> dict[str, float]:
    """Bits per character of ``data`` under each compressor at its strongest setting."""
    sizes = {
        "gzip": len(gzip.compress(data, compresslevel=9, mtime=0)),
        "xz": len(lzma.compress(data, format=lzma.FORMAT_XZ, preset=9 | lzma.PRESET_EXTREME)),
        "bzip2": len(bz2.compress(data, compresslevel=9)),
    }
    return {name: size * 8 / len(data) for name, size in sizes.items()}


def one_search(args: argparse.Namespace, seed: int) -> tuple[list[str], dict | None, int]:
    """One search of ``args.minutes``: its table rows, final champion and births."""
    settings = RunSettings(
        task={
            "name": "text",
            "data": str(args.text.resolve()),
            "context": str(args.context),
            "stride": str(args.stride),
        },
        seed=seed,
        workers=args.workers,
        budget_steps=args.budget_steps,
    )
    with tempfile.TemporaryDirectory() as tmp:
        timeline = search(Path(tmp) / "text", settings, args.minutes * 60)
    rows = []
    for m in (*(c for c in CHECKPOINTS_MIN if c < args.minutes), args.minutes):
        champ = timeline.champion_at(m * 60)
        if champ is None:
            rows.append(f"| {seed} | {m:g} min | – | – | – |")
            continue
        rows.append(
            f"| {seed} | {m:g} min | {champ['score']:.3f} | {champ['test_score']:.3f} | "
            f"{champ['params']:,} |"
        )
    return rows, timeline.champion_at(args.minutes * 60), len(timeline.births)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--context", type=int, default=128, help="bytes a prediction may see")
    ap.add_argument("--stride", type=int, default=4, help="bytes between training windows")
    ap.add_argument("--budget-steps", type=int, default=0, help="rung-0 steps (0: sized)")
    ap.add_argument("--seed", type=int, default=0, help="the first seed")
    ap.add_argument("--seeds", type=int, default=3, help="searches, one after another")
    ap.add_argument("--text", type=Path, default=TEXT)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    data = args.text.read_bytes()
    peers = compressed_bpc(data)
    rows: list[str] = []
    finals: list[float] = []
    births: list[int] = []
    for seed in range(args.seed, args.seed + args.seeds):
        seed_rows, final, n = one_search(args, seed)
        rows += seed_rows
        finals.append(float(final["test_score"]) if final else float("nan"))
        births.append(n)
        print(f"seed {seed}: held-out bpc {finals[-1]:.3f}, {n} individuals", file=sys.stderr)
    bpc = float(np.median(finals))
    last = (
        f"bpc_{args.minutes:g}min={bpc:.3f} xz={peers['xz']:.3f} gzip={peers['gzip']:.3f} "
        f"bzip2={peers['bzip2']:.3f}"
    )
    verdict = "meets" if bpc <= peers["xz"] else "misses"
    table = "\n".join(
        [
            f"`{args.text.name}`, {len(data):,} bytes, order-0 entropy "
            f"{order0_entropy(data):.3f} bits per character; context {args.context}, training "
            f"windows every {args.stride} bytes, rung-0 budget "
            f"{args.budget_steps or 'sized from the task'}, {args.workers} workers, "
            f"{args.seeds} search(es) of {args.minutes:g} min (seeds {args.seed}–"
            f"{args.seed + args.seeds - 1}).",
            "",
            "| seed | time | champion validation bpc | held-out bpc | params |",
            "|---:|---|---:|---:|---:|",
            *rows,
            "",
            "| whole file | gzip -9 | xz -9e | bzip2 -9 |",
            "|---|---:|---:|---:|",
            f"| bits per character | {peers['gzip']:.3f} | {peers['xz']:.3f} | "
            f"{peers['bzip2']:.3f} |",
            "",
            f"Held-out bpc at {args.minutes:g} min: median {bpc:.3f}, range "
            f"{min(finals):.3f}–{max(finals):.3f}; {', '.join(map(str, births))} individuals; "
            f"the median {verdict} the goal (≤ xz's {peers['xz']:.3f}).",
        ]
    )
    print(table)
    print(last)
    if not args.no_record:
        body = (
            "Next-byte prediction on a book's chapters (bench/text.py's docstring says what "
            "and why), the champion's held-out bits per character beside three compressors "
            "on the whole file.\n\n" + table
        )
        command = " ".join(["python bench/text.py", *sys.argv[1:]])
        record("text", command, body, last)


if __name__ == "__main__":
    main()
