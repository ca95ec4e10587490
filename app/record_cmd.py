"""`openbrains record RUN_DIR --source … --label NAME`: record a live stream into a run's
data set, labelled, while the run may be running (it picks the samples up between births)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from openbrains.app import argtypes
from openbrains.app.cli import command
from openbrains.app.taskargs import add_run_task_args, run_folder_task
from openbrains.engine.errors import OpenBrainsError


def _record_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "record", help="record labelled examples from a microphone, camera, text or file"
    )
    p.add_argument("run_dir", type=Path)
    p.add_argument(
        "--source",
        required=True,
        help="mic[:DEVICE] | camera[:N|:PATH] | text (stdin) | follow:PATH | file:PATH",
    )
    p.add_argument("--label", default="", help="the class these examples belong to")
    p.add_argument(
        "--chunks", type=argtypes.count, help="stop after this many chunks (frames, lines…)"
    )
    p.add_argument("--seconds", type=argtypes.seconds, help="stop after this many seconds")
    p.add_argument("--chunk-ms", type=argtypes.count, default=32, help="audio chunk length")
    add_run_task_args(p)


@command(_record_args)
def cmd_record(args: argparse.Namespace) -> int:
    from openbrains.engine.record import check_label, open_for_plan, plan_of, record
    from openbrains.engine.store import Archive

    plan = plan_of(args.run_dir, lambda stored: run_folder_task(args.run_dir, stored, args))
    label = check_label(plan, args.label)
    source = open_for_plan(args.source, plan, chunk_ms=args.chunk_ms)
    source.open()  # a missing or busy device fails here, before anything is said
    print(
        f"recording {source.describe()} as {label!r} into {args.run_dir}"
        + (" (Ctrl+C stops)" if args.chunks is None and args.seconds is None else ""),
        file=sys.stderr,
        flush=True,
    )
    ids = record(source, args.run_dir, label, seconds=args.seconds, chunks=args.chunks, plan=plan)
    archive = Archive(args.run_dir, readonly=True)
    try:
        counts = archive.sample_counts()
        version = archive.samples_version()
    finally:
        archive.close()
    if not ids and args.chunks is None and args.seconds is None:
        raise OpenBrainsError(f"{source.describe()} gave nothing to record")
    mine = counts.get(label, {"train": 0, "val": 0})
    print(
        f"recorded {len(ids)} samples of {label!r} (data version {version}); "
        f"{label!r} now has {mine['train']} training and {mine['val']} validation samples"
    )
    return 0
