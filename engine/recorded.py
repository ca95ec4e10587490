"""Recorded samples join a run's task (DESIGN §3.11: "the same stream can be recorded into
the run's dataset").

A recording is stored raw in the archive (``engine.store`` table ``samples``): audio as
float32 little-endian mono with its ``rate``, images as uint8 RGB ``[h, w, 3]`` with their
``shape``, text as UTF-8 bytes. Here they are encoded the way the task encodes its own data
(the codec it records for its input) and appended to its train and validation splits; the
test split never changes, so test scores stay comparable for the whole run.

``recording_plan`` says what one example is (a clip of the task's duration, a frame at the
task's size, a piece of text) so a recorder can cut a stream without loading the task's
data; ``with_samples`` and ``load_task_with_samples`` rebuild the task for a data version
(the newest sample id it includes), in the run and in its workers alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import torch

from openbrains.engine.codecs import AudioCodec, BytesCodec, ImageCodec, codec_from_dict, resample
from openbrains.engine.errors import FormatError
from openbrains.engine.store import Archive, Sample
from openbrains.engine.tasks.base import DatasetTask, Split, TaskError

RECORDED_KEY = "recorded"  # the task-spec key that asks for recorded samples
SOFT_KEY = "teacher"  # the task-spec key that asks for a teacher's soft targets
DEFAULT_CLIP_SECONDS = 1.0

# ----- raw layouts (written by engine.record) -------------------------------------------


def unpack(sample: Sample) -> Any:
    """A stored sample as numpy audio, a numpy RGB image, or bytes."""
    if sample.modality == "audio":
        return np.frombuffer(sample.data, dtype="<f4").astype(np.float32)
    if sample.modality == "image":
        shape = tuple(int(v) for v in sample.meta.get("shape", ()))
        return np.frombuffer(sample.data, dtype=np.uint8).reshape(shape)
    return bytes(sample.data)


def unpack_pair(sample: Sample) -> tuple[bytes, bytes]:
    """A ``pair`` sample's (prompt, response): the bytes either side of the first 0x02."""
    prompt, _, response = bytes(sample.data).partition(b"\x02")
    return prompt, response


# ----- what a task can take ------------------------------------------------------------------


def _input_codec(task: Any) -> tuple[str, Any]:
    name = next(iter(task.inputs))
    raw = (getattr(task, "codecs", None) or {}).get(name)
    if not raw:
        raise TaskError(f"task {task.name!r} records no codec for its input {name!r}")
    try:
        return name, codec_from_dict(raw)
    except FormatError as e:
        raise TaskError(f"task {task.name!r}: {e}") from None


def _clip_samples(task: DatasetTask, codec: AudioCodec) -> int:
    """Samples per example: the task's clip duration, else what gives its fixed time steps."""
    duration = (task.settings or {}).get("duration")
    if duration:
        return round(float(duration) * codec.rate)
    steps = task.inputs[next(iter(task.inputs))].time
    if steps:
        if codec.mode == "logmel":
            return (steps - 1) * codec.hop
        return codec.frame + (steps - 1) * codec.hop
    return round(DEFAULT_CLIP_SECONDS * codec.rate)


def recording_plan(task: Any) -> dict[str, Any]:
    """What one recorded example of ``task`` is, as JSON; ``{"ok": False, "reason": …}`` when
    the task cannot take recordings (a game, a table, several inputs, a numeric target)."""
    name = getattr(task, "name", "?")
    if getattr(task, "kind", "") == "game":
        return {"ok": False, "reason": f"task {name!r} learns by self-play; it takes no recordings"}
    if len(task.inputs) != 1:
        return {
            "ok": False,
            "reason": f"task {name!r} has inputs {list(task.inputs)}; recordings feed one input",
        }
    if task.kind not in ("classification", "completion"):
        return {
            "ok": False,
            "reason": f"task {name!r} predicts values; recordings are labelled with classes",
        }
    try:
        _, codec = _input_codec(task)
    except TaskError as e:
        return {"ok": False, "reason": str(e)}
    plan: dict[str, Any] = {"ok": True, "task": name, "kind": task.kind, "classes": task.classes}
    if isinstance(codec, AudioCodec) and task.kind == "classification":
        plan.update(modality="audio", rate=codec.rate, clip=_clip_samples(task, codec))
    elif isinstance(codec, ImageCodec) and task.kind == "classification":
        spec = task.inputs[next(iter(task.inputs))]
        grid = spec.meta.grid
        h = codec.height or (grid[0] * codec.patch if grid else None)
        w = codec.width or (grid[1] * codec.patch if grid else None)
        if not h or not w:
            return {"ok": False, "reason": f"task {name!r} takes images of any size"}
        plan.update(modality="image", size=[int(w), int(h)], channels=codec.channels)
    elif isinstance(codec, BytesCodec):
        plan.update(modality="text")
    else:
        return {
            "ok": False,
            "reason": f"task {name!r} reads {codec.kind} data; recordings are sound, images or text",
        }
    return plan


