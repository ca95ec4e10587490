"""Recording a live stream into a run's dataset, Teachable-Machine style: pick a label, hold
the source on what it should mean, and every example it delivers becomes a labelled sample
in the run archive (DESIGN §3.10, §3.11).

``record(source, label, seconds|chunks)`` cuts the stream into the run's examples (audio
clips of the task's duration, one camera frame each, one piece of text each) and commits
each example as soon as it is complete, so a running population sees it between births and
a crash keeps everything recorded so far. The plan of what an example is comes from the
archive (``meta.recording``, written by the run), so recording needs neither the data set
nor torch; the source is any object with ``read(timeout)`` (``nodes.sources``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.store import Archive, ArchiveError

PLAN_KEY = "recording"
CHUNK_MODALITY = {"audio": "audio", "image": "image", "bytes": "text"}


class RecordError(OpenBrainsError):
    """A recording that cannot be made: the run takes none, a wrong label, a source of
    another kind than the run learns from."""


# ----- raw layouts (engine.recorded reads them back) ------------------------------------------


def pack_audio(wave: np.ndarray, rate: int) -> tuple[bytes, dict[str, Any]]:
    x = np.ascontiguousarray(np.asarray(wave, dtype="<f4").reshape(-1))
    return x.tobytes(), {"rate": int(rate), "samples": len(x)}


def pack_image(frame: np.ndarray) -> tuple[bytes, dict[str, Any]]:
    a = np.ascontiguousarray(np.asarray(frame, dtype=np.uint8))
    if a.ndim == 2:
        a = np.ascontiguousarray(np.repeat(a[:, :, None], 3, axis=2))
    if a.ndim != 3 or a.shape[2] != 3:
        raise RecordError(f"an image sample is RGB [h, w, 3], got shape {a.shape}")
    return a.tobytes(), {"shape": list(a.shape)}


def pack_text(text: str | bytes) -> tuple[bytes, dict[str, Any]]:
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    return data, {"bytes": len(data)}


def pack_pair(prompt: str | bytes, response: str | bytes) -> tuple[bytes, dict[str, Any]]:
    """A prompt → response pair (call-and-response tasks): ``prompt 0x02 response``, the
    framing byte the task itself puts between them."""
    p = prompt.encode("utf-8") if isinstance(prompt, str) else bytes(prompt)
    r = response.encode("utf-8") if isinstance(response, str) else bytes(response)
    if b"\x02" in p or b"\x02" in r or b"\x03" in p or b"\x03" in r:
        raise RecordError("a prompt or response holds a 0x02/0x03 control byte")
    return p + b"\x02" + r, {"prompt_bytes": len(p), "response_bytes": len(r)}


# ----- the plan ----------------------------------------------------------------------------


def plan_of(
    run_dir: Path, checked: Callable[[Any], dict[str, Any]] | None = None
) -> dict[str, Any]:
    """What one example of this run is (``engine.recorded.recording_plan``), from its archive;
    a folder made before recordings existed has its task loaded to find out, after
    ``checked`` (the caller's trust rules: engine.trust, app.trustlist) passed its spec."""
    try:
        archive = Archive(Path(run_dir), readonly=True)
    except ArchiveError:
        raise RecordError(f"{run_dir} is not a run folder (no run.sqlite)") from None
    try:
        plan = archive.get_meta(PLAN_KEY)
        settings = archive.get_meta("settings") or {}
    finally:
        archive.close()
    if plan is None:
        from openbrains.engine.recorded import recording_plan
        from openbrains.engine.tasks.registry import load_task

        spec = checked(settings.get("task")) if checked else settings["task"]
        plan = recording_plan(load_task(**spec))
    return plan


def check_label(plan: dict[str, Any], label: str) -> str:
    """The label, or a RecordError that says which labels this run can learn."""
    if not plan.get("ok"):
        raise RecordError(plan.get("reason", "this run takes no recordings"))
    label = str(label).strip()
    if plan["kind"] == "completion":
        return label or "text"
    classes = list(plan.get("classes") or [])
    if not label:
        raise RecordError(f"a recording needs a label: one of {', '.join(classes)}")
    if label not in classes:
        raise RecordError(
            f"label {label!r} is not a class of task {plan['task']!r} "
            f"(its classes: {', '.join(classes)})"
        )
    return label


def source_options(spec: str, plan: dict[str, Any]) -> dict[str, Any]:
    """Constructor options that make a source deliver what the run learns from: audio at
    the task's rate, frames at the task's size."""
    name = spec.partition(":")[0].lower()
    out: dict[str, Any] = {}
    if plan.get("modality") == "audio" and name in ("mic", "file"):
        out["rate"] = int(plan["rate"])
    if plan.get("modality") == "image" and name in ("camera", "file"):
        out["size"] = tuple(int(v) for v in plan["size"])
    return out


def open_for_plan(spec: str, plan: dict[str, Any], chunk_ms: float | None = None) -> Any:
    """The source ``spec`` names, set up for this run (not yet opened)."""
    from openbrains.engine.plugins import open_source

    if not plan.get("ok"):
        raise RecordError(plan.get("reason", "this run takes no recordings"))
    options = source_options(spec, plan)
    if chunk_ms is not None and spec.partition(":")[0].lower() in ("mic", "file"):
        options["chunk_ms"] = chunk_ms
    source = open_source("text:-" if spec == "text" else spec, **options)
    gives = CHUNK_MODALITY.get(source.kind, source.kind)
    if gives != plan["modality"]:
        raise RecordError(
            f"{source.describe()} gives {gives} but task {plan['task']!r} learns from "
            f"{plan['modality']} data"
        )
    return source


# ----- the recorder ------------------------------------------------------------------------


class Recorder:
    """Turns chunks into labelled samples and commits each one to the archive at ``run_dir``
    (through its own connection, without the run's lock: the run may be writing too)."""

    def __init__(
        self,
        run_dir: Path,
        label: str,
        plan: dict[str, Any] | None = None,
        on_sample: Callable[[int, int], None] | None = None,
    ) -> None:
        self.run_dir = Path(run_dir)
        self.plan = plan if plan is not None else plan_of(self.run_dir)
        self.label = check_label(self.plan, label)
        self.modality = self.plan["modality"]
        self.on_sample = on_sample or (lambda sample_id, count: None)
        self.ids: list[int] = []
        self.chunks = 0
        self._pending: list[np.ndarray] = []
        self._have = 0
        self._archive = Archive(self.run_dir, create=False, lock=False)

    def feed(self, kind: str, data: Any) -> list[int]:
        """One chunk from a source; the ids of the samples it completed."""
        got = CHUNK_MODALITY.get(kind, kind)
        if got != self.modality:
            raise RecordError(
                f"this source gives {got} but task {self.plan['task']!r} learns from "
                f"{self.modality}"
            )
        self.chunks += 1
        if self.modality == "image":
            return self._store(*pack_image(data))
        if self.modality == "text":
            return self._store(*pack_text(data)) if len(data) else []
        wave = np.asarray(data, dtype=np.float32).reshape(-1)
        self._pending.append(wave)
        self._have += len(wave)
        ids: list[int] = []
        clip = int(self.plan["clip"])
        while self._have >= clip:
            joined = np.concatenate(self._pending)
            self._pending, self._have = [joined[clip:]], len(joined) - clip
            ids += self._store(*pack_audio(joined[:clip], int(self.plan["rate"])))
        return ids

    def flush(self) -> list[int]:
        """The end of a take: an audio rest of at least half a clip is one more (padded) clip."""
        if self.modality != "audio" or self._have < int(self.plan["clip"]) // 2:
            self._pending, self._have = [], 0
            return []
        joined = np.concatenate(self._pending)
        self._pending, self._have = [], 0
        return self._store(*pack_audio(joined, int(self.plan["rate"])))

    def _store(self, data: bytes, meta: dict[str, Any]) -> list[int]:
        ids = self._archive.add_samples([(self.label, self.modality, data, meta)])
        self.ids += ids
        self.on_sample(ids[-1], len(self.ids))
        return ids

    def close(self) -> None:
        self._archive.close()


def record(
    source: Any,
    run_dir: Path,
    label: str,
    seconds: float | None = None,
    chunks: int | None = None,
    stop: threading.Event | None = None,
    on_sample: Callable[[int, int], None] | None = None,
    plan: dict[str, Any] | None = None,
) -> list[int]:
    """Record ``source`` into the run at ``run_dir`` as examples of ``label`` until
    ``seconds`` pass, ``chunks`` chunks were read, ``stop`` is set or the stream ends.
    Ctrl+C ends a take like ``stop``. Returns the new sample ids. A source that fails
    (``SourceError``: no device, device busy or gone) raises after what was recorded before
    has been kept, and the message says how much that was."""
    rec = Recorder(run_dir, label, plan, on_sample)
    deadline = None if seconds is None else time.monotonic() + seconds
    try:
        source.open()
        while chunks is None or rec.chunks < chunks:
            if stop is not None and stop.is_set():
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            try:
                chunk = source.read(timeout=0.25)
            except TimeoutError:
                continue
            if chunk is None:
                break
            rec.feed(chunk.kind, chunk.data)
    except KeyboardInterrupt:
        pass
    except RecordError:
        raise
    except OpenBrainsError as exc:
        if rec.ids:
            raise RecordError(
                f"{exc}; the {len(rec.ids)} samples recorded before were kept"
            ) from exc
        raise
    finally:
        try:
            rec.flush()
        finally:
            rec.close()
            source.close()
    return rec.ids
