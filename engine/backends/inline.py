"""The ``inline`` backend (``--workers 0``): train in the coordinating process, for tiny
tasks where a round trip to a worker costs more than the training."""

from __future__ import annotations

import time
from typing import Any

from openbrains.engine.backends.base import BackendConfig
from openbrains.engine.backends.worker import TaskCache
from openbrains.engine.jobs import JobResult, JobSpec, TaskRef
from openbrains.engine.train.governor import DutyCycle


class InlineBackend:
    """One job at a time, trained when collected."""

    def __init__(self, config: BackendConfig) -> None:
        self.tasks = TaskCache(config.task, config.local_task)
        self.governor = DutyCycle(config.cpu_share)
        self._pending: list[JobSpec] = []

    @property
    def size(self) -> int:
        return 1

    def free(self) -> int:
        return 0 if self._pending else 1

    def busy(self) -> int:
        return len(self._pending)

    def submit(self, spec: JobSpec) -> None:
        self._pending.append(spec)

    def retask(self, task: TaskRef, local_task: Any = None) -> None:
        self.tasks = TaskCache(task, local_task) if local_task is not None else TaskCache()

    def collect(self, timeout: float) -> list[JobResult]:
        from openbrains.engine.runners import train_job

        if not self._pending:
            time.sleep(timeout)  # nothing to do (paused): do not spin
        done = []
        while self._pending:
            spec = self._pending.pop(0)
            try:
                task = self.tasks.get(spec.task)
            except Exception as exc:
                done.append(JobResult.failed(spec, f"the task could not be loaded: {exc}"))
                continue
            done.append(train_job(spec, task, self.governor.tick))
        return done

    def close(self) -> None:
        self._pending.clear()
