"""The steady-state loop (DESIGN §3.4): a backend's workers ask for work, get a child to
train, return scores; the population absorbs each one as it arrives. Every finished
individual is committed to the archive before anything else happens.

``Run`` owns the archive, the backend and the events; what it decides is delegated: the
breeder makes births, the task's runner finishes jobs and absorbs outcomes, the policy
retires and retains, the scorer gives fitness, feedback takes in what people add.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openbrains.engine.backends import Backend, BackendConfig, open_backend
from openbrains.engine.diskspace import DiskFullError, SpaceWatch
from openbrains.engine.evolve.random import SizeBounds
from openbrains.engine.evolve.sizing import bounds_for
from openbrains.engine.exporters.budget import device_gate
from openbrains.engine.failure_guard import FailureGuard
from openbrains.engine.graph import Graph
from openbrains.engine.heap import release_free_memory
from openbrains.engine.jobs import Birth, JobResult, JobSpec, Outcome
from openbrains.engine.neighbour import neighbour_for
from openbrains.engine.record import PLAN_KEY
from openbrains.engine.recorded import recording_plan
from openbrains.engine.run import policy
from openbrains.engine.run.breeder import Breeder, fit_seed
from openbrains.engine.run.continued import Continuation
from openbrains.engine.run.control import Controls, EventSink
from openbrains.engine.run.feedback import FEEDBACK_POLL_S, Feedback
from openbrains.engine.run.pace import Pace
from openbrains.engine.run.population import Member, Population
from openbrains.engine.run.records import candidates, outcomes, record_from
from openbrains.engine.run.refitting import Refitting
from openbrains.engine.run.scoring import Scorer
from openbrains.engine.run.settings import RunSettings, Until, reconcile
from openbrains.engine.run.teaching import Teaching
from openbrains.engine.runners import runner_for
from openbrains.engine.settings_check import check_minutes
from openbrains.engine.store import Archive, Record
from openbrains.engine.tasks.rating import RatingBook
from openbrains.engine.tasks.registry import load_task
from openbrains.engine.train import genes
from openbrains.engine.train.governor import worker_share

if TYPE_CHECKING:
    from openbrains.engine.teachers.work import TeacherOrder

RETAIN_EVERY = 25  # births between retention passes
PROGRESS_S = 2.0  # seconds between progress events (and session touches)


class Run(Controls):
    """One resumable search in ``run_dir``."""

    backend_name = "local"  # engine.backends.BACKENDS: where jobs train (inline for workers=0)
    backend_options: dict[str, Any] = {}  # noqa: RUF012  (set per run, never mutated)

    def __init__(
        self,
        run_dir: Path,
        settings: RunSettings | None = None,
        on_event: EventSink | None = None,
        teacher: TeacherOrder | None = None,
    ) -> None:
        """``teacher``: what the user asked a teacher to do for this run (command line or
        the window's dialog; never stored in the run's settings, engine.run.teaching)."""
        self.run_dir = Path(run_dir)
        self.archive = Archive(self.run_dir)
        try:
            self.settings = reconcile(self.archive, self.run_dir, settings)
            self.neighbour = neighbour_for(self.settings, self._on_neighbour)
            task = load_task(**self.settings.task)
            if self.archive.get_meta("task_info") is None:
                self.archive.set_meta("task_info", task.describe())
            plan = recording_plan(task)
            if self.archive.get_meta(PLAN_KEY) != plan:
                self.archive.set_meta(PLAN_KEY, plan)
        except BaseException:
            self.archive.close()
            raise
        self.task = task
        self.runner = runner_for(task)
        self.on_event = on_event or (lambda kind, data: None)
        self.space = SpaceWatch(self.run_dir, lambda info: self.on_event("disk_low", info))
        self.failures = FailureGuard()
        self.feedback = Feedback(self, task, plan)
        try:
            self.teaching = Teaching(self, teacher)
        except BaseException:
            self.archive.close()
            raise
        self.ratings = RatingBook(self.settings.rating_prior)
        # sized from the task's own data, so recordings never change a run's budgets
        self.bounds: SizeBounds = bounds_for(task, self.settings.max_params or None)
        self.continued = Continuation.of(self.settings, task)  # --seed-from: old tasks kept
        if self.continued is not None:
            self.bounds = self.continued.bounds(self.bounds)
        else:
            self.settings.seeds = [fit_seed(s, task) for s in self.settings.seeds]
        self.device = device_gate(self.settings.device_budget)  # a hard limit, or None
        if self.device is not None:
            self.bounds = self.device.bound(self.bounds)
            self.device.check_task(task)
            for i, seed in enumerate(self.settings.seeds):
                self.device.check(Graph.from_json(seed), f"seed graph {i + 1}")
        self.base_steps = self.settings.budget_steps or self.runner.base_steps(task)
        if self.feedback.load_samples(self.archive.samples_version()):
            self.task = self.feedback.task
        self.rng = random.Random(self.settings.seed * 1_000_003 + self.archive.count())
        self.ratings.refresh(self.archive)
        self.population = Population.load(self.archive)
        # scorer and breeder read what recordings never change (inputs, outputs, metric)
        self.scorer = Scorer(self.settings, task, self.ratings, self.population.lineage)
        self.breeder = Breeder(
            self.settings,
            task,
            self.bounds,
            self.rng,
            self.population,
            self.run_dir / "seeds",
            self.budget,
            self.device,
        )
        self.pace = Pace()
        self.inflight: dict[int, tuple[Birth, JobSpec]] = {}
        self.job_counter = 0
        self.births = 0
        self.started = time.monotonic()
        self.stop_event = threading.Event()
        self.paused = threading.Event()
        self._calls: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._backend_dirty = False
        self.best: Record | None = self.archive.best()
        self.refitting = Refitting(self)

    # ----- what the run is made of ------------------------------------------------------
    @property
    def members(self) -> list[Member]:
        return self.population.members

    @property
    def data_version(self) -> int:
        return self.feedback.data_version

    @property
    def plan(self) -> dict[str, Any]:
        """What one recorded example of this run's task is (engine.recorded.recording_plan)."""
        return self.feedback.plan

    def budget(self, rung: int) -> int:
        return policy.budget(self.base_steps, self.settings.eta, rung)

    def task_spec(self) -> dict[str, Any]:
        """The spec workers load: the run's task plus its recordings up to this version."""
        return self.feedback.task_ref().spec

    def save_seed_weights(self, weights: list[bytes], probes: bytes = b"") -> None:
        self.breeder.save_seed_weights(weights)
        self.breeder.save_seed_probes(probes)

    def poll_feedback(self, backend: Backend | None = None) -> None:
        """New recordings, a grown stream, new ratings (engine.run.feedback)."""
        self.feedback.poll(backend)

    # ----- the loop ---------------------------------------------------------------------
    def open_backend(self) -> Backend:
        s = self.settings
        config = BackendConfig(
            workers=s.workers,
            cpu_share=worker_share(s.cpu_cap, max(1, s.workers)),
            task=self.feedback.task_ref(),
            local_task=self.task,
            options=dict(self.backend_options),
        )
        return open_backend(self.backend_name, config)

    def run(
        self,
        minutes: float | None = None,
        until: Until | None = None,
        max_individuals: int | None = None,
    ) -> None:
        """Evolve until stopped, out of time, or the condition is met."""
        minutes = check_minutes(minutes)
        self.stop_event.clear()
        self.space.check(self.archive.count)
        self.teaching.start()
        self.poll_feedback()  # a brain teacher's first soft targets reach the first jobs
        backend = self.open_backend()
        session = self.archive.start_session()
        deadline = None if minutes is None else time.monotonic() + minutes * 60
        self.on_event(
            "started", {"run_dir": str(self.run_dir), "individuals": self.archive.count()}
        )
        last_touch = last_feedback = time.monotonic()
        try:
            while not self.stop_event.is_set():
                self._drain_calls()
                if time.monotonic() - last_feedback >= FEEDBACK_POLL_S:
                    self.poll_feedback(backend)
                    last_feedback = time.monotonic()
                if self._backend_dirty and backend.busy() == 0:
                    backend.close()
                    backend, self._backend_dirty = self.open_backend(), False
                self.neighbour.poll()  # the good-neighbour rules may hold new work back
                if not (self.paused.is_set() or self._backend_dirty or self.neighbour.reasons):
                    for _ in range(backend.free()):
                        backend.submit(self.next_job())
                for result in backend.collect(timeout=0.2):
                    self.absorb(result)
                now = time.monotonic()
                if now - last_touch > PROGRESS_S:
                    self.space.check(self.archive.count)
                    self.archive.touch_session(session)
                    last_touch = now
                    self.on_event("progress", self.progress())
                if (
                    (deadline is not None and now >= deadline)
                    or (
                        until is not None
                        and self.best is not None
                        and until.met(self.task.metric, self.best.val_metric)
                    )
                    or (max_individuals is not None and self.births >= max_individuals)
                ):
                    self.refitting.finish(backend)  # it ended on its own: refit the last champion
                    break
        finally:
            self.teaching.stopped()
            self._drain_calls()
            backend.close()
            with suppress(DiskFullError):  # the first report of it is the one that counts
                self.archive.touch_session(session)
            self.on_event("stopped", self.progress())

    def close(self) -> None:
        self.teaching.close()
        self.archive.close()

    # ----- making work ------------------------------------------------------------------
    def next_job(self) -> JobSpec:
        """The next birth, as the job a worker trains (kept in flight until it returns);
        first the refit of a new champion, when there is one to make."""
        if self.refitting.wanted():
            self.job_counter += 1
            refit = self.refitting.job(self.job_counter)
            if refit is not None:
                return refit
        self.job_counter += 1
        birth = self.breeder.next(self.births, self.archive.count(), len(self.inflight))
        graph = birth.graph
        graph.hparams = {
            **genes.defaults(getattr(self.task, "kind", None)),
            **self.teaching.genes(),
            **graph.hparams,
        }
        graph.lineage = {
            **(birth.lineage or {}),  # parents from outside the run (engine.run.crossing)
            "run_parents": list(birth.parents),  # content-id parents come on export
            "mutation": birth.mutation,
            "detail": birth.detail,
        }
        spec = JobSpec(
            job=self.job_counter,
            task=self.feedback.task_ref(),
            graph=graph.to_json().decode(),
            seed=self.rng.getrandbits(31),
            steps=birth.steps or self.budget(birth.rung),
            weights=birth.weights,
        )
        if self.continued is not None:
            spec = spec.with_(keep=self.settings.keep, probes=self.breeder.seed_probes())
        spec = self.runner.prepare(spec, birth, self)
        self.inflight[spec.job] = (birth, spec)
        return spec

    # ----- what a runner's coordinator side uses (engine.runners.base.Coordinator) -------
    def time_cap(self, steps: int) -> float | None:
        return self.pace.cap(steps)

    def validate(self, graph_json: str, weights: bytes) -> dict[str, float] | None:
        return self.feedback.validate(graph_json, weights)

    def moved(self, member: Member, metric: float) -> None:
        """A member's score moved outside its own training (a game's Elo, after a newcomer
        played it): store it, and crown whoever now stands first. The champion is the
        archive's best by current fitness, what `export --best` writes; keeping the last
        newcomer that beat a champion's score, which has moved since, delivered another
        brain than the export (docs/decisions.md, session 23)."""
        rec = member.record
        rec.val_metric = metric
        rec.fitness = self.scorer.score(metric, None, rec.params, rec.latency_ms)
        self.archive.update_score(rec.id, metric, rec.fitness)
        self._recrown()

    def _recrown(self) -> None:
        best = self.archive.best()
        if best is None:
            return
        changed = self.best is None or best.id != self.best.id
        self.best = best  # its score as it stands now, either way
        if changed:
            self.archive.log_event(
                "champion", {"id": best.id, "fitness": best.fitness, "metric": best.val_metric}
            )
            self.on_event("individual", {**self._summary(best), "champion": True, "retired": []})

    # ----- absorbing results ------------------------------------------------------------
    def absorb(self, result: JobResult) -> Record | None:
        """Store what came back; a sibling group becomes one individual per member."""
        if self.refitting.absorb(result):
            return None
        pending = self.inflight.pop(result.job, None)
        if pending is None:
            return None  # not a job of this run's (a backend from before a restart)
        birth, spec = pending
        last = None
        for (one, graph_json), outcome in zip(candidates(birth, spec), outcomes(spec, result)):
            last = self._absorb_one(one, graph_json, spec, result, outcome)
        return last

    def _absorb_one(
        self, birth: Birth, graph_json: str, spec: JobSpec, result: JobResult, outcome: Outcome
    ) -> Record:
        outcome = self.runner.absorb(spec, result, outcome, self)
        done = outcome.done
        metric = outcome.val.get(self.task.metric) if done else None
        rating = self.scorer.rating(0, list(birth.parents))
        fitness = (
            self.scorer.score(
                metric, outcome.val.get("loss"), outcome.params, outcome.latency_ms, rating
            )
            if done
            else None
        )
        scores = {"val": outcome.val, "test": outcome.test} if done else {}
        if self.continued is not None and done:
            fitness = self.continued.fitness(fitness, outcome)
            scores.update(self.continued.scores(outcome))
        rec = record_from(
            birth,
            graph_json,
            outcome,
            result,
            metric=self.task.metric,
            fitness=fitness,
            species=self.population.species_of(birth.graph),
            scored_version=self.data_version,
        )
        self.pace.add(outcome.pace(result.shared))
        retire = policy.aged_out(self.members, fitness, self.settings.population) if done else []
        rec.id = self.archive.add(
            rec,
            outcome.weights if done else None,
            scores,
            retire=[m.record.id for m in retire],
            event={"status": rec.status, "fitness": fitness},
        )
        self.births += 1
        if birth.origin == "promotion":  # the same structure again: its parent's novelty
            novelty = self.population.novelty_of.get(birth.parents[0])
            if novelty is None:  # the parent aged out meanwhile
                novelty = self.population.novelty.novelty(birth.graph)
        else:
            novelty = self.population.novelty_at_birth(birth.graph)
        self.population.finished(rec, novelty)
        self.population.replace(retire, Member(rec, birth.graph, outcome.weights) if done else None)
        summary = self._summary(rec)
        if not done:  # only the living need their novelty remembered
            self.population.novelty_of.pop(rec.id, None)
        champion = policy.is_champion(
            fitness, None if self.best is None else self.best.fitness, self.best is not None
        )
        if champion:
            self.best = rec
            self.archive.log_event("champion", {"id": rec.id, "fitness": fitness, "metric": metric})
        self.on_event(
            "individual",
            {
                **summary,
                "champion": champion,
                "retired": [m.record.id for m in retire],
                "graph": rec.graph_json,
                "error": outcome.error,
            },
        )
        if self.births % RETAIN_EVERY == 0:
            self.retain()
        self.failures.record(rec.status, outcome.error)  # a run whose candidates all fail stops
        return rec

    def retain(self) -> int:
        """Drop weights nobody will need (engine.run.policy.retained)."""
        standings = self.archive.standings()  # no graphs: this runs every 25 births for weeks
        keep = policy.retained(
            standings,
            {m.record.id for m in self.members},
            None if self.best is None else self.best.id,
            {r.id: r.parents for r in standings},
        )
        dropped = self.archive.apply_retention(keep)
        release_free_memory()  # what the dropped members and old results held
        return dropped

    # ----- what the run reports ---------------------------------------------------------
    def _summary(self, rec: Record) -> dict[str, Any]:
        return {
            **rec.summary(),
            "novelty": self.population.novelty_of.get(rec.id),
            "metric": self.task.metric,
            "trained_version": rec.trained_version,
            "train_size": rec.train_size,
        }

    def _best_summary(self, rec: Record) -> dict[str, Any]:
        out = self._summary(rec)
        refit = self.refitting.of(rec.id)
        if refit is not None:  # what an export of the champion writes
            out["refit"] = refit
        if self.continued is not None:  # every old task's score of the champion too
            out["tasks"] = self.continued.old_scores(self.archive.scores(rec.id))
        return out

    def progress(self) -> dict[str, Any]:
        elapsed = time.monotonic() - self.started
        best = self.best
        return {
            "individuals": self.archive.count(),
            "births": self.births,
            "per_minute": self.births / elapsed * 60 if elapsed > 0 else 0.0,
            "elapsed_s": elapsed,
            "species": len({m.record.species for m in self.members}),
            "population": len(self.members),
            "metric": self.task.metric,
            "best": None if best is None else self._best_summary(best),
            "data_version": self.data_version,
            "ratings": self.ratings.total,
            "teacher": self.teaching.status(),
            "waiting": self.neighbour.reasons,
        }
