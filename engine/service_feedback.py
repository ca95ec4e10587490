"""Service commands for what people give a run while it runs (DESIGN §3.8, §3.11, §6):
recorded samples, ratings, and the live champion. ``COMMANDS`` is merged into
``engine.service.HANDLERS``; this module does not import the service, which runs as
``__main__`` under ``python -m openbrains.engine.service``.

Commands (replies carry ``ok``; see docs/decisions.md "Recording and ratings"):

- ``add_samples {label, items}``: examples the GUI already holds; each item is
  ``{"text": str}``, ``{"audio": base64 float32, "rate": r}`` or
  ``{"image": base64 uint8 RGB, "width": w, "height": h}`` → ``{ids, counts, version}``.
- ``record {label, source?, seconds?, chunks?}``: record a source in the background (the
  live source when ``source`` is left out and live mode runs) → events ``recording``
  per sample and ``recorded`` at the end (with ``error`` when the source failed).
- ``record_stop`` → ``{count}``; ``samples`` → ``{counts, version, plan}``.
- ``rating_batch {n}`` → one input and ``n`` candidates' outputs as plain data;
  ``rate {batch, input_id, ratings: [{individual, score}], rater}`` → ``{ids}``.
- ``live_start {source, individual?, real_time?}`` (a video file as the camera plays at
  its frame rate unless ``real_time`` is false) → events ``live`` ``{index, latency_ms, outputs,
  input}``; ``live_text {text}`` types into a ``text`` source; ``live_stop``.

A device that is missing or busy is a clear error reply (or a ``live_error`` /
``recorded`` event when it fails later); the run itself never stops for it.
"""

from __future__ import annotations

import base64
import random
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.record import (
    Recorder,
    RecordError,
    check_label,
    open_for_plan,
    pack_audio,
    pack_image,
    pack_text,
    record,
)
from openbrains.engine.store import Archive

if TYPE_CHECKING:
    from openbrains.engine.service import Service

LIVE_EVENTS_PER_S = 30  # at most this many ``live`` events a second (the GUI repaints)
LIVE_IMAGE_EVERY_S = 0.1  # the camera frame travels with an event this often


@dataclass
class Feedback:
    """What the feedback commands keep in a service: a writer connection, background
    threads and their stop flags."""

    writer: Archive | None = None
    recording: threading.Thread | None = None
    record_stop: threading.Event = field(default_factory=threading.Event)
    record_count: int = 0
    live: LiveLoop | None = None
    rng: random.Random = field(default_factory=random.Random)


def state(svc: Service) -> Feedback:
    fb = getattr(svc, "feedback", None)
    if fb is None:
        fb = svc.feedback = Feedback()  # type: ignore[attr-defined]
    return fb


def writer(svc: Service) -> Archive:
    """A second connection to the run's archive for samples and ratings: the search thread
    owns the first, and SQLite (WAL) orders the two."""
    fb = state(svc)
    if fb.writer is None:
        fb.writer = Archive(svc.need_run().run_dir, create=False, lock=False)
    return fb.writer


def plan(svc: Service) -> dict[str, Any]:
    """What one example of the open run is (``engine.recorded.recording_plan``)."""
    return dict(svc.need_run().plan)


def stop_all(svc: Service) -> None:
    """Service shutdown: end recording and live mode, close the writer."""
    fb = getattr(svc, "feedback", None)
    if fb is None:
        return
    fb.record_stop.set()
    if fb.live is not None:
        fb.live.stop()
        fb.live.join(timeout=5)
        fb.live = None
    if fb.recording is not None:
        fb.recording.join(timeout=5)
        fb.recording = None
    if fb.writer is not None:
        fb.writer.close()
        fb.writer = None


# ----- samples -----------------------------------------------------------------------------


def _decode_item(item: dict[str, Any], modality: str) -> tuple[bytes, dict[str, Any]]:
    try:
        if modality == "text":
            return pack_text(str(item["text"]))
        if modality == "audio":
            wave = np.frombuffer(base64.b64decode(item["audio"]), dtype="<f4")
            return pack_audio(wave, int(item.get("rate", 16000)))
        raw = np.frombuffer(base64.b64decode(item["image"]), dtype=np.uint8)
        return pack_image(raw.reshape(int(item["height"]), int(item["width"]), 3))
    except (KeyError, ValueError, TypeError) as exc:
        raise RecordError(f"a {modality} sample could not be read: {exc}") from None


