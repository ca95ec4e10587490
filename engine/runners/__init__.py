"""One runner per task kind, in one dispatch table (engine.runners.base.Runner).

A task names its runner (``task.runner``: ``"dataset"``, ``"game"``, ``"environment"``);
``runner_for`` finds it, ``train_job`` is what any backend's worker calls.
"""

from __future__ import annotations

from typing import Any

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.jobs import JobResult, JobSpec
from openbrains.engine.runners.base import Coordinator, OnStep, Runner
from openbrains.engine.runners.dataset import DatasetRunner
from openbrains.engine.runners.environment import EnvironmentRunner
from openbrains.engine.runners.game import GameRunner

RUNNERS: dict[str, Runner] = {
    r.name: r for r in (DatasetRunner(), GameRunner(), EnvironmentRunner())
}


def runner_for(task: Any) -> Runner:
    """The runner of ``task``'s kind."""
    name = getattr(task, "runner", "dataset")
    try:
        return RUNNERS[name]
    except KeyError:
        raise OpenBrainsError(
            f"task {getattr(task, 'name', '?')!r} needs runner {name!r}; known: {sorted(RUNNERS)}"
        ) from None


def train_job(spec: JobSpec, task: Any, on_step: OnStep | None = None) -> JobResult:
    """Train one job on ``task`` (already loaded for ``spec.task``), in this process."""
    return runner_for(task).train(spec, task, on_step)


__all__ = ["RUNNERS", "Coordinator", "Runner", "runner_for", "train_job"]
