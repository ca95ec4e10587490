"""`openbrains rate RUN_DIR`: rate what a run's candidates answer, in the terminal.

Each round shows one input and the outputs of ``--n`` living candidates for it (text
printed, images as ASCII art and a saved PNG, sounds as a saved WAV), then reads a score
from 0 to 10 for each from stdin. The ratings go into the run's archive, where a running
search picks them up between births (``rating_weight`` decides how much they count).
"""

from __future__ import annotations

import argparse
import base64
import random
import sys
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from openbrains.app import argtypes
from openbrains.app.cli import command
from openbrains.app.taskargs import add_run_task_args, run_folder_task
from openbrains.engine.errors import OpenBrainsError

RAMP = " .:-=+*#%@"
ASCII_WIDTH = 32


def _rate_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rate", help="rate the outputs of a run's candidates (0–10 each)")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--n", type=argtypes.count, default=3, help="candidates shown side by side")
    p.add_argument(
        "--rounds", type=argtypes.at_least(0), default=1, help="inputs to rate (0 = until q or EOF)"
    )
    p.add_argument("--rater", default="", help="your name, stored with each rating")
    p.add_argument("--out", type=Path, help="where images and sounds are saved")
    p.add_argument("--seed", type=int, help="pick inputs and candidates reproducibly")
    add_run_task_args(p)


# ----- showing plain data in a terminal ------------------------------------------------------


def image_array(item: dict[str, Any]) -> np.ndarray:
    raw = np.frombuffer(base64.b64decode(item["data"]), dtype=np.uint8)
    return raw.reshape(item["height"], item["width"], item["channels"])


def ascii_art(img: np.ndarray, width: int = ASCII_WIDTH) -> str:
    """An image as characters, darker to brighter; two rows per line (cells are tall)."""
    grey = img.mean(axis=2) if img.ndim == 3 else img.astype(np.float32)
    h, w = grey.shape
    cols = min(width, w)
    rows = max(1, round(h * cols / w / 2))
    ys = (np.arange(rows) * h / rows).astype(int)
    xs = (np.arange(cols) * w / cols).astype(int)
    levels = (grey[np.ix_(ys, xs)] / 256 * len(RAMP)).astype(int).clip(0, len(RAMP) - 1)
    return "\n".join("".join(RAMP[v] for v in row) for row in levels)


def save_item(item: dict[str, Any], path: Path) -> Path:
    """An image as PNG or a sound as WAV (16-bit), for a viewer or player."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if item["kind"] == "image":
        import cv2

        img = image_array(item)
        out = path.with_suffix(".png")
        bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if img.shape[2] == 3 else img
        cv2.imwrite(str(out), bgr)
        return out
    import soundfile

    wave = np.frombuffer(base64.b64decode(item["data"]), dtype="<f4")
    out = path.with_suffix(".wav")
    soundfile.write(str(out), np.clip(wave, -1, 1), int(item["rate"]), subtype="PCM_16")
    return out


def describe(item: dict[str, Any], path: Path) -> str:
    kind = item.get("kind")
    if kind == "text":
        return repr(item["text"])
    if kind == "label":
        others = ", ".join(f"{k} {v:.2f}" for k, v in item.get("probs", {}).items())
        return f"{item['label']} (p={item['p']:.2f}; {others})"
    if kind == "value":
        return f"{item['value']:.4g}"
    if kind == "image":
        saved = save_item(item, path)
        return f"image {item['width']}×{item['height']}, saved as {saved}\n" + ascii_art(
            image_array(item)
        )
    if kind == "audio":
        saved = save_item(item, path)
        return f"sound {item['samples'] / item['rate']:.2f} s, saved as {saved}"
    return str(item)


# ----- reading scores ------------------------------------------------------------------------


class Quit(Exception):
    """The person typed q, or stdin ended."""


def ask(prompt: str, stdin: TextIO) -> float | None:
    """A score 0–10; None to skip (empty line)."""
    for _ in range(3):
        print(prompt, end="", file=sys.stderr, flush=True)
        line = stdin.readline()
        if not line:
            raise Quit
        text = line.strip().lower()
        if text in ("q", "quit"):
            raise Quit
        if text == "":
            return None
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if 0.0 <= value <= 10.0:
            return value
        print("  a number from 0 to 10, please (Enter skips, q quits)", file=sys.stderr)
    return None


@command(_rate_args)
def cmd_rate(args: argparse.Namespace) -> int:
    from openbrains.engine.recorded import load_task_with_samples, task_spec
    from openbrains.engine.store import Archive
    from openbrains.engine.tasks.rating import RatingBook, RatingTask, candidates_from

    if args.n < 1:
        raise OpenBrainsError(f"--n must be at least 1, got {args.n}")
    reader = Archive(args.run_dir, readonly=True)
    try:
        settings = reader.get_meta("settings") or {}
        stored = run_folder_task(args.run_dir, settings.get("task"), args)
        spec = task_spec(stored, args.run_dir, reader.samples_version())
        task = load_task_with_samples(spec)
        rater = RatingTask(task, rng=random.Random(args.seed))
        candidates = candidates_from(reader)
    finally:
        reader.close()
    out = args.out or args.run_dir / "rated"
    writer = Archive(args.run_dir, create=False, lock=False)
    stored = 0
    rated: set[int] = set()
    try:
        rounds = 0
        while args.rounds == 0 or rounds < args.rounds:
            rounds += 1
            batch = rater.batch(candidates, args.n)
            stem = out / batch["batch"]
            print(f"\ninput {batch['input_id']}: {describe(batch['input'], stem / 'input')}")
            if batch.get("expected") is not None:
                print(f"(the data says: {batch['expected']})")
            for i, c in enumerate(batch["candidates"], 1):
                shown = describe(c["output"], stem / f"{i}-{c['individual']}")
                print(f"[{i}] individual #{c['individual']}: {shown}")
            rows = []
            try:
                for i, c in enumerate(batch["candidates"], 1):
                    score = ask(f"rating for [{i}] (0–10, Enter skips, q quits): ", sys.stdin)
                    if score is not None:
                        rows.append(
                            (c["individual"], batch["input_id"], score, args.rater, batch["batch"])
                        )
            except Quit:
                writer.add_ratings(rows)
                stored += len(rows)
                rated |= {r[0] for r in rows}
                break
            writer.add_ratings(rows)
            stored += len(rows)
            rated |= {r[0] for r in rows}
        book = RatingBook(float(settings.get("rating_prior", 3.0)))
        book.refresh(writer)
        lineage = {r.id: r.parents for r in writer.records()}
    finally:
        writer.close()
    print(f"\nstored {stored} ratings in {args.run_dir}")
    for ind in sorted(rated):
        estimate = book.estimate(ind, lineage.get(ind, []), lineage)
        print(f"#{ind}: {book.counts[ind]:g} ratings (weighted), shrunk mean {estimate:.2f}")
    return 0