def _add_samples(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    p = plan(svc)
    label = check_label(p, msg.get("label", ""))
    items = [_decode_item(item, p["modality"]) for item in msg.get("items") or []]
    if not items:
        raise RecordError("add_samples needs items")
    w = writer(svc)
    ids = w.add_samples([(label, p["modality"], data, meta) for data, meta in items])
    return {"ids": ids, "counts": w.sample_counts(), "version": w.samples_version()}


def _samples(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    w = writer(svc)
    return {"counts": w.sample_counts(), "version": w.samples_version(), "plan": plan(svc)}


def _record(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    fb = state(svc)
    if fb.recording is not None and fb.recording.is_alive():
        raise RecordError("already recording; send record_stop first")
    p = plan(svc)
    run_dir = svc.need_run().run_dir
    label = check_label(p, msg.get("label", ""))
    fb.record_stop = threading.Event()
    fb.record_count = 0
    seconds, chunks = msg.get("seconds"), msg.get("chunks")

    def progress(sample_id: int, count: int) -> None:
        fb.record_count = count
        svc.event("recording", {"label": label, "sample": sample_id, "count": count})

    spec = msg.get("source")
    if not spec:  # record what live mode is showing
        if fb.live is None or not fb.live.is_alive():
            raise RecordError("no source: give one, or start live mode first")
        fb.live.attach(Recorder(run_dir, label, p, progress), seconds, chunks, fb.record_stop)
        return {"source": fb.live.source.describe(), "label": label}
    if spec.partition(":")[0].lower() == "text":  # stdin is this service's command pipe
        raise RecordError(
            "typed text is recorded with add_samples, or while live mode reads typed text"
        )
    source = open_for_plan(spec, p)
    source.open()  # a missing or busy device is this command's error reply

    def work() -> None:
        ids: list[int] = []
        error = ""
        try:
            ids = record(source, run_dir, label, seconds, chunks, fb.record_stop, progress, p)
        except OpenBrainsError as exc:
            error = str(exc)
        svc.event(
            "recorded",
            {"label": label, "count": fb.record_count, "ids": ids, "error": error},
        )

    fb.recording = threading.Thread(target=work, name="openbrains-record", daemon=True)
    fb.recording.start()
    return {"source": source.describe(), "label": label}


def _record_stop(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    fb = state(svc)
    fb.record_stop.set()
    if fb.recording is not None:
        fb.recording.join(timeout=10)
        fb.recording = None
    if fb.live is not None:
        fb.live.detach()
    return {"count": fb.record_count}


# ----- ratings -----------------------------------------------------------------------------


def _rating_batch(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    from openbrains.engine.tasks.rating import RatingTask, candidates_from

    run = svc.need_run()
    task = RatingTask(run.task, rng=state(svc).rng)
    return task.batch(candidates_from(svc.query()), int(msg.get("n", 3)))


def _rate(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    rows = [
        (
            int(r["individual"]),
            str(msg.get("input_id", "")),
            float(r["score"]),
            str(msg.get("rater", "")),
            str(msg.get("batch", "")),
        )
        for r in msg.get("ratings") or []
    ]
    if not rows:
        raise OpenBrainsError("rate needs ratings: [{individual, score}, …]")
    return {"ids": writer(svc).add_ratings(rows)}


# ----- live mode -----------------------------------------------------------------------------


class LiveLoop(threading.Thread):
    """A brain on a live source in the service: one ``live`` event per chunk (throttled),
    and, while a recording is attached, every chunk also goes into the run's data set."""

    def __init__(self, svc: Service, source: Any, session: Any, individual: int) -> None:
        super().__init__(name="openbrains-live", daemon=True)
        self.svc = svc
        self.source = source
        self.session = session
        self.individual = individual
        self._stop_flag = threading.Event()
        self._lock = threading.Lock()
        self._recorder: Recorder | None = None
        self._limits: tuple[float | None, int | None, threading.Event] | None = None
        self._started_rec = 0.0
        self.conversation = uuid.uuid4().hex[:12]  # groups what was typed in this live session

    def stop(self) -> None:
        self._stop_flag.set()

    def attach(
        self, recorder: Recorder, seconds: float | None, chunks: int | None, stop: threading.Event
    ) -> None:
        with self._lock:
            self._recorder, self._limits = recorder, (seconds, chunks, stop)
            self._started_rec = time.monotonic()

    def detach(self, error: str = "") -> None:
        with self._lock:
            rec, self._recorder = self._recorder, None
        if rec is None:
            return
        rec.flush()
        rec.close()
        self.svc.event(
            "recorded",
            {"label": rec.label, "count": len(rec.ids), "ids": rec.ids, "error": error},
        )

    def _record(self, chunk: Any) -> None:
        with self._lock:
            rec, limits = self._recorder, self._limits
        if rec is None or limits is None:
            return
        seconds, chunks, stop = limits
        try:
            rec.feed(chunk.kind, chunk.data)
        except OpenBrainsError as exc:
            self.detach(str(exc))
            return
        done = stop.is_set() or (chunks is not None and rec.chunks >= chunks)
        if seconds is not None and time.monotonic() - self._started_rec >= seconds:
            done = True
        if done:
            self.detach()

    def _remember(self, data: bytes, outputs: dict[str, Any]) -> None:
        """Keep what a person typed and what the brain answered (engine.interactions)."""
        from openbrains.engine.interactions import add_interaction

        try:
            add_interaction(writer(self.svc), self.conversation, self.individual, data, outputs)
        except (OpenBrainsError, sqlite3.Error) as exc:  # losing one message must not stop live
            self.svc.event("live_error", {"message": f"could not keep a typed message: {exc}"})

    def _input_view(self, chunk: Any) -> dict[str, Any] | None:
        from openbrains.engine.tasks.rating import image_data

        if chunk.kind == "image":
            return image_data(chunk.data)
        if chunk.kind == "audio":
            x = np.asarray(chunk.data, dtype=np.float32)
            return {"kind": "level", "rms": float(np.sqrt(np.mean(x * x))) if len(x) else 0.0}
        return {"kind": "text", "text": bytes(chunk.data).decode("utf-8", errors="replace")}

    def run(self) -> None:
        last_event = last_image = 0.0
        error = ""
        try:
            while not self._stop_flag.is_set():
                try:
                    chunk = self.source.read(timeout=0.25)
                except TimeoutError:
                    continue
                if chunk is None:
                    break
                step = self.session.feed(chunk.data)
                self._record(chunk)
                if chunk.kind == "bytes" and hasattr(self.source, "push"):
                    self._remember(chunk.data, step.outputs)  # typed: a teacher may tag it
                now = time.monotonic()
                if now - last_event < 1.0 / LIVE_EVENTS_PER_S:
                    continue
                last_event = now
                data = {
                    "individual": self.individual,
                    "index": step.index,
                    "latency_ms": step.latency_ms,
                    "outputs": step.outputs,
                    "steps": step.steps,
                }
                if chunk.kind != "image" or now - last_image >= LIVE_IMAGE_EVERY_S:
                    data["input"] = self._input_view(chunk)
                    last_image = now if chunk.kind == "image" else last_image
                self.svc.event("live", data)
        except OpenBrainsError as exc:  # the device went away: say so, keep the engine going
            error = str(exc)
        except Exception as exc:  # a brain that cannot run this stream
            error = f"{type(exc).__name__}: {exc}"
        finally:
            self.detach(error)
            self.source.close()
            if error:
                self.svc.event("live_error", {"message": error})
            self.svc.event("live_stopped", {"individual": self.individual})


def _live_brain(svc: Service, individual: int | None) -> tuple[int, Any, Any]:
    from openbrains.engine.compile import compile_graph
    from openbrains.engine.graph import Graph
    from openbrains.engine.weights import decode_weights

    archive = svc.query()
    if individual is None:
        best = archive.best()
        if best is None:
            raise OpenBrainsError("no trained individual yet; let the run train a few")
        individual = best.id
    rec = archive.get(int(individual))
    weights = archive.weights(rec.id)
    if not weights:
        raise OpenBrainsError(f"individual {rec.id} has no weights stored (retired long ago)")
    brain = compile_graph(Graph.from_json(rec.graph_json), seed=0)
    brain.load_weights(decode_weights(weights))
    return rec.id, brain, rec


def _live_start(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    from openbrains.engine.live import LiveSession
    from openbrains.engine.plugins import open_source

    fb = state(svc)
    if fb.live is not None and fb.live.is_alive():
        raise OpenBrainsError("live mode is already running; send live_stop first")
    run = svc.need_run()
    individual, brain, _rec = _live_brain(svc, msg.get("individual"))
    session = LiveSession(brain, dict(run.task.codecs or {}), list(run.task.classes or []))
    spec = str(msg.get("source") or "")
    if not spec:
        raise OpenBrainsError("live_start needs a source: mic, camera[:N], text or file:PATH")
    p = plan(svc)
    options: dict[str, Any] = {}
    if session.audio is not None and spec.partition(":")[0] in ("mic", "file"):
        options["rate"] = session.codec.rate
    elif p.get("modality") == "image" and spec.partition(":")[0] in ("camera", "file"):
        options["size"] = tuple(p["size"])
    if spec.partition(":")[0] == "camera" and spec.partition(":")[2][:1] not in ("", *"0123456789"):
        # a video standing in for a camera plays at its own frame rate, like a camera
        options["real_time"] = bool(msg.get("real_time", True))
    source = open_source(spec, **options)  # "text": typed into the GUI, see live_text
    source.open()
    fb.live = LiveLoop(svc, source, session, individual)
    fb.live.start()
    return {"individual": individual, "source": source.describe()}


def _live_text(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    fb = state(svc)
    source = fb.live.source if fb.live is not None else None
    if source is None or not hasattr(source, "push"):
        raise OpenBrainsError("live mode is not reading typed text (start it with source text)")
    source.push(str(msg.get("text", "")))
    return {}


def _live_stop(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    fb = state(svc)
    if fb.live is not None:
        fb.live.stop()
        fb.live.join(timeout=5)
        fb.live = None
    return {}


COMMANDS = {
    "add_samples": _add_samples,
    "samples": _samples,
    "record": _record,
    "record_stop": _record_stop,
    "rating_batch": _rating_batch,
    "rate": _rate,
    "live_start": _live_start,
    "live_text": _live_text,
    "live_stop": _live_stop,
}
"""Command name → handler, merged into ``engine.service.HANDLERS``."""
