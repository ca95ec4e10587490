"""The worker side of any backend: keep the run's task loaded, train the jobs that arrive.

A ``TaskCache`` loads a task once per process and again only when a job names other data
(``TaskRef`` generation), so a worker that reloads for new recordings pays only for those;
``Worker.train`` is one job under the governor's duty cycle. A Ray (or any other) remote
function is ``Worker(share).train(spec)``, kept alive per process.
"""

from __future__ import annotations

from typing import Any

from openbrains.engine.heap import release_free_memory
from openbrains.engine.jobs import JobResult, JobSpec, TaskRef
from openbrains.engine.train.governor import DutyCycle


def load_task(ref: TaskRef) -> Any:
    """The run's task with the recorded samples its spec names (engine.recorded)."""
    from openbrains.engine.recorded import load_task_with_samples

    return load_task_with_samples(ref.spec)


def base_of(ref: TaskRef) -> dict[str, Any]:
    """The task a ref names without its recordings: what stays the same within one run."""
    from openbrains.engine.recorded import RECORDED_KEY

    return {k: v for k, v in ref.spec.items() if k != RECORDED_KEY}


class TaskCache:
    """The task of the latest ``TaskRef`` seen in this process."""

    def __init__(self, ref: TaskRef | None = None, task: Any = None) -> None:
        self._key = ref.key() if ref is not None and task is not None else None
        self._base = base_of(ref) if ref is not None and task is not None else None
        self._task = task

    def get(self, ref: TaskRef) -> Any:
        key = ref.key()
        if key != self._key:
            base = base_of(ref)
            try:
                self._task = load_task(ref)
            except Exception:
                if self._task is None or base != self._base:
                    raise  # never train on another task (a Ray worker serves many runs)
                # the same task's new recordings failed: keep training on the data we have
                # rather than fail every job over it
            self._key, self._base = key, base
        return self._task


class Worker:
    """Trains jobs in this process, holding its share of a core (None: no cap)."""

    def __init__(self, share: float | None, cache: TaskCache | None = None) -> None:
        self.governor = DutyCycle(share)
        self.tasks = cache or TaskCache()
        self.on_step = self.governor.tick

    def warm(self, ref: TaskRef) -> None:
        """Load the run's task before the first job arrives."""
        self.tasks.get(ref)

    def train(self, spec: JobSpec) -> JobResult:
        from openbrains.engine.runners import train_job

        try:
            task = self.tasks.get(spec.task)
        except Exception as exc:  # no task at all: every candidate of this job fails
            return JobResult.failed(spec, f"the task could not be loaded: {exc}")
        self.governor.idle()  # waiting for this job was not CPU use
        try:
            return train_job(spec, task, self.on_step)
        finally:
            release_free_memory()  # the job's tensors are freed: keep no peak for weeks
