"""``graph:FILE.graph`` and ``onnx:FILE.onnx``: any brain (a bigger champion, someone's
shared brain) as the teacher of a smaller one.

A brain reads inputs the way the task encodes them, so the role hands it each item's
encoded tensor. It must take what the task gives (same time steps and channels) and know
the task's classes: its own class list (``graph.tasks``, or the ONNX file's metadata) is
matched to the task's by name, and a teacher with another set of classes is refused with
one line that lists both. Opening a ``.graph`` runs no code from it (``engine.format``);
an ``.onnx`` file runs in onnxruntime, which executes only ONNX operators.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import torch

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.teachers.answers import Answer, Case, Item, Score, Skip, Soft
from openbrains.engine.teachers.base import Teacher, label_from_soft
from openbrains.engine.teachers.errors import TeacherError
from openbrains.engine.teachers.spec import TeacherSpec


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


class BrainTeacher(Teacher):
    """A classifier brain: ``logits`` of a batch, mapped onto the task's classes."""

    roles = ("label", "rate", "distill")
    batch_size = 256
    classes: list[str]  # the teacher's own, in its output order ([] when it records none)
    input_shape: tuple[int | None, int | None] = (None, None)  # (time, channels)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, K]`` raw scores of the teacher's K outputs for encoded inputs ``[B, T, C]``."""
        raise NotImplementedError

    def check(self, role: str, task: Any) -> None:
        super().check(role, task)
        if getattr(task, "kind", "") != "classification":
            raise TeacherError(
                f"a {self.spec.kind}: teacher teaches classification; task "
                f"{getattr(task, 'name', '?')!r} is {getattr(task, 'kind', '?')}"
            )
        self.class_index(list(task.classes))
        spec = task.inputs[next(iter(task.inputs))]
        want = (spec.time, spec.channels)
        have = self.input_shape
        if any(h is not None and w is not None and h != w for h, w in zip(have, want)):
            raise TeacherError(
                f"teacher {self.spec.path.name if self.spec.path else self.spec} takes inputs "
                f"of {_shape(have)}, but task {task.name!r} gives {_shape(want)}"
            )

    def class_index(self, classes: Sequence[str]) -> list[int]:
        """Where each of the task's classes is among the teacher's outputs."""
        mine = self.classes
        name = self.spec.path.name if self.spec.path else str(self.spec)
        if not mine:
            if self.outputs != len(classes):
                raise TeacherError(
                    f"teacher {name} has {self.outputs} outputs and records no classes; the "
                    f"task has {len(classes)} classes"
                )
            return list(range(len(classes)))
        missing = [c for c in classes if c not in mine]
        if missing:
            raise TeacherError(
                f"teacher {name} knows other classes ({', '.join(mine)}) than the task "
                f"({', '.join(classes)}); it cannot teach {', '.join(missing)}"
            )
        return [mine.index(c) for c in classes]

    @property
    def outputs(self) -> int:
        return len(self.classes)

    @torch.no_grad()
    def logp(self, x: torch.Tensor, index: Sequence[int]) -> torch.Tensor:
        """Log-probabilities ``[B, len(index)]`` over the task's classes (``class_index``)
        for encoded inputs ``[B, T, C]``: the teacher's outputs for them, renormalised.
        Never differentiated: a student asking on every batch builds no graph through the
        teacher (that cost as much as the teacher's forward pass again)."""
        with torch.no_grad():
            return log_probs(self.logits(x.float()), index).float()

    # ----- roles -------------------------------------------------------------------
    def soft(self, items: Sequence[Item], classes: Sequence[str]) -> list[Answer]:
        index = self.class_index(classes)
        usable = [i for i, it in enumerate(items) if it.encoded is not None]
        out: list[Answer] = [Skip("the task could not encode this input")] * len(items)
        if not usable:
            return out
        x = torch.cat([_batch(items[i].encoded) for i in usable]).float()
        try:
            with torch.no_grad():
                z = self.logits(x)
        except (RuntimeError, ValueError, OpenBrainsError) as exc:
            reason = f"the teacher could not run on this input ({str(exc)[:80]})"
            return [Skip(reason)] * len(items)
        logp = log_probs(z, index)
        for row, i in enumerate(usable):
            values = logp[row].tolist()
            out[i] = (
                Soft(tuple(values))
                if all(math.isfinite(v) for v in values)
                else Skip("the teacher's output is not finite")
            )
        return out

    def label(self, items: Sequence[Item], classes: Sequence[str]) -> list[Answer]:
        return [label_from_soft(a, classes) for a in self.soft(items, classes)]

    def rate(self, cases: Sequence[Case]) -> list[Answer]:
        """A candidate's label scored by the teacher's belief in it: 10 × p(label)."""
        out: list[Answer] = []
        for case in cases:
            label = case.output.get("label") if case.output.get("kind") == "label" else None
            if label is None or case.encoded is None or label not in case.classes:
                out.append(Skip("a brain teacher rates class labels only"))
                continue
            item = Item("tensor", b"", encoded=case.encoded)
            answer = self.soft([item], case.classes)[0]
            if isinstance(answer, Soft):
                p = math.exp(answer.logits[list(case.classes).index(label)])
                out.append(Score(10.0 * p, f"the teacher gives {label!r} p={p:.2f}"))
            else:
                out.append(answer)
        return out


