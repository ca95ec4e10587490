"""The ``Backend`` protocol: where jobs train. A backend takes ``JobSpec``s and gives back
``JobResult``s; the coordinator never learns which process or machine trained one, and
only the coordinator writes the archive.

Three ship with the engine: ``local`` (warm worker processes on this machine, the
default), ``inline`` (the coordinating process itself, for ``--workers 0``) and ``ray``
(Ray tasks on a Ray cluster, the optional ``[ray]`` extra: docs/scale.md). Another is a new
module with a class that satisfies this protocol, registered in
``engine.backends.BACKENDS`` (see docs/decisions.md, "Jobs, runners and backends").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from openbrains.engine.jobs import JobResult, JobSpec, TaskRef


@dataclass
class BackendConfig:
    """What a backend is opened with."""

    workers: int  # how many jobs may train at once
    cpu_share: float | None  # each worker's share of one core (None: no cap), the governor's
    task: TaskRef  # the run's task now: workers warm up on it before the first job
    local_task: Any = None  # that task already loaded, for a backend in this process
    options: dict[str, Any] = field(default_factory=dict)  # backend-specific (an address…)
    # the user code this run may import (engine.trust.to_wire: a user's game named on the
    # command line); None: this process's grants. Workers restore them before any task.
    grants: list[dict[str, str]] | None = None


class Backend(Protocol):
    """Trains ``JobSpec``s somewhere; hands back ``JobResult``s."""

    def free(self) -> int:
        """How many more jobs it takes right now (0 while all its workers are busy or
        still starting)."""
        ...

    def busy(self) -> int:
        """Jobs submitted and not yet collected."""
        ...

    def submit(self, spec: JobSpec) -> None:
        """Start ``spec`` (only when ``free()`` > 0)."""
        ...

    def collect(self, timeout: float) -> list[JobResult]:
        """Wait up to ``timeout`` s; the results that arrived. A job whose worker was lost
        comes back as ``JobResult.failed`` with the reason, never silently dropped."""
        ...

    def retask(self, task: TaskRef, local_task: Any = None) -> None:
        """The run's data changed (new recordings, a grown stream). Every later spec names
        the new ``TaskRef``, so remote workers reload on their own; a backend that trains
        in this process takes the loaded task instead."""
        ...

    def close(self) -> None:
        """Stop its workers; jobs still in flight are lost (the run did not archive them)."""
        ...
