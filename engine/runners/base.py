"""The ``Runner`` protocol: what one kind of task (dataset, game, environment, and the
kinds to come) does at each end of a job.

Worker side, ``train``: a ``JobSpec`` and the loaded task in, a ``JobResult`` out, in any
process (a local worker, the coordinator itself, a remote machine). Coordinator side,
``prepare`` (finish a spec before it leaves: siblings, a time cap, opponents to meet) and
``absorb`` (take an outcome in: rescore it on fresh data, move the Elo of the members it
played). ``base_steps`` is the rung-0 budget of the task. A task names its runner in its
``runner`` attribute; engine.runners holds the one dispatch table.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from openbrains.engine.jobs import Birth, JobResult, JobSpec, Outcome

if TYPE_CHECKING:
    from openbrains.engine.run.population import Member
    from openbrains.engine.run.settings import RunSettings
    from openbrains.engine.store import Archive

OnStep = Callable[[], None]


class Coordinator(Protocol):
    """What a runner's coordinator side may use of the run (engine.run.loop.Run)."""

    rng: random.Random
    settings: RunSettings
    task: Any
    archive: Archive
    data_version: int

    @property
    def members(self) -> list[Member]: ...

    def time_cap(self, steps: int) -> float | None:
        """Seconds after which a job of ``steps`` steps stops (None: no cap yet)."""
        ...

    def validate(self, graph_json: str, weights: bytes) -> dict[str, float] | None:
        """A trained candidate measured on the run's current validation split."""
        ...

    def moved(self, member: Member, metric: float) -> None:
        """A member's score changed outside its own training (an arena): refit, store."""
        ...


class Runner(Protocol):
    """One kind of task, at both ends of a job."""

    name: str

    def base_steps(self, task: Any) -> int:
        """Rung-0 training budget, in the runner's own steps."""
        ...

    def prepare(self, spec: JobSpec, birth: Birth, run: Coordinator) -> JobSpec:
        """Coordinator side, before the job leaves: what the worker needs beyond the
        candidate itself."""
        ...

    def train(self, spec: JobSpec, task: Any, on_step: OnStep | None = None) -> JobResult:
        """Worker side: train and measure; never raises for a bad candidate."""
        ...

    def absorb(
        self, spec: JobSpec, result: JobResult, outcome: Outcome, run: Coordinator
    ) -> Outcome:
        """Coordinator side, as a candidate's outcome arrives (before it is archived)."""
        ...
