"""What each input and output of an exported brain means, so a user of onnxruntime (or of
``brain.h``) alone can feed it and read it: codec, grid, rate, vocabulary, class names and
the task each head learned. Written into the ONNX model's metadata, the C header and the
web page from one ``BrainMeta``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import orjson

from openbrains.engine import __version__
from openbrains.engine.compile import Brain
from openbrains.engine.graph import Graph
from openbrains.engine.signal import SignalSpec

LAYOUT = "[batch, time, channels] float32"


@dataclass(frozen=True)
class PortMeta:
    """One input or output: its tensor name, Signal shape and how to read it."""

    name: str  # the tensor's name in the exported model
    signal: (
        str  # the graph's input/output name (differs only where an output shares an input's name)
    )
    channels: int
    time: int | None  # None: any number of steps (a stream chunk)
    modality: str
    min_time: int = 1  # for a free length: the chunk lengths the exported model is valid for
    max_time: int | None = None
    grid: tuple[int, int] | None = None
    rate: float | None = None
    vocab: int | None = None
    codec: dict[str, Any] | None = None
    classes: tuple[str, ...] = ()
    task: str | None = None
    task_kind: str | None = None
    meaning: str = ""


@dataclass(frozen=True)
class StateMeta:
    """One recurrent state tensor of a step model: fed back from ``output`` to ``input``."""

    input: str
    output: str
    node: str
    unit: str
    shape: tuple[int | str, ...]  # "batch" where the batch size goes
    initial: str = "zeros"


@dataclass(frozen=True)
class BrainMeta:
    inputs: tuple[PortMeta, ...]
    outputs: tuple[PortMeta, ...]
    states: tuple[StateMeta, ...] = ()
    tasks: tuple[dict[str, Any], ...] = ()
    source: str = ""
    layout: str = LAYOUT
    created_by: str = f"openbrains {__version__}"
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def stateful(self) -> bool:
        return bool(self.states)

    def with_states(self, states: tuple[StateMeta, ...]) -> BrainMeta:
        return replace(self, states=states)

    def with_time(self, ranges: dict[str, tuple[int, int | None]]) -> BrainMeta:
        """Free-length inputs whose length the exported model bounds or fixes (a loop over
        time unrolled, a pool window assumed full)."""
        ins = []
        for p in self.inputs:
            lo, hi = ranges.get(p.name, (1, None))
            if p.time is None and lo == hi:
                p = replace(p, time=lo, min_time=lo, max_time=hi)
            elif p.time is None:
                p = replace(p, min_time=lo, max_time=hi)
            ins.append(p)
        return replace(self, inputs=tuple(ins))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return orjson.dumps(self.to_dict(), option=orjson.OPT_SORT_KEYS).decode()


def _tasks(graph: Graph) -> list[dict[str, Any]]:
    """The tasks a graph records, each as plain data with its name (format v2 keys them by
    name; a v1 graph in memory holds a list)."""
    if isinstance(graph.tasks, dict):
        return [{**rec.to_dict(), "name": name} for name, rec in graph.tasks.items()]
    return [t for t in graph.tasks if isinstance(t, dict)]


def _task_of(graph: Graph, output: str) -> dict[str, Any] | None:
    tasks = _tasks(graph)
    for t in tasks:
        heads = t.get("heads") or t.get("outputs") or {}
        if output in heads:
            return t
    return tasks[-1] if len(tasks) == 1 else None


VIEWED = "; the brain answers with the mean over this image and its four one-pixel shifts"


def _meaning(spec: SignalSpec, role: str, classes: tuple[str, ...], kind: str | None) -> str:
    m = spec.meta
    steps = f"{spec.time} steps" if spec.time else "any number of steps"
    if role == "input":
        if m.vocab:
            return f"token ids 0..{m.vocab - 1} as floats, one per step ({steps})"
        if m.grid:
            return f"{m.grid[0]}x{m.grid[1]} image patches row by row, {spec.channels} values each"
        if m.rate:
            return f"{spec.channels} features per frame at {m.rate:g} frames/s ({steps})"
        return f"{spec.channels} features per step ({steps})"
    if kind == "classification" or classes:
        names = ", ".join(classes[:12]) + (" …" if len(classes) > 12 else "")
        return (
            f"logits over {spec.channels} classes ({names}) at the last step; argmax is the answer"
        )
    if kind == "completion" or spec.channels == 256:
        return "logits over the 256 next byte values at every step"
    return f"{spec.channels} values per step ({steps})"


def describe(brain: Brain, graph: Graph, source: str = "") -> BrainMeta:
    """The meaning of every input and output of ``brain`` (compiled from ``graph``)."""
    codecs = graph.codecs if isinstance(graph.codecs, dict) else {}
    inputs = tuple(
        _port(name, brain.input_specs[name], "input", codecs.get(name), None)
        for name in brain.input_names
    )
    viewed = {brain.input_names[v.index] for v in brain.views.images} if brain.views else set()
    inputs = tuple(
        replace(p, meaning=p.meaning + VIEWED) if p.name in viewed else p for p in inputs
    )
    taken = set(brain.input_names)
    outputs = tuple(
        _port(name, brain.output_specs[name], "output", codecs.get(name), _task_of(graph, name))
        for name in brain.output_names
    )
    outputs = tuple(replace(p, name=f"{p.name}_out") if p.name in taken else p for p in outputs)
    tasks = tuple(
        {k: t.get(k) for k in ("name", "kind", "metric", "classes") if k in t}
        for t in _tasks(graph)
    )
    return BrainMeta(inputs, outputs, tasks=tasks, source=source)


def _port(
    name: str, spec: SignalSpec, role: str, codec: Any, task: dict[str, Any] | None
) -> PortMeta:
    classes = tuple(str(c) for c in (task or {}).get("classes") or ())
    if classes and len(classes) != spec.channels:
        classes = ()
    kind = (task or {}).get("kind")
    m = spec.meta
    return PortMeta(
        name=name,
        signal=name,
        channels=spec.channels,
        time=spec.time,
        modality=m.modality,
        grid=m.grid,
        rate=m.rate,
        vocab=m.vocab,
        codec=codec if isinstance(codec, dict) else None,
        classes=classes,
        task=(task or {}).get("name"),
        task_kind=kind,
        meaning=_meaning(spec, role, classes, kind),
    )
