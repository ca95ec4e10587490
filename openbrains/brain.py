"""A brain as a Python user holds it: a graph, its weights and the compiled torch module,
loaded from and saved to `.graph` files. Reading a file runs no code from it
(engine.format); running a brain on raw inputs encodes them with the codecs it recorded."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from openbrains.engine.codecs import codec_from_dict
from openbrains.engine.compile import Brain as Module
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.format import GraphFile, load, runnable, save
from openbrains.engine.graph import Graph

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class Score:
    """How well a brain did on a task, as its file records it (``None``: not measured)."""

    task: str
    metric: str
    test: float | None = None
    validation: float | None = None

    def __str__(self) -> str:
        if self.test is not None:
            return f"{self.metric} {self.test:.4f} (test)"
        if self.validation is not None:
            return f"{self.metric} {self.validation:.4f} (validation)"
        return f"{self.metric} (not measured)"


class Brain:
    """One brain: ``graph`` (structure, codecs, lineage, tasks), ``module`` (the compiled
    ``torch.nn.Module``, in eval mode, holding the weights) and, for a project file, its
    ``project`` settings (plain data; paths in them are not followed).

    ``Brain(graph, weights)`` makes one from a graph and its weights (none: an untrained
    genome, ``trained`` False, which gets fresh weights when it is first run and which a
    run it seeds trains from fresh weights too). It compiles when first used; ``check()``
    compiles now and refuses weights that do not fit.
    """

    def __init__(
        self,
        graph: Graph,
        weights: Mapping[str, torch.Tensor] | None = None,
        *,
        project: dict[str, Any] | None = None,
        source: str = "<brain>",
        module: Module | None = None,
    ) -> None:
        self.graph = graph
        self.project = project
        self.source = source
        self.trained = bool(weights)
        self._given = dict(weights or {})
        self._module = module

    @property
    def module(self) -> Module:
        if self._module is None:
            doc = GraphFile(kind="graph", graph=self.graph, weights=self._given)
            self._module, self._given = runnable(doc, self.source), {}
        return self._module

    def check(self) -> Brain:
        """Compile now (a clear error for a graph or weights that do not fit)."""
        _ = self.module
        return self

    # ----- what it is ---------------------------------------------------------------------
    def recorded(self) -> dict[str, dict[str, Any]]:
        """The tasks its file records, oldest first: name -> the score recorded for it
        (plain data, empty when none was measured)."""
        tasks, scores = self.graph.tasks, self.graph.scores
        if isinstance(tasks, Mapping):  # name -> a task record that carries its score
            return {
                str(n): dict(getattr(t, "score", None) or scores.get(n) or {})
                for n, t in tasks.items()
            } | {
                str(n): dict(v) for n, v in scores.items() if n not in tasks and isinstance(v, dict)
            }
        named = [t["name"] for t in tasks if isinstance(t, dict) and isinstance(t.get("name"), str)]
        return {n: dict(scores.get(n) or {}) for n in named} | {
            str(n): dict(v) for n, v in scores.items() if n not in named and isinstance(v, dict)
        }

    @property
    def task(self) -> str | None:
        """The task it learned (its file's latest), or a project's task; None if neither."""
        learned = list(self.recorded())
        if learned:
            return learned[-1]
        task = (self.project or {}).get("task")
        name = task.get("name") if isinstance(task, dict) else None
        return name if isinstance(name, str) else None

    @property
    def score(self) -> Score | None:
        """Its recorded score on ``task`` (None when the file records none)."""
        name = self.task
        entry = self.recorded().get(name or "")
        if not entry:
            return None
        return Score(
            str(name),
            str(entry.get("metric") or "score"),
            _number(entry.get("test")),
            _number(entry.get("validation")),
        )

    @property
    def params(self) -> int:
        return self.module.param_count()

    @property
    def inputs(self) -> list[str]:
        return list(self.module.input_names)

    @property
    def outputs(self) -> list[str]:
        return list(self.module.output_names)

    @property
    def weights(self) -> dict[str, torch.Tensor]:
        """The current weights, keyed as the file stores them."""
        if self._module is None and self.trained:
            return dict(self._given)
        return self.module.weights()

    def __repr__(self) -> str:
        score = str(self.score) if self.score is not None else None
        return f"Brain(task={self.task!r}, params={self.params}, score={score!r})"

    # ----- running ------------------------------------------------------------------------
    def __call__(self, *inputs: Any, **named: Any) -> Any:
        return self.run(*inputs, **named)

    @torch.no_grad()
    def run(self, *inputs: Any, **named: Any) -> Any:
        """Run on one value per input (in ``inputs`` order, or by name).

        A ``torch.Tensor`` ``[batch, time, channels]`` goes in as it is; anything else
        (rows of numbers, images, text) is encoded by the codec the brain recorded for that
        input. Tensors in, tensors out (one, or a dict by output name); raw values in, each
        output is decoded by its recorded codec where it has one, else left a tensor.
        """
        values = self._by_name(inputs, named)
        raw = any(not isinstance(v, torch.Tensor) for v in values.values())
        tensors = [self._encode(name, values[name]) for name in self.inputs]
        result = self.module(*tensors)
        outs = result if isinstance(result, tuple) else (result,)
        by_name = dict(zip(self.outputs, outs))
        if raw:
            by_name = {name: self._decode(name, y) for name, y in by_name.items()}
        return by_name[self.outputs[0]] if len(by_name) == 1 else by_name

    def _by_name(self, inputs: tuple[Any, ...], named: dict[str, Any]) -> dict[str, Any]:
        if len(inputs) == 1 and isinstance(inputs[0], Mapping) and not named:
            named, inputs = dict(inputs[0]), ()
        if inputs and named:
            raise OpenBrainsError("give the inputs either in order or by name, not both")
        values = dict(zip(self.inputs, inputs)) if inputs else dict(named)
        if len(inputs) > len(self.inputs) or sorted(values) != sorted(self.inputs):
            raise OpenBrainsError(
                f"this brain takes inputs {self.inputs}; got "
                + (f"{len(inputs)} values" if inputs else f"{sorted(named)}")
            )
        return values

    def _encode(self, name: str, value: Any) -> torch.Tensor:
        if isinstance(value, torch.Tensor):
            if value.dim() != 3:
                raise OpenBrainsError(
                    f"input {name!r}: a tensor must be [batch, time, channels], "
                    f"got shape {tuple(value.shape)}"
                )
            return value.float()
        recorded = self.graph.codecs.get(name)
        if not isinstance(recorded, dict):
            raise OpenBrainsError(
                f"this brain records no codec for input {name!r}; "
                "give it a tensor [batch, time, channels]"
            )
        try:
            return codec_from_dict(recorded).encode(value).data
        except (TypeError, ValueError) as exc:
            raise OpenBrainsError(f"input {name!r}: {exc}") from None

    def _decode(self, name: str, y: torch.Tensor) -> Any:
        recorded = self.graph.codecs.get(name)
        if not isinstance(recorded, dict):
            return y
        return codec_from_dict(recorded).decode(y)

    # ----- files --------------------------------------------------------------------------
    def save(self, path: PathLike) -> Path:
        """Write it as a `.graph` (a project stays a project); atomic, old file kept on error."""
        kind = "project" if self.project is not None else "graph"
        save(
            path, GraphFile(kind=kind, graph=self.graph, weights=self.weights, project=self.project)
        )
        return Path(path)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def read(path: PathLike) -> GraphFile:
    """Everything in a `.graph` file, of any kind (graph, project, population), as data:
    checked against the format's limits, migrated to the current version, no code run."""
    return load(path)


def write(path: PathLike, doc: GraphFile) -> Path:
    """Write a whole `.graph` document (see ``read``) in the current format, atomically."""
    save(path, doc)
    return Path(path)


def load_brain(path: PathLike) -> Brain:
    """The brain in a `.graph` file (a population's or project's main graph)."""
    doc = load(path)
    if doc.graph is None:
        raise OpenBrainsError(f"{path}: this {doc.kind} file holds no brain (no graph.json)")
    module = runnable(doc, str(path))
    return Brain(doc.graph, doc.weights, project=doc.project, source=str(path), module=module)


def save_brain(brain: Brain, path: PathLike) -> Path:
    """``brain.save(path)``."""
    if not isinstance(brain, Brain):
        raise TypeError(f"save takes an openbrains.Brain, not {type(brain).__name__}")
    return brain.save(path)
