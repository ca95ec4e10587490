"""The ``ray`` backend (``--backend ray``): the same ``JobSpec``s, trained as Ray tasks on
the machines of a Ray cluster; ``JobResult``s come back to the coordinator, which alone
writes the archive.

A task carries plain data only: the spec's ``to_wire`` header and weight blobs, the
worker's CPU share and the run's code grants; it hands back the result's ``to_wire``.
The function Ray runs is ``train_remote`` of this module (shipped by name, never code
from a file), which keeps one ``Worker`` per Ray worker process, so torch and the task are
loaded once per process, as with the local backend.

The governor's cap holds as it does locally: at most ``workers`` tasks are in flight (a
private local cluster has exactly that many CPUs), each worker process is niced, one torch
thread, duty-cycled to the run's share. A job whose worker process or machine is lost is
sent again once; lost a second time, it comes back as a failed result saying so.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from openbrains.engine.backends.base import BackendConfig
from openbrains.engine.backends.ray_cluster import RayUnavailable, connect
from openbrains.engine.backends.worker import Worker
from openbrains.engine.jobs import JobFormatError, JobResult, JobSpec, TaskRef
from openbrains.engine.train.governor import DutyCycle
from openbrains.engine.trust import restore, revoke_all, to_wire

ATTEMPTS = 2  # a job is sent once more after losing its worker, then recorded as failed

_worker: Worker | None = None  # this Ray worker process's own (in a Ray worker only)


def _worker_for(share: float | None, grants: list[dict[str, str]]) -> Worker:
    """This process's warm worker, with the coordinator's grants and CPU share."""
    global _worker
    revoke_all()  # exactly the coordinator's grants now (a Ray worker serves one driver,
    restore(grants)  # whose runs may differ in what the user allowed)
    if _worker is None:
        from openbrains.engine.train.governor import make_passive

        make_passive()
        _worker = Worker(share)
    elif _worker.governor.share != DutyCycle(share).share:
        _worker = Worker(share, _worker.tasks)  # the cap changed: same loaded task
    return _worker


def train_remote(
    header: dict[str, Any], blobs: list[bytes], share: float | None, grants: list[dict[str, str]]
) -> tuple[dict[str, Any], list[bytes]]:
    """A Ray task: train one job in this (warm) Ray worker process."""
    spec = JobSpec.from_wire(header, blobs)
    return _worker_for(share, grants).train(spec).to_wire()


def warm_remote(task: dict[str, Any], share: float | None, grants: list[dict[str, str]]) -> int:
    """A Ray task: import torch and load the run's task before the first job."""
    _worker_for(share, grants).warm(TaskRef(dict(task["spec"]), int(task["generation"])))
    return os.getpid()


@dataclass
class _InFlight:
    spec: JobSpec | None  # None: a warm-up task
    attempt: int = 1


class RayBackend:
    """Up to ``workers`` jobs in flight on a Ray cluster."""

    def __init__(self, config: BackendConfig) -> None:
        self.session = connect(config.options.get("address"), config.workers)
        ray = self.ray = self.session.ray
        self.slots = max(1, config.workers)
        self.share = config.cpu_share
        self.grants = config.grants if config.grants is not None else to_wire()
        self.task = config.task
        self.retried = 0  # jobs sent again after losing their worker
        self._train = ray.remote(num_cpus=1, max_retries=0)(train_remote)
        warm = ray.remote(num_cpus=1, max_retries=0)(warm_remote)
        wire_task = {"spec": config.task.spec, "generation": config.task.generation}
        self._inflight: dict[Any, _InFlight] = {
            warm.remote(wire_task, self.share, self.grants): _InFlight(None)
            for _ in range(self.slots)
        }
        self._lost = _lost_errors(ray)

    @property
    def size(self) -> int:
        return self.slots

    def free(self) -> int:
        warming = any(job.spec is None for job in self._inflight.values())
        return 0 if warming else self.slots - len(self._inflight)

    def busy(self) -> int:
        return sum(1 for job in self._inflight.values() if job.spec is not None)

    def submit(self, spec: JobSpec, attempt: int = 1) -> None:
        header, blobs = spec.to_wire()
        ref = self._train.remote(header, blobs, self.share, self.grants)
        self._inflight[ref] = _InFlight(spec, attempt)

    def retask(self, task: TaskRef, local_task: Any = None) -> None:
        self.task = task  # every later spec names it; Ray workers reload on their own

    def collect(self, timeout: float) -> list[JobResult]:
        if not self._inflight:
            time.sleep(timeout)
            return []
        refs = list(self._inflight)
        try:
            ready, _ = self.ray.wait(refs, num_returns=1, timeout=timeout)
            if ready:
                ready, _ = self.ray.wait(refs, num_returns=len(refs), timeout=0)
        except self.ray.exceptions.RaySystemError as exc:  # the cluster itself went away
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise RayUnavailable(f"lost the Ray cluster: {first}") from None
        done = []
        for ref in ready:
            result = self._finish(ref, self._inflight.pop(ref))
            if result is not None:
                done.append(result)
        return done

    def _finish(self, ref: Any, job: _InFlight) -> JobResult | None:
        try:
            out = self.ray.get(ref)
        except self._lost as exc:
            if job.spec is None:
                return None  # a warm-up lost: the next job warms its worker itself
            if job.attempt < ATTEMPTS:
                self.retried += 1
                self.submit(job.spec, job.attempt + 1)
                return None
            return JobResult.failed(
                job.spec,
                f"its Ray worker was lost {ATTEMPTS} times while training it "
                f"({type(exc).__name__})",
            )
        except self.ray.exceptions.RayTaskError as exc:
            if job.spec is None:
                return None  # the first job reports the same problem, with its spec
            cause = exc.cause if exc.cause is not None else exc
            return JobResult.failed(
                job.spec, f"the Ray worker failed: {type(cause).__name__}: {cause}"
            )
        if job.spec is None:
            return None
        try:
            return JobResult.from_wire(*out)
        except JobFormatError as exc:
            return JobResult.failed(job.spec, str(exc))

    def close(self) -> None:
        """Jobs in flight are dropped (cancelled on a cluster we share); a cluster this
        backend started ends with it."""
        if not self.session.owned:
            for ref in self._inflight:
                try:
                    self.ray.cancel(ref)
                except Exception:
                    pass  # it finished or its worker is gone: nothing to cancel
        self._inflight.clear()
        self.session.close()


def _lost_errors(ray: Any) -> tuple[type[BaseException], ...]:
    """Ray's errors for a task whose process, machine or result went away (not the
    task's own error)."""
    names = (
        "WorkerCrashedError",
        "NodeDiedError",
        "LocalRayletDiedError",
        "ObjectLostError",
    )
    return tuple(getattr(ray.exceptions, n) for n in names if hasattr(ray.exceptions, n))
