"""The run's refits (engine.refits): each new champion of a dataset task trains on for its
rung-0 budget with the validation examples added, on the next free worker, one at a time.

A refit is not a birth: it is no member, never bred from, never ranked; the champion it
came from keeps its place. It costs one short job per new champion, most of them early in
a run, when champions change often. On digits (plain PyTorch, the 4.1k-parameter
template, 8 seeds) 400 such steps after 1,200 on the training images alone lift test
accuracy from 0.977 to 0.982 on average (docs/decisions.md, session 19).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from openbrains.engine.jobs import JobResult, JobSpec
from openbrains.engine.refits import Refit, RefitStore

if TYPE_CHECKING:
    from openbrains.engine.backends.base import Backend
    from openbrains.engine.run.loop import Run

SLOT_WAIT_S = 30.0
"""Longest a run that has ended waits for a worker to come free for its last refit."""


class Refitting:
    """Which champion to refit next, its job, and what to keep of the result."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.store = RefitStore(run.archive)
        self.inflight: dict[int, int] = {}  # job → the individual it refits
        best = run.best
        kept = None if best is None else self.store.get(best.id)
        self.done_for: int | None = None if kept is None else kept.individual
        self.latest: dict[str, object] | None = None if kept is None else kept.summary()

    def wanted(self) -> bool:
        """A champion without a refit, none in flight, and a task that can have one."""
        run = self.run
        best = run.best
        return (
            run.settings.refit
            and run.runner.name == "dataset"
            and run.continued is None  # a multi-task brain keeps its old tasks its own way
            and not run.task.validates_on_training
            and best is not None
            and best.status == "done"
            and best.id != self.done_for
            and not self.inflight
        )

    def job(self, job: int) -> JobSpec | None:
        """The refit of the champion as job number ``job`` (None: its weights are gone)."""
        run = self.run
        best = run.best
        assert best is not None
        weights = run.archive.weights(best.id)
        if not weights:
            self.done_for = best.id  # nothing to continue from: do not ask again
            return None
        steps = run.budget(0)
        spec = JobSpec(
            job=job,
            task=run.feedback.task_ref(),
            graph=best.graph_json,
            seed=run.rng.getrandbits(31),
            steps=steps,
            weights=weights,
            seconds=run.time_cap(steps),
            refit=True,
        )
        self.inflight[job] = best.id
        return spec

    def absorb(self, result: JobResult) -> bool:
        """Keep a refit that came back (False: not a refit job of this run's)."""
        individual = self.inflight.pop(result.job, None)
        if individual is None:
            return False
        self.done_for = individual
        outcome = result.outcomes[0] if result.outcomes else None
        if outcome is None or not outcome.done or not outcome.weights:
            error = "" if outcome is None else outcome.error
            self.run.on_event("refit_failed", {"of": individual, "error": error})
            return True
        metric = self.run.task.metric
        refit = Refit(
            individual,
            outcome.steps,
            outcome.train_seconds,
            outcome.val.get(metric),
            outcome.test.get(metric),
            outcome.weights,
        )
        self.store.put(refit)
        self.latest = refit.summary()
        self.run.archive.log_event("refit", refit.summary())
        self.run.on_event("refit", {**refit.summary(), "metric": metric})
        return True

    def finish(self, backend: Backend) -> None:
        """A run that ends on its own (out of time, goal met, enough births) still refits a
        champion crowned in its last moments, so that an export of it writes a refit: the
        refit in flight, or one on the first worker free within ``SLOT_WAIT_S``, each given
        its time cap. Other results that land meanwhile are stored as at any time (and a
        new champion among them is refitted too); jobs still out are dropped, as at any
        stop. A stop asked for, a pause or the good-neighbour rules end it at once."""
        run = self.run
        cap = run.time_cap(run.budget(0)) or SLOT_WAIT_S
        limit = time.monotonic() + SLOT_WAIT_S + cap
        told: set[int] = set()
        while not (run.stop_event.is_set() or run.paused.is_set() or run.neighbour.reasons):
            if not self.inflight:
                if not self.wanted():
                    return
                if backend.free() > 0:
                    run.job_counter += 1
                    spec = self.job(run.job_counter)
                    if spec is None:
                        return
                    backend.submit(spec)
                    limit = time.monotonic() + SLOT_WAIT_S + (spec.seconds or cap)
            for individual in set(self.inflight.values()) - told:
                told.add(individual)
                run.on_event("finishing", {"refit_of": individual})
            if time.monotonic() >= limit:
                return
            for result in backend.collect(timeout=0.2):
                run.absorb(result)

    def of(self, individual: int) -> dict[str, object] | None:
        """The newest refit's summary, if it is ``individual``'s (progress shows it)."""
        latest = self.latest
        return latest if latest is not None and latest["of"] == individual else None
