"""Inputs as teachers see them: files of an unlabelled folder, and the rows of a task's
own splits, each an ``Item`` with its raw form (for language and vision models) and the
task's encoding (for brains).

Raw forms are the run archive's sample layouts (``engine.record``), so an item a teacher
labelled is stored as a sample as it is, and joins the task exactly as a recording does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from openbrains.engine.record import pack_audio, pack_image, pack_text
from openbrains.engine.recorded import encode_inputs, recording_plan
from openbrains.engine.store import Sample
from openbrains.engine.teachers.answers import Item
from openbrains.engine.teachers.errors import TeacherError

EXTENSIONS = {
    "image": {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"},
    "audio": {".wav", ".flac", ".ogg"},
    "text": {".txt", ".md"},
}
MAX_FILES = 1_000_000


def read_folder(folder: Path, plan: dict[str, Any]) -> tuple[list[Item], list[str]]:
    """The files of ``folder`` (and its sub-folders) of the run's modality as items, and a
    line for each file that could not be read (it is skipped, the rest go on)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TeacherError(f"--unlabelled {folder} is not a folder")
    if not plan.get("ok"):
        raise TeacherError(plan.get("reason", "this run takes no new examples"))
    modality = plan["modality"]
    wanted = EXTENSIONS[modality]
    items: list[Item] = []
    problems: list[str] = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in wanted:
            continue
        if len(items) >= MAX_FILES:
            problems.append(f"{folder}: more than {MAX_FILES} files; the rest are left out")
            break
        name = str(path.relative_to(folder))
        try:
            data, meta = _read(path, modality, plan)
        except (OSError, ValueError) as exc:
            problems.append(f"{name}: {exc}")
            continue
        items.append(Item(modality, data, meta, source=name))
    if not items and not problems:
        raise TeacherError(
            f"--unlabelled {folder} holds no {modality} files ({', '.join(sorted(wanted))})"
        )
    return items, problems


def _read(path: Path, modality: str, plan: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    if modality == "image":
        import cv2

        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError("not an image OpenCV can read")
        w, h = (int(v) for v in plan["size"])
        if img.shape[:2] != (h, w):  # stored at the size the task learns at
            shrink = img.shape[0] >= h and img.shape[1] >= w
            interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            img = cv2.resize(img, (w, h), interpolation=interp)
        return pack_image(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
    if modality == "audio":
        import soundfile as sf

        from openbrains.engine.codecs import resample

        try:
            wave, rate = sf.read(str(path), dtype="float32", always_2d=True)
        except Exception as exc:  # soundfile raises its own error types
            raise ValueError(str(exc).splitlines()[0] if str(exc) else "unreadable") from None
        mono = wave.mean(axis=1).astype(np.float32)
        if int(rate) != int(plan["rate"]):
            mono = resample(mono, int(rate), int(plan["rate"]))
        return pack_audio(mono[: int(plan["clip"])], int(plan["rate"]))
    return pack_text(path.read_bytes())


def encode_items(task: Any, items: Sequence[Item]) -> list[Item]:
    """The items with the task's encoding of each attached (``[1, T, C]``)."""
    if not items:
        return []
    plan = recording_plan(task)
    samples = [
        Sample(i + 1, "", "train", it.modality, it.data, dict(it.meta))
        for i, it in enumerate(items)
    ]
    x = encode_inputs(task, samples, plan)
    return [
        Item(it.modality, it.data, it.meta, encoded=x[i : i + 1], source=it.source)
        for i, it in enumerate(items)
    ]


def split_items(task: Any, split: str = "train", raw: bool = False) -> list[Item]:
    """The rows of one of the task's splits as items. ``raw``: with a form a language or
    vision model can read (the image or text the row encodes), for teachers that are not
    brains; otherwise the encoded row alone (a brain needs nothing else)."""
    part = getattr(task, split)
    name = next(iter(task.inputs))
    x = part.inputs[name].float()
    if not raw:
        return [
            Item(
                "tensor", x[i].numpy().tobytes(), {"shape": list(x[i].shape)}, encoded=x[i : i + 1]
            )
            for i in range(len(part))
        ]
    from openbrains.engine.tasks.rating import show_input

    out = []
    for i in range(len(part)):
        row = x[i : i + 1]
        shown = show_input(task, row)
        if shown.get("kind") == "image":
            import base64

            h, w, c = int(shown["height"]), int(shown["width"]), int(shown["channels"])
            img = np.frombuffer(base64.b64decode(shown["data"]), np.uint8).reshape(h, w, c)
            data, meta = pack_image(np.repeat(img, 3, axis=2) if c == 1 else img)
            out.append(Item("image", data, meta, encoded=row))
        else:
            data, meta = pack_text(str(shown.get("text", "")))
            out.append(Item("text", data, meta, encoded=row))
    return out