class GraphTeacher(BrainTeacher):
    def __init__(self, spec: TeacherSpec) -> None:
        from openbrains.engine.format import load_brain

        assert spec.path is not None
        self.spec = spec
        self.identity = f"graph:{file_digest(spec.path)}"
        try:
            graph, self.brain = load_brain(spec.path)
        except OpenBrainsError as exc:
            raise TeacherError(f"teacher {spec.path.name}: {exc}") from None
        if len(self.brain.input_names) != 1:
            raise TeacherError(
                f"teacher {spec.path.name} takes {len(self.brain.input_names)} inputs; a teacher "
                "brain takes one"
            )
        self.classes = _graph_classes(graph.tasks)
        out = self.brain.output_specs[self.brain.output_names[0]]
        self._outputs = int(out.channels)
        ins = self.brain.input_specs[self.brain.input_names[0]]
        self.input_shape = (ins.time or None, int(ins.channels))
        if self.classes and len(self.classes) != self._outputs:
            self.classes = []  # the record does not fit the head: trust the head's size

    @property
    def outputs(self) -> int:
        return self._outputs

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        out = self.brain(x)
        y = out[0] if isinstance(out, tuple) else out
        return y[:, -1, :]


class OnnxTeacher(BrainTeacher):
    def __init__(self, spec: TeacherSpec) -> None:
        assert spec.path is not None
        self.spec = spec
        self.identity = f"onnx:{file_digest(spec.path)}"
        try:
            import onnxruntime as ort
        except ImportError:
            raise TeacherError(
                "onnx: teachers need onnxruntime: .venv/bin/pip install 'openbrains[export]'"
            ) from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(
                str(spec.path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own types for a bad file
            raise TeacherError(
                f"teacher {spec.path.name} is not a usable ONNX model: {exc}"
            ) from None
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1:
            raise TeacherError(
                f"teacher {spec.path.name} takes {len(inputs)} inputs; a teacher brain takes one"
            )
        self.input_name = inputs[0].name
        self.output_name = outputs[0].name
        dims = list(inputs[0].shape)
        self.input_shape = tuple(d if isinstance(d, int) else None for d in dims[-2:])  # type: ignore[assignment]
        last = outputs[0].shape[-1] if outputs[0].shape else None
        meta = dict(self.session.get_modelmeta().custom_metadata_map)
        self.classes = _onnx_classes(meta)
        self._outputs = int(last) if isinstance(last, int) else len(self.classes)

    @property
    def outputs(self) -> int:
        return self._outputs

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        import numpy as np

        y = self.session.run([self.output_name], {self.input_name: x.numpy().astype(np.float32)})
        out = torch.from_numpy(np.asarray(y[0]))
        return out[:, -1, :] if out.ndim == 3 else out


PROBABILITY_TOLERANCE = 1e-3  # rows that sum to 1 within this are a softmax's output


def is_probabilities(z: torch.Tensor) -> bool:
    """Whether a brain's outputs ``[B, K]`` are probabilities (its head ends in a softmax,
    as many exported classifiers' do) rather than raw scores: every value in [0, 1] and
    every row summing to 1. Raw scores of a whole batch never pass this by chance."""
    if z.numel() == 0 or z.shape[-1] < 2:
        return False
    z = z.double()
    rows = z.sum(dim=-1)
    return bool(
        (z >= 0).all() and (z <= 1).all() and ((rows - 1).abs() <= PROBABILITY_TOLERANCE).all()
    )


def log_probs(z: torch.Tensor, index: Sequence[int]) -> torch.Tensor:
    """The task's classes' log-probabilities (float64, ``[B, len(index)]``) from a brain's
    outputs ``[B, K]``, renormalised over ``index``.

    Raw scores (logits) and log-probabilities go through ``log_softmax`` (the same
    distribution either way); probabilities are logged first. Softening probabilities as
    if they were logits (``softmax(p / T)``) would flatten every target towards uniform:
    a teacher 99 % sure would give its class barely more than the rest.
    """
    z = z.double()
    if is_probabilities(z):
        z = torch.log(z.clamp_min(1e-12))
    return torch.log_softmax(z[:, list(index)], dim=-1)


def _batch(x: Any) -> torch.Tensor:
    t = torch.as_tensor(x)
    return t if t.ndim == 3 else t.unsqueeze(0)


def _shape(shape: tuple[int | None, int | None]) -> str:
    t, c = shape
    return f"{t if t is not None else 'any'} steps × {c if c is not None else 'any'} channels"


def _graph_classes(tasks: Any) -> list[str]:
    """The classes of the last classification task a graph records (format 1: a list of
    task descriptions; format 2: ``{name: description}``)."""
    entries = list(tasks.values()) if isinstance(tasks, dict) else list(tasks or [])
    for t in reversed(entries):
        classes = t.get("classes") if isinstance(t, dict) else getattr(t, "classes", None)
        if classes:
            return [str(c) for c in classes]
    return []


def _onnx_classes(meta: dict[str, str]) -> list[str]:
    """Classes from an ONNX file's metadata: a ``classes`` JSON list, or the tasks'."""
    for key in ("classes", "openbrains.classes"):
        if key in meta:
            try:
                value = orjson.loads(meta[key])
            except orjson.JSONDecodeError:
                continue
            if isinstance(value, list):
                return [str(c) for c in value]
    for key in ("tasks", "openbrains.tasks"):
        if key in meta:
            try:
                return _graph_classes(orjson.loads(meta[key]))
            except orjson.JSONDecodeError:
                continue
    return []
