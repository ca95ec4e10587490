"""Every task's score of a multi-task brain (``openbrains eval FILE.graph``): its metric on
the test split where this machine has the task's data (a built-in task loaded by its name,
or the data the user gives), its agreement with the probe the file carries, and the score
the file says it had when it was saved.

The file is data: only built-in task names are loaded from it; a task whose data lives
elsewhere is measured by its probe alone unless the user names it (``--task NAME --data``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from openbrains.engine.errors import GraphError, OpenBrainsError
from openbrains.engine.format import GraphFile, load, runnable


@dataclass
class TaskScore:
    """One task's scores; ``None`` where it could not be measured here."""

    task: str
    metric: str
    test: float | None = None
    examples: int = 0
    probe: float | None = None
    saved: float | None = None  # the test score the file recorded

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        parts = [f"{self.task}:"]
        if self.test is not None:
            parts.append(f"{self.metric}={self.test:.4f} (test, {self.examples} examples)")
        if self.probe is not None:
            parts.append(f"probe agreement {self.probe:.4f}")
        if self.saved is not None:
            parts.append(f"saved {self.metric}={self.saved:.4f}")
        if len(parts) == 1:
            parts.append("no data here and no probe in the file")
        return " ".join(parts)


def evaluate_tasks(
    path: Path, only: str | None = None, given: dict[str, Any] | None = None
) -> list[TaskScore]:
    """Scores of every task the file records (``only``: that one). ``given``: a task spec
    the user gave for ``only`` (its data), used instead of the built-in of that name."""
    doc = load(path)
    if doc.graph is None or not doc.graph.tasks:
        raise OpenBrainsError(f"{path} records no task: give --task NAME to score it on one")
    runnable(doc, str(path))
    names = list(doc.graph.tasks)
    if only is not None:
        if only not in doc.graph.tasks:
            raise GraphError(f"{path} has no task {only!r} (its tasks: {', '.join(names)})")
        names = [only]
    return [_score(doc, name, given if name == only else None) for name in names]


def _score(doc: GraphFile, name: str, given: dict[str, Any] | None) -> TaskScore:
    from openbrains.engine.multitask import compile_tasks, probe_score
    from openbrains.engine.train.trainer import evaluate

    graph = doc.graph
    assert graph is not None
    rec = graph.tasks[name]
    saved = rec.score.get("test")
    out = TaskScore(name, rec.metric, saved=float(saved) if _number(saved) else None)
    brains = compile_tasks(graph, [name])
    brains.load_weights(doc.weights, strict=False)
    brains.eval()
    if rec.probe is not None:
        out.probe = probe_score(brains, name, doc.probes)
    task = _task(name, rec, given)
    if task is not None and hasattr(task, "test") and getattr(task, "kind", "") != "game":
        brain = brains.brains[name]
        if sorted(brain.input_names) == sorted(task.inputs):
            out.metric = task.metric
            out.test = float(evaluate(brain, task, task.test)[task.metric])
            out.examples = len(task.test)
    return out


def _task(name: str, rec: Any, given: dict[str, Any] | None) -> Any:
    """The task to measure ``name`` on: the user's, or the built-in task of that name with
    the options the file recorded; None when neither can be had here."""
    from openbrains.engine.tasks.registry import TASKS, load_task

    if given is not None:
        return load_task(**given)
    if name not in TASKS:
        return None
    info = TASKS[name]
    known = {o.name for o in info.options}
    options = {k: v for k, v in (rec.options or {}).items() if k in known}
    try:
        return load_task(name=name, **options)
    except (OpenBrainsError, OSError, ValueError, TypeError):
        return None  # a built-in that needs data this machine was not given


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
