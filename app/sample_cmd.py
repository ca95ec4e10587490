"""`openbrains sample FILE.graph …`: what a generative brain makes.

Text brains (``text``, ``stream``) continue ``--prompt`` for ``--length`` bytes at
``--temperature`` (0 = greedy); call-and-response brains answer ``--prompt``; denoisers
make ``--count`` images from noise and print them (or write a PNG grid with ``--out``).
Which one a file holds is read from the task it learned (exported graphs) or the task of
its project; the window and the noise schedule come from that task's settings.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from openbrains.app import argtypes
from openbrains.app.cli import command
from openbrains.engine.errors import OpenBrainsError

SHADES = " .:-=+*#%@"


def _sample_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="generate from a brain: continue text, answer, make images")
    p.add_argument("file", type=Path)
    p.add_argument("--prompt", default="", help="text to continue or to answer")
    p.add_argument(
        "--length", type=argtypes.at_least(0), default=200, help="bytes to generate (text)"
    )
    p.add_argument(
        "--temperature", type=argtypes.non_negative, default=0.8, help="0 = greedy; higher = bolder"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--context", type=argtypes.count, help="window in bytes (default: the task's)")
    p.add_argument("--count", type=argtypes.count, default=4, help="images to make (denoisers)")
    p.add_argument("--out", type=Path, help="write the images as one PNG grid here")


def task_of(doc: Any) -> tuple[str, dict[str, Any]]:
    """(task name, its settings) of a loaded file: the last task it learned, else its
    project's task."""
    from openbrains.engine.taskrecord import latest

    last = latest(doc.graph) if doc.graph else None
    if last is not None:
        return last.name, dict(last.settings)
    task = (doc.project or {}).get("task") or {}
    return str(task.get("name", "")), {k: v for k, v in task.items() if k not in ("name", "data")}


def ascii_image(image: np.ndarray) -> str:
    """A [0, 1] image as lines of characters, dark to bright."""
    idx = np.clip((image * len(SHADES)).astype(int), 0, len(SHADES) - 1)
    return "\n".join("".join(SHADES[i] for i in row) for row in idx)


def write_grid(images: np.ndarray, path: Path, scale: int = 8) -> None:
    """Images side by side, each pixel ``scale``×``scale``, grey PNG."""
    import cv2

    tiles = [np.kron(img, np.ones((scale, scale))) for img in images]
    gap = np.ones((tiles[0].shape[0], scale // 2))
    row = np.concatenate([t for tile in tiles for t in (tile, gap)][:-1], axis=1)
    if not cv2.imwrite(str(path), (row * 255).round().astype(np.uint8)):
        raise OpenBrainsError(f"cannot write {path}")


@command(_sample_args)
def cmd_sample(args: argparse.Namespace) -> int:
    import openbrains

    name, settings = task_of(openbrains.read(args.file))
    brain = openbrains.load(args.file).module
    if name == "denoise" or sorted(brain.input_names) == ["noisy", "step"]:
        from openbrains.engine.tasks.denoise import sample_images

        if args.count < 1:
            raise OpenBrainsError("--count must be at least 1")
        images = sample_images(brain, settings, args.count, args.seed)
        if args.out:
            write_grid(images, args.out)
            print(f"wrote {len(images)} images to {args.out}")
        else:
            print("\n\n".join(ascii_image(img) for img in images))
        return 0
    if args.length < 0:
        raise OpenBrainsError("--length must be >= 0")
    context = args.context or settings.get("context")
    if name == "callresponse":
        from openbrains.engine.tasks.callresponse import respond

        answer = respond(
            brain, [args.prompt.encode()], args.length, args.temperature, args.seed, context
        )[0]
        print(answer.decode("utf-8", errors="replace"))
        return 0
    from openbrains.engine.textgen import complete

    out = complete(brain, args.prompt, args.length, args.temperature, args.seed, context)
    sys.stdout.write(args.prompt + out.decode("utf-8", errors="replace") + "\n")
    return 0
