"""`openbrains live FILE.graph --source …`: run a brain on a live source, print what it
answers and how long each chunk took."""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from openbrains.app import argtypes
from openbrains.app.cli import command


def _live_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("live", help="run a brain on a microphone, camera, text or file stream")
    p.add_argument("file", type=Path)
    p.add_argument(
        "--source",
        required=True,
        help="mic[:DEVICE] | camera[:N|:PATH] | text (stdin) | follow:PATH | file:PATH",
    )
    p.add_argument("--chunks", type=argtypes.count, help="stop after this many chunks")
    p.add_argument("--chunk-ms", type=argtypes.count, default=32, help="audio chunk length")
    p.add_argument(
        "--temperature",
        type=argtypes.non_negative,
        default=0.0,
        help="sampling temperature for text",
    )


@command(_live_args)
def cmd_live(args: argparse.Namespace) -> int:
    from openbrains.engine.format import load_brain
    from openbrains.engine.live import LiveSession
    from openbrains.nodes.sources import open_source

    graph, brain = load_brain(args.file)
    classes = next((t.classes for t in reversed(graph.tasks.values()) if t.classes), [])
    session = LiveSession(brain, graph.codecs, classes or [], args.temperature)
    spec = "text:-" if args.source == "text" else args.source
    options = {}
    if spec.startswith("mic") or spec.startswith("file:"):
        options["chunk_ms"] = args.chunk_ms
    if session.audio is not None:
        options["rate"] = session.codec.rate
    latencies = []
    with open_source(spec, **options) as source:
        while args.chunks is None or len(latencies) < args.chunks:
            chunk = source.read(timeout=None)
            if chunk is None:
                break
            step = session.feed(chunk.data)
            latencies.append(step.latency_ms)
            shown = (
                ", ".join(f"{k}={v}" for k, v in step.outputs.items())
                or "(waiting for a full frame)"
            )
            print(f"#{step.index:<5} {step.latency_ms:7.2f} ms  {shown}", flush=True)
    if latencies:
        ordered = sorted(latencies)
        p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
        print(
            f"{len(latencies)} chunks, latency p50 {statistics.median(latencies):.2f} ms, p99 {p99:.2f} ms",
            file=sys.stderr,
        )
    return 0
