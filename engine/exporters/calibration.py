"""The data an int8 export is calibrated on and judged by: the validation split of the
task the brain learned. The task comes from the command line (``--task``, ``--data``) or,
for built-in tasks that need no data, from the name the brain records; a data path
written inside a file or run is never opened without the user naming it (DESIGN §12.1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from openbrains.engine.compile import Brain
from openbrains.engine.exporters.errors import ExportError
from openbrains.engine.graph import Graph

MAX_CALIBRATION = 512


@dataclass
class Calibration:
    task: Any  # a DatasetTask
    inputs: list[torch.Tensor]  # up to MAX_CALIBRATION validation examples, per input


def recorded_task(graph: Graph) -> str | None:
    names = list(graph.tasks)  # format v2: keyed by name, oldest first
    return str(names[-1]) if names else None


def calibration(brain: Brain, graph: Graph, task_spec: dict[str, Any] | None) -> Calibration:
    from openbrains.engine.tasks.base import DatasetTask
    from openbrains.engine.tasks.registry import TASKS, load_task

    spec = dict(task_spec or {})
    if not spec.get("name"):
        name = recorded_task(graph)
        info = TASKS.get(name or "")
        if info is None or info.data is not None:
            raise ExportError(
                "int8 is calibrated on the task's validation split: add --task NAME "
                "(and --data PATH if the task needs data)"
            )
        spec = {"name": name}
    from openbrains.engine.export import with_recorded_options

    task = load_task(**with_recorded_options(spec, graph))  # as the brain was trained
    if not isinstance(task, DatasetTask):
        raise ExportError(f"task {spec['name']!r} has no validation split to calibrate on")
    if sorted(task.inputs) != sorted(brain.input_names):
        raise ExportError(
            f"task {task.name!r} gives inputs {sorted(task.inputs)}, "
            f"the brain takes {brain.input_names}"
        )
    n = min(len(task.val), MAX_CALIBRATION)
    inputs = [task.val.inputs[name][:n] for name in brain.input_names]
    return Calibration(task, inputs)


def metric_on_validation(brain: Brain, task: Any) -> float:
    from openbrains.engine.train.trainer import evaluate

    return float(evaluate(brain, task, task.val)[task.metric])


def loss_of_quality(before: float, after: float, task: Any) -> float:
    """How much worse ``after`` is than ``before`` in the metric's own unit (>0 = worse)."""
    return before - after if task.higher_is_better else after - before