# ----- encoding ----------------------------------------------------------------------------


def _fit_time(x: torch.Tensor, steps: int) -> torch.Tensor:
    """Cut or zero-pad ``[B, T, C]`` to ``steps`` time steps (the split's own length)."""
    if x.shape[1] == steps:
        return x
    if x.shape[1] > steps:
        return x[:, :steps]
    pad = torch.zeros(x.shape[0], steps - x.shape[1], x.shape[2], dtype=x.dtype)
    return torch.cat([x, pad], dim=1)


def _audio(codec: AudioCodec, samples: Sequence[Sample], clip: int) -> torch.Tensor:
    clips = []
    for s in samples:
        wave = unpack(s)
        rate = int(s.meta.get("rate", codec.rate))
        if rate != codec.rate:
            wave = resample(wave, rate, codec.rate)
        out = np.zeros(clip, np.float32)
        out[: min(clip, len(wave))] = wave[:clip]
        clips.append(out)
    return codec.encode(clips).data


def _images(codec: ImageCodec, samples: Sequence[Sample], size: Sequence[int]) -> torch.Tensor:
    import cv2

    w, h = int(size[0]), int(size[1])
    frames = []
    for s in samples:
        img = unpack(s)
        if img.shape[:2] != (h, w):
            shrink = img.shape[0] >= h and img.shape[1] >= w
            img = cv2.resize(
                img, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            )
        if codec.channels == 1:
            img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[:, :, None]
        frames.append(img)
    batch = np.stack(frames)
    if codec.scale is not None and codec.scale != 255.0:  # the task's own units (digits: 0–16)
        batch = batch.astype(np.float32) * np.float32(codec.scale / 255.0)
    return codec.encode(batch).data


def _completion(task: DatasetTask, samples: Sequence[Sample], split: str) -> Split | None:
    """Recorded text of one split, joined in recording order and cut into the task's windows."""
    from openbrains.engine.tasks.text import windows

    context = int((task.settings or {}).get("context", 64))
    step = int((task.settings or {}).get("stride") or context) if split == "train" else context
    blob = b"".join(bytes(s.data) for s in samples)
    if len(blob) < context + 1:
        return None
    part = windows(blob, context, step)
    name = next(iter(task.inputs))
    own = task.train.inputs[name]
    if (
        own.shape[1:] != part.inputs["text"].shape[1:]
        or task.train.target.shape[1:] != (part.target.shape[1:])
    ):
        return None  # a task with its own example layout (prompt → response): not windows
    return Split({name: part.inputs["text"]}, part.target)


def encode_samples(task: DatasetTask, samples: Sequence[Sample]) -> dict[str, Split]:
    """Recorded samples as extra ``train``/``val`` examples of ``task`` (only non-empty ones).

    A sample this task cannot use (a label it does not have, another modality) is skipped:
    one bad row must never stop a run from loading its data.
    """
    plan = recording_plan(task)
    if not plan.get("ok"):
        return {}
    name, _codec = _input_codec(task)
    out: dict[str, Split] = {}
    for split in ("train", "val"):
        rows = [s for s in samples if s.split == split and s.modality == plan["modality"]]
        if hasattr(task, "pairs"):  # call and response: pairs, not windows of text
            part = _pairs(task, samples, split)
            if part is not None:
                out[split] = part
            continue
        if plan["kind"] == "completion":
            part = _completion(task, rows, split)
            if part is not None:
                out[split] = part
            continue
        rows = [s for s in rows if s.label in plan["classes"]]
        if not rows:
            continue
        x = encode_inputs(task, rows, plan)
        y = torch.tensor([plan["classes"].index(s.label) for s in rows], dtype=torch.long)
        out[split] = Split({name: x}, y)
    return out


