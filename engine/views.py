"""Test-time views: a brain for images answers for the image and its four one-pixel shifts
together, the mean of its five outputs.

A tiny image net trained on shifted copies of its images still answers a little
differently for each shift; averaging over them is an ensemble that costs no parameter.
On 36 kept 60 s digits searches (sessions 20 and 22) the delivered brains' test accuracy
rose from 0.9783 to 0.9867 (medians; 35 rose, none fell) with their outputs averaged over
these five views (docs/decisions.md, session 23). Averaging the raw outputs
(logits) ranks classes as averaging log-probabilities does, and is what any output can
take. Training never uses views (its images are already shifted at random); evaluation,
exports and live use do, so what a run scores is what a user gets, at five times the
forward work (which the brain's flops count).

The image input's node says so (``views`` 1, with its ``patch``); only a brain without
recurrent state takes views, since a stream's state would see each frame five times.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from openbrains.engine.graph import Graph
from openbrains.engine.patches import to_images, to_patches

OFFSETS = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))
"""The views: the image itself, then moved one pixel up, down, left and right."""


@dataclass(frozen=True)
class ImageLayout:
    """One image input of a brain: its position among the inputs and ImageCodec's layout."""

    index: int
    grid: tuple[int, int]
    patch: int
    channels: int  # per pixel: a patch step holds patch² · channels numbers

    def moved(self, x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
        """``x``'s images moved ``dy`` rows down and ``dx`` columns right, zeros shifted in
        (pads and slices only, so every exporter traces it)."""
        if dy == 0 and dx == 0:
            return x
        img = to_images(x, self.grid, self.patch, self.channels)
        h, w = img.shape[1:3]
        img = F.pad(img, (0, 0, 1, 1, 1, 1))[:, 1 - dy : 1 - dy + h, 1 - dx : 1 - dx + w]
        return to_patches(img, self.patch)


@dataclass(frozen=True)
class ImageViews:
    """The image inputs a brain moves together, view by view."""

    images: tuple[ImageLayout, ...]

    @property
    def count(self) -> int:
        return len(OFFSETS)

    def expand(self, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Every input repeated once per view along the batch, the images moved in each."""
        layouts = {layout.index: layout for layout in self.images}
        out = []
        for i, x in enumerate(inputs):
            layout = layouts.get(i)
            if layout is None:
                out.append(torch.cat([x] * self.count))
            else:
                out.append(torch.cat([layout.moved(x, dy, dx) for dy, dx in OFFSETS]))
        return out

    def merge(self, out: Any) -> Any:
        """The mean over views of each output (a tuple stays a tuple)."""
        if isinstance(out, tuple):
            return tuple(self.merge(o) for o in out)
        return out.reshape(self.count, -1, *out.shape[1:]).mean(0)


def image_views(inputs: Sequence[dict[str, Any]], stateful: bool) -> ImageViews | None:
    """The views of a brain whose input nodes have these params (in the brain's input
    order), or None: no input asks for them, or the brain carries state."""
    if stateful:
        return None
    images = []
    for i, p in enumerate(inputs):
        grid_h, grid_w = int(p.get("grid_h", 0)), int(p.get("grid_w", 0))
        patch = max(1, int(p.get("patch", 1)))
        per_pixel, rest = divmod(int(p.get("channels", 1)), patch * patch)
        if int(p.get("views", 0)) and grid_h and grid_w and per_pixel and not rest:
            images.append(ImageLayout(i, (grid_h, grid_w), patch, per_pixel))
    return ImageViews(tuple(images)) if images else None


def task_views(task: Any) -> dict[str, int]:
    """Each input of ``task`` by name: the patch side of an image its brains answer for
    with views (one its training shifts, engine.train.augment, unless the task's ``views``
    setting is off), 0 for the others."""
    from openbrains.engine.train.augment import shift_specs

    if not getattr(task, "codecs", None):
        return {}
    shifted = shift_specs(task) if task.settings.get("views", True) else {}
    return {name: shifted[name].patch if name in shifted else 0 for name in task.inputs}


def with_views(graph: Graph, patches: Mapping[str, int]) -> Graph:
    """``graph`` with views on for its inputs that ``patches`` gives a patch side and off
    for those it gives 0; inputs it does not name (another task's, in a multi-task brain)
    keep theirs. ``graph`` itself when nothing changes, else a copy."""
    want = {}
    for node in graph.input_nodes():
        patch = patches.get(node.params.get("name"))
        if patch is None:
            continue
        views = {"views": 1, "patch": patch} if patch else {"views": 0}
        if any(node.params.get(k, 0 if k == "views" else 1) != v for k, v in views.items()):
            want[node.uid] = views
    if not want:
        return graph
    out = graph.copy()
    for uid, views in want.items():
        out.nodes[uid].params.update(views)
    return out