def encode_inputs(
    task: DatasetTask, samples: Sequence[Sample], plan: dict[str, Any] | None = None
) -> torch.Tensor:
    """Samples of the task's recording modality as its input tensor ``[N, T, C]``, encoded
    the way the task encodes its own data (teachers read unlabelled files this way too)."""
    plan = plan or recording_plan(task)
    name, codec = _input_codec(task)
    if plan["modality"] == "audio":
        x = _audio(codec, samples, plan["clip"])
    elif plan["modality"] == "image":
        x = _images(codec, samples, plan["size"])
    else:
        x = codec.encode([bytes(s.data) for s in samples]).data
    return _fit_time(x.float(), int(task.train.inputs[name].shape[1]))


def _pairs(task: DatasetTask, samples: Sequence[Sample], split: str) -> Split | None:
    """Prompt → response pairs (a teacher's, ``engine.record.pack_pair``) as examples of a
    call-and-response task; a pair too long for its context is left out."""
    from openbrains.engine.tasks.callresponse import encode_pairs

    context = int((task.settings or {}).get("context") or 0)
    pairs = [unpack_pair(s) for s in samples if s.split == split and s.modality == "pair"]
    pairs = [(p, r) for p, r in pairs if r and len(r) + 1 <= context]
    if not pairs or not context:
        return None
    return encode_pairs(pairs, context)


def with_samples(task: DatasetTask, samples: Sequence[Sample], version: int) -> DatasetTask:
    """``task`` with the recorded samples up to ``version`` added to train and validation."""
    extra = encode_samples(task, [s for s in samples if s.id <= version])
    train = task.train.append(extra["train"]) if "train" in extra else task.train
    val = task.val.append(extra["val"]) if "val" in extra else task.val
    settings = {
        **(task.settings or {}),
        RECORDED_KEY: {
            "version": int(version),
            "train": len(extra["train"]) if "train" in extra else 0,
            "val": len(extra["val"]) if "val" in extra else 0,
        },
    }
    return dataclasses.replace(task, train=train, val=val, settings=settings)


def data_version(task: Any) -> int:
    """The data version a task was built with (0: no recordings)."""
    return int(((getattr(task, "settings", None) or {}).get(RECORDED_KEY) or {}).get("version", 0))


def task_spec(base: dict[str, Any], run_dir: Path, version: int) -> dict[str, Any]:
    """The JSON spec workers rebuild the task from: the run's task plus its recordings.

    A ``recorded`` key already in ``base`` (a run folder's stored settings) is dropped: the
    archive recordings are read from is always the run's own, never a path a file names.
    So is a ``teacher`` key: only the run's own teacher (the user's order) adds one."""
    base = {k: v for k, v in base.items() if k not in (RECORDED_KEY, SOFT_KEY)}
    if version <= 0:
        return base
    return {**base, RECORDED_KEY: {"run_dir": str(Path(run_dir).resolve()), "upto": int(version)}}


_BASE_CACHE: dict[bytes, Any] = {}


def load_task_with_samples(spec: dict[str, Any]) -> Any:
    """Build a task from a spec that may name recorded samples (``task_spec``).

    The base task is cached (one entry), so a worker that reloads for new recordings pays
    only for reading and encoding the samples, not for loading the data set again.
    """
    from openbrains.engine.tasks.registry import load_task

    spec = dict(spec)
    recorded = spec.pop(RECORDED_KEY, None)
    taught = spec.pop(SOFT_KEY, None)  # a distilling teacher's soft targets (engine.teachers)
    if taught:
        from openbrains.engine.teachers.roles.distill import with_soft_targets

        return with_soft_targets(load_task_with_samples({**spec, RECORDED_KEY: recorded}), taught)
    key = orjson.dumps(spec, option=orjson.OPT_SORT_KEYS)
    base = _BASE_CACHE.get(key)
    if base is None:
        base = load_task(**spec)
        _BASE_CACHE.clear()
        _BASE_CACHE[key] = base
    elif callable(getattr(base, "refresh", None)):
        try:
            base.refresh()  # a task whose own file grows (stream): read what was added
        except Exception:
            pass
    if not recorded:
        return base
    upto = int(recorded["upto"])
    try:
        archive = Archive(Path(recorded["run_dir"]), readonly=True)
        try:
            samples = archive.samples(upto)
        finally:
            archive.close()
        return with_samples(base, samples, upto)
    except Exception:  # train on the task's own data rather than not at all; the archive
        return base  # shows it (data version 0) and the run rescores what comes back
