"""The steady-state loop (DESIGN §3.4): workers ask for work, get a child to train, return
scores; the population absorbs each one as it arrives. Regularised (aging) evolution with
species-aware tournaments, successive-halving promotions for survivors, and every finished
individual committed to the archive before anything else happens."""

from __future__ import annotations

import dataclasses
import math
import queue
import random
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
from openbrains.engine import runlock
from openbrains.engine.compile import bind_io, compile_graph
from openbrains.engine.diskspace import DiskFullError, SpaceWatch
from openbrains.engine.errors import GraphError, OpenBrainsError
from openbrains.engine.evolve.crossover import crossover
from openbrains.engine.evolve.mutate import mutate
from openbrains.engine.evolve.random import SizeBounds, random_graph
from openbrains.engine.evolve.sizing import bounds_for
from openbrains.engine.evolve.species import Speciator
from openbrains.engine.evolve.templates import template_graph
from openbrains.engine.failure_guard import FailureGuard
from openbrains.engine.graph import Graph
from openbrains.engine.neighbour import PolicySettings, neighbour_for
from openbrains.engine.record import PLAN_KEY
from openbrains.engine.recorded import recording_plan, task_spec, with_samples
from openbrains.engine.settings_check import (
    SettingsError,
    check_minutes,
    check_run_settings,
)
from openbrains.engine.store import Archive, ArchiveError, Record
from openbrains.engine.tasks.base import DatasetTask
from openbrains.engine.tasks.rating import DEFAULT_PRIOR_STRENGTH, RatingBook, mix
from openbrains.engine.tasks.registry import load_task
from openbrains.engine.teachers.work import TeacherOrder, TeacherWork
from openbrains.engine.train.governor import worker_share
from openbrains.engine.train.job import (
    decode_weights,
    encode_weights,
    sibling_graph,
    unpack_members,
)
from openbrains.engine.train.trainer import CLASSIFICATION_HPARAMS, DEFAULT_HPARAMS
from openbrains.engine.train.workers import Finished, InlinePool, WorkerPool

EventSink = Callable[[str, dict[str, Any]], None]
FEEDBACK_POLL_S = 1.0  # how often the loop looks for new recordings and ratings
# a job may take this many times the recent median seconds per step before it is cut short:
# generous, so that a conv net among cheap MLPs (3-8x slower per step) trains in full
TIME_CAP = 10.0
TIME_CAP_WINDOW = 50  # recent finished jobs the median is taken over
TIME_CAP_MIN_JOBS = 8  # no cap until this many jobs have finished (in this session)


@dataclass
class RunSettings:
    """Everything that defines a run. Stored in the archive; ``RUNTIME`` keys may change
    when a run is resumed, the others are its identity."""

    task: dict[str, Any]
    seed: int = 0
    population: int = 16
    tournament: int = 4
    crossover_rate: float = 0.15
    template_fraction: float = 0.35
    budget_steps: int = 0
    eta: int = 3
    max_rung: int = 4
    promote_every: int = 2
    tradeoff: float = 0.02
    max_params: int = 0
    inherit: bool = True
    sibling_rate: float = 0.25
    siblings: int = 4
    workers: int = 1
    cpu_cap: float = 0.0
    seeds: list[str] = field(default_factory=list)
    rating_weight: float = 0.0  # 0: the task's metric alone; 1: people's ratings alone
    rating_prior: float = DEFAULT_PRIOR_STRENGTH  # k of the shrunk mean rating
    # the good-neighbour rules (engine.neighbour.PolicySettings): off at these values
    pause_on_battery: bool = False
    pause_when_busy: float = 0.0
    resume_after_idle: float = 0.0
    hours: str = ""

    RUNTIME = ("workers", "cpu_cap", "tradeoff", "rating_weight", *PolicySettings.KEYS)

    def __post_init__(self) -> None:
        check_run_settings(self.to_dict())  # the rules: engine/settings_check.py

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "") -> RunSettings:
        if not isinstance(d, dict):
            raise SettingsError(f"{where}: the stored settings are not an object")
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        check_run_settings(known, where)
        return cls(**known)


@dataclass
class Until:
    """A stop condition on the champion's validation metric, e.g. ``accuracy>=0.97``."""

    metric: str
    op: str
    value: float

    @classmethod
    def parse(cls, text: str) -> Until:
        for op in (">=", "<="):
            if op in text:
                metric, value = text.split(op, 1)
                try:
                    number = float(value)
                except ValueError:
                    break
                if math.isfinite(number):  # 'accuracy>=nan' would never be met
                    return cls(metric.strip(), op, number)
                break
        raise OpenBrainsError(
            f"--until must look like METRIC>=VALUE or METRIC<=VALUE, got {text!r}"
        )

    def met(self, metric: str, value: float | None) -> bool:
        if value is None or metric != self.metric:
            return False
        return value >= self.value if self.op == ">=" else value <= self.value


@dataclass
class Member:
    """A living individual as the coordinator keeps it: record, graph, weights in RAM."""

    record: Record
    graph: Graph
    weights: bytes


class Run:
    """One resumable search in ``run_dir``."""

    def __init__(
        self,
        run_dir: Path,
        settings: RunSettings | None = None,
        on_event: EventSink | None = None,
        teacher: TeacherOrder | None = None,
    ) -> None:
        """``teacher``: what the user asked a teacher to do for this run (command line or
        the window's dialog; never stored in the run's settings, so a run folder cannot
        name code or a server to use)."""
        self.run_dir = Path(run_dir)
        self.archive = Archive(self.run_dir)
        self.teacher: TeacherWork | None = None
        try:
            self.settings = self._reconcile(settings)
            self.neighbour = neighbour_for(self.settings, self._on_neighbour)
            self.task: DatasetTask = load_task(**self.settings.task)
            if self.archive.get_meta("task_info") is None:
                self.archive.set_meta("task_info", self.task.describe())
            self.plan = recording_plan(self.task)
            if self.archive.get_meta(PLAN_KEY) != self.plan:
                self.archive.set_meta(PLAN_KEY, self.plan)
            if teacher is not None:
                self.teacher = TeacherWork(teacher, self.run_dir, self.task, self.plan, on_event)
        except BaseException:
            self.archive.close()
            raise
        self.base_task = self.task  # without recordings; with_samples adds them per version
        self.data_version = 0
        self._soft_version = 0  # the teacher's soft targets the task carries (distillation)
        self._looping = False  # run() is going (call_soon reaches it)
        self._failed_version = 0
        self.ratings = RatingBook(self.settings.rating_prior)
        self.lineage: dict[int, list[int]] = {}
        self.settings.seeds = [fit_seed(s, self.task) for s in self.settings.seeds]
        # sized from the task's own data, so recordings never change a run's budgets
        self.bounds: SizeBounds = bounds_for(self.task, self.settings.max_params or None)
        self.base_steps = self.settings.budget_steps or _base_steps(self.task)
        self.on_event = on_event or (lambda kind, data: None)
        self.space = SpaceWatch(self.run_dir, lambda info: self.on_event("disk_low", info))
        self.failures = FailureGuard()
        self._load_samples(self.archive.samples_version())
        self.rng = random.Random(self.settings.seed * 1_000_003 + self.archive.count())
        self.speciator = Speciator()
        self.members: list[Member] = []
        self.promoted: set[int] = set()
        self.rung_history: dict[int, list[float]] = {}  # fitness of every finished, per rung
        self.step_seconds: deque[float] = deque(maxlen=TIME_CAP_WINDOW)  # recent s per step
        self.inflight: dict[int, dict[str, Any]] = {}
        self.job_counter = 0
        self.births = 0
        self.started = time.monotonic()
        self.stop_event = threading.Event()
        self.paused = threading.Event()
        self._calls: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.injections: list[tuple[Graph, bytes, dict[str, Any]]] = []
        self._pool_dirty = False
        self.best: Record | None = self.archive.best()
        self._load_population()

    # ----- settings ------------------------------------------------------------------
    def _reconcile(self, given: RunSettings | None) -> RunSettings:
        stored = self.archive.get_meta("settings")
        if stored is None:
            if given is None:
                raise ArchiveError(f"{self.run_dir} holds no run yet; give a task to start one")
            self.archive.set_meta("settings", given.to_dict())
            return given
        if given is not None and isinstance(stored, dict):  # runtime values: the given ones
            stored = {**stored, **{k: getattr(given, k) for k in RunSettings.RUNTIME}}
        settings = RunSettings.from_dict(stored, where=str(self.run_dir))
        if given is not None:
            if given.task != settings.task:
                raise ArchiveError(
                    f"{self.run_dir} belongs to task {settings.task.get('name')!r} "
                    f"({_task_label(settings.task)}); use another --run-dir for {_task_label(given.task)}"
                )
            for key in RunSettings.RUNTIME:
                setattr(settings, key, getattr(given, key))
            self.archive.set_meta("settings", settings.to_dict())
        return settings

    def _load_population(self) -> None:
        self.ratings.refresh(self.archive)
        for rec in self.archive.records(alive_only=True):
            weights = self.archive.weights(rec.id)
            if weights is None:
                continue
            graph = Graph.from_json(rec.graph_json)
            self.speciator.assign(graph)
            self.members.append(Member(rec, graph, weights))
        for rec in self.archive.records():
            self.lineage[rec.id] = rec.parents
            if rec.origin == "promotion":
                self.promoted.update(rec.parents)
            if rec.fitness is not None:
                self.rung_history.setdefault(rec.rung, []).append(rec.fitness)

    # ----- control (thread-safe: the service calls these from its command thread) ---------
    def stop(self) -> None:
        self.stop_event.set()

    def pause(self) -> None:
        """Finish what is in flight, start nothing new (workers stay warm)."""
        self.paused.set()
        self.on_event("paused", {})

    def resume(self) -> None:
        self.paused.clear()
        self.on_event("resumed", {})

    def _on_neighbour(self, kind: str, data: dict[str, Any]) -> None:
        """The good-neighbour rules held the search back or let it go: tell and log it."""
        self.archive.log_event(kind, data)
        self.on_event(kind, data)

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` in the loop's thread between jobs (archive and population are its own)."""
        self._calls.put(fn)

    def update(self, **changes: Any) -> None:
        """Change runtime settings (workers, cpu_cap, tradeoff, rating_weight) of a running
        search."""
        unknown = set(changes) - set(RunSettings.RUNTIME)
        if unknown:
            raise OpenBrainsError(
                f"cannot change {sorted(unknown)} while running; only {RunSettings.RUNTIME}"
            )
        check_run_settings(changes)
        PolicySettings.from_mapping({**self.settings.to_dict(), **changes})  # refuse bad rules now

        def apply() -> None:
            if changes.get("workers", self.settings.workers) != self.settings.workers or (
                changes.get("cpu_cap", self.settings.cpu_cap) != self.settings.cpu_cap
            ):
                self._pool_dirty = True
            refit = changes.get("rating_weight", self.settings.rating_weight) != (
                self.settings.rating_weight
            )
            for key, value in changes.items():
                setattr(self.settings, key, value)
            self.archive.set_meta("settings", self.settings.to_dict())
            if refit:
                self._refit_members()
            self.neighbour.update(PolicySettings.from_mapping(self.settings))
            self.on_event("settings", {k: getattr(self.settings, k) for k in RunSettings.RUNTIME})

        self.call_soon(apply)

    def use_teacher(self, order: TeacherOrder | None) -> dict[str, Any] | None:
        """Put a teacher to work on this run (or, with None, send it home). The order is
        checked and the teacher opened here, so a bad one raises in the caller's thread
        (``TeacherError``, one line); the swap itself happens between jobs."""
        work = (
            TeacherWork(order, self.run_dir, self.base_task, self.plan, self.on_event)
            if order
            else None
        )

        def apply() -> None:
            if self.teacher is not None:
                self.teacher.stop()
            self.teacher, self._soft_version = work, 0
            if self.task.train.soft is not None:  # the old teacher's targets leave with it
                self.task = dataclasses.replace(
                    self.task, train=dataclasses.replace(self.task.train, soft=None)
                )
                self._pool_dirty = True
            if work is not None and self._looping:
                work.start()
            self.on_event("teacher", work.status() if work is not None else {})

        if self._looping:
            self.call_soon(apply)
        else:
            apply()
        return work.status() if work is not None else None

    def inject(
        self,
        graph: Graph,
        weights: bytes = b"",
        parents: list[int] | None = None,
        detail: str = "edited by hand",
    ) -> None:
        """Add a hand-made graph to the population: it is trained next, like any child."""
        graph.validate()
        meta = {
            "origin": "hand",
            "parents": list(parents or []),
            "mutation": "hand edit",
            "detail": detail,
            "rung": 0,
        }
        self.call_soon(lambda: self.injections.append((graph.copy(), weights, meta)))

    # ----- what people add while it runs: recordings and ratings -------------------------
    def task_spec(self) -> dict[str, Any]:
        """The spec workers load: the run's task plus its recordings up to this version
        (and where a distilling teacher's soft targets are)."""
        spec = task_spec(self.settings.task, self.run_dir, self.data_version)
        return {**spec, **self.teacher.spec_extra()} if self.teacher else spec

    def _load_samples(self, version: int) -> bool:
        """Make ``self.task`` the base task plus the recordings up to ``version``."""
        if not self.plan.get("ok") or version <= self.data_version:
            return False
        try:
            task = with_samples(self.base_task, self.archive.samples(version), version)
        except Exception as exc:  # a bad recording must not stop the run: keep the old data
            self._failed_version = version
            self.archive.log_event("error", {"message": f"recorded samples unusable: {exc}"})
            self.on_event("error", {"message": f"recorded samples could not be used: {exc}"})
            return False
        self.task, self.data_version = task, version
        return True

    def _grow_stream(self) -> bool:
        """A task whose own data grows (a followed log: ``refresh()``) read what was added."""
        refresh = getattr(self.base_task, "refresh", None)
        if not callable(refresh):
            return False
        try:
            if not refresh():
                return False
        except OpenBrainsError as exc:  # the file went away for a moment: keep the data
            self.on_event("error", {"message": str(exc)})
            return False
        self.task = (
            with_samples(self.base_task, self.archive.samples(self.data_version), self.data_version)
            if self.data_version
            else self.base_task
        )
        return True

    def poll_feedback(self, pool: WorkerPool | InlinePool | None = None) -> None:
        """Between births: take in new recordings, or what a streamed task's file gained
        (rebuild the data, ship it to the workers, rescore the living on the refreshed
        validation split), and new ratings (refit)."""
        version = self.archive.samples_version()
        grown = self._grow_stream()
        recorded = version > max(self.data_version, self._failed_version) and self._load_samples(
            version
        )
        taught = self.teacher is not None and self.teacher.soft_version != self._soft_version
        if self.teacher is not None and (grown or recorded or taught):
            self._soft_version = self.teacher.soft_version
            self.task = self.teacher.teach(self.task)
            if taught and not (grown or recorded) and pool is not None:
                pool.reload_task(self.task_spec(), self.task)
        if grown or recorded:
            if pool is not None:
                pool.reload_task(self.task_spec(), self.task)
            self._rescore_members()
            info = {
                "version": self.data_version,
                "stream": grown,
                "train": len(self.task.train),
                "val": len(self.task.val),
                "recorded": self.task.settings.get("recorded", {}),
                "samples": self.archive.sample_counts(),
            }
            self.archive.log_event("data", info)
            self.on_event("data", info)
        if self.ratings.refresh(self.archive):
            if self.settings.rating_weight > 0:
                self._refit_members()
            self.on_event("ratings", {"count": self.ratings.total, "mean": self.ratings.mean})

    def _validate(self, graph: Graph, weights: bytes) -> dict[str, float] | None:
        """A trained member measured on the current validation split."""
        from openbrains.engine.train.trainer import evaluate

        try:
            brain = compile_graph(graph, seed=0)
            brain.load_weights(decode_weights(weights))
            return evaluate(brain, self.task, self.task.val)
        except (OpenBrainsError, RuntimeError, ValueError):
            return None

    def _rescore_members(self) -> None:
        """Scores stay comparable: every living member is measured again on the refreshed
        validation data, so selection never weighs an old score against a new one."""
        changes = []
        for m in self.members:
            val = self._validate(m.graph, m.weights)
            if val is None:
                continue
            rec = m.record
            rec.val_metric = val.get(self.task.metric)
            rec.fitness = self.score(
                rec.val_metric, val.get("loss"), rec.params, rec.latency_ms, self._rating_of(rec)
            )
            rec.scored_version = self.data_version
            changes.append((rec.id, val, rec.val_metric, rec.fitness, self.data_version))
        if changes:
            self.archive.rescore(changes)
        self.best = self.archive.best()

    def _rating_of(self, rec: Record) -> float | None:
        return self._rating(rec.id, rec.parents)

    def _rating(self, ind: int, parents: list[int]) -> float | None:
        """People's estimate for an individual (0–10), or None when ratings do not count.
        A newborn (``ind`` 0) has no ratings yet: it stands where its parents stand."""
        if self.settings.rating_weight <= 0:
            return None
        if ind:
            return self.ratings.estimate(ind, parents, self.lineage)
        known = [self.ratings.estimate(p, self.lineage.get(p, ()), self.lineage) for p in parents]
        return sum(known) / len(known) if known else self.ratings.mean

    def _refit_members(self) -> None:
        """Fitness of the living again, after ratings or their weight changed."""
        changes = []
        for m in self.members:
            rec = m.record
            loss = (self.archive.scores(rec.id).get("val") or {}).get("loss")
            rec.fitness = self.score(
                rec.val_metric, loss, rec.params, rec.latency_ms, self._rating_of(rec)
            )
            changes.append((rec.id, rec.fitness))
        if changes:
            self.archive.set_fitness(changes)
        self.best = self.archive.best()

    def _drain_calls(self) -> None:
        while True:
            try:
                fn = self._calls.get_nowait()
            except queue.Empty:
                return
            fn()

    # ----- the loop ------------------------------------------------------------------
    def _make_pool(self) -> WorkerPool | InlinePool:
        s = self.settings
        share = worker_share(s.cpu_cap, max(1, s.workers))
        return (
            InlinePool(self.task, share)
            if s.workers <= 0
            else WorkerPool(s.workers, self.task_spec(), share)
        )

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
        self._looping = True
        if self.teacher is not None:
            self.teacher.start()
            self.teacher.wait_first(timeout=120)
            self.poll_feedback()
        pool = self._make_pool()
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
                    self.poll_feedback(pool)
                    last_feedback = time.monotonic()
                if self._pool_dirty and pool.busy() == 0:
                    pool.close()
                    pool, self._pool_dirty = self._make_pool(), False
                self.neighbour.poll()  # the good-neighbour rules may hold new work back
                if not self.paused.is_set() and not self._pool_dirty and not self.neighbour.reasons:
                    for worker in pool.idle():
                        job, weights = self.next_job()
                        self.inflight[job["job"]] = job
                        pool.submit(worker, job, weights)
                for finished in pool.collect(timeout=0.2):
                    self.absorb(finished)
                now = time.monotonic()
                if now - last_touch > 2:
                    self.space.check(self.archive.count)
                    self.archive.touch_session(session)
                    last_touch = now
                    self.on_event("progress", self.progress())
                if deadline is not None and now >= deadline:
                    break
                if (
                    until is not None
                    and self.best is not None
                    and until.met(self.task.metric, self.best.val_metric)
                ):
                    break
                if max_individuals is not None and self.births >= max_individuals:
                    break
        finally:
            self._looping = False
            self._drain_calls()
            pool.close()
            with suppress(DiskFullError):  # the first report of it is the one that counts
                self.archive.touch_session(session)
            self.on_event("stopped", self.progress())

    def close(self) -> None:
        if self.teacher is not None:
            self.teacher.stop()
        self.archive.close()

    # ----- making work ---------------------------------------------------------------
    def budget(self, rung: int) -> int:
        return int(self.base_steps * self.settings.eta**rung)

    def next_job(self) -> tuple[dict[str, Any], bytes]:
        self.job_counter += 1
        meta: dict[str, Any]
        if self.injections:
            graph, weights, meta = self.injections.pop(0)
        elif len(self.members) + len(self.inflight) < self.settings.population:
            graph, weights, meta = self._fresh_graph()
        else:
            promo = (
                self._promotion()
                if self.births and self.births % self.settings.promote_every == 0
                else None
            )
            if promo is not None:
                graph, weights, meta = promo
            else:
                graph, weights, meta = self._breed()
        graph.hparams = {**self._gene_defaults(), **graph.hparams}
        graph.lineage = {
            "parents": meta["parents"],
            "mutation": meta.get("mutation", ""),
            "detail": meta.get("detail", ""),
        }
        steps = meta.pop("steps", None) or self.budget(meta.get("rung", 0))
        job = {
            "job": self.job_counter,
            "graph": graph.to_json().decode(),
            "seed": self.rng.getrandbits(31),
            "steps": steps,
            "meta": meta,
            "data_version": self.data_version,
        }
        if self.is_game:
            return job, self._with_opponents(job, weights)
        if (
            meta.get("origin") in ("mutation", "crossover")
            and self.rng.random() < self.settings.sibling_rate
        ):
            job["siblings"] = self._siblings(graph)
        cap = self._time_cap(steps)
        if cap is not None:
            job["seconds"] = cap * max(1, len(job.get("siblings") or ()))
        return job, weights

    def _time_cap(self, steps: int) -> float | None:
        """Seconds after which a job stops even if its steps are not done: ``TIME_CAP`` times
        what ``steps`` take at the recent median pace. A random graph can be thirty to a
        hundred times slower per step than its peers (attention over a digit's pixels, an
        LSTM reading them one by one); without a cap one such candidate held a worker for
        16 s of a 60 s digits search, where a conv net's job takes half a second."""
        if len(self.step_seconds) < TIME_CAP_MIN_JOBS:
            return None
        return TIME_CAP * statistics.median(self.step_seconds) * steps

    @property
    def is_game(self) -> bool:
        return getattr(self.task, "kind", "") == "game"

    def _with_opponents(self, job: dict[str, Any], weights: bytes) -> bytes:
        """A game candidate also meets the champion and one random member in the arena; their
        weights travel with its own, packed as ``self/…`` and ``oppN/…``."""
        packed = {f"self/{k}": v for k, v in decode_weights(weights).items()}
        rated = [m for m in self.members if m.record.val_metric is not None]
        picks: list[Member] = []
        if rated:
            picks.append(max(rated, key=lambda m: m.record.val_metric))
            others = [m for m in rated if m is not picks[0]]
            if others:
                picks.append(self.rng.choice(others))
        job["opponents"] = []
        for i, m in enumerate(picks):
            job["opponents"].append(
                {"id": m.record.id, "graph": m.record.graph_json, "rating": m.record.val_metric}
            )
            packed.update({f"opp{i}/{k}": v for k, v in decode_weights(m.weights).items()})
        return encode_weights(packed) if packed else b""

    def _arena_updates(self, result: dict[str, Any]) -> None:
        """Members the candidate played move on the Elo scale too (draws count half)."""
        from openbrains.engine.games.arena import update

        rating = (result.get("val") or {}).get("elo")
        if rating is None:
            return
        if result.get("references") and self.archive.get_meta("references") is None:
            self.archive.set_meta("references", result["references"])
        for name, res in (result.get("matches") or {}).items():
            if not name.startswith("#"):
                continue
            member = next((m for m in self.members if m.record.id == int(name[1:])), None)
            if member is None or member.record.val_metric is None:
                continue
            games = res["wins"] + res["draws"] + res["losses"]
            if games == 0:
                continue
            member_points = res["losses"] + 0.5 * res["draws"]  # the member's side of the games
            new, _ = update(member.record.val_metric, rating, member_points, k=16, games=games)
            member.record.val_metric = new
            member.record.fitness = self.score(
                new, None, member.record.params, member.record.latency_ms
            )
            self.archive.update_score(member.record.id, new, member.record.fitness)

    def _siblings(self, graph: Graph) -> list[dict[str, Any]] | None:
        """A child trained K times with its own learning rates and seeds: a learning-rate
        sweep that the worker trains in one vmapped program when that is faster."""
        from openbrains.engine.train.batched import batchable

        if self.settings.siblings < 2 or not batchable(graph):
            return None
        base = float(graph.hparams.get("lr", DEFAULT_HPARAMS["lr"]))
        lrs = [base] + [
            min(0.1, max(1e-4, base * math.exp(self.rng.gauss(0, 0.7))))
            for _ in range(self.settings.siblings - 1)
        ]
        return [{"seed": self.rng.getrandbits(31), "hparams": {"lr": lr}} for lr in lrs]

    def _fresh_graph(self) -> tuple[Graph, bytes, dict[str, Any]]:
        """The initial population: the project's seed graphs and their mutations, or (with
        no seed) a conventional graph first, then templates and random graphs."""
        t = self.task
        seeds = self.settings.seeds
        index = self.archive.count() + len(self.inflight)
        if index < len(seeds):
            return (
                Graph.from_json(seeds[index]),
                self._seed_weights(index),
                {"origin": "seed", "parents": [], "rung": 0},
            )
        if seeds:
            pick = self.rng.randrange(len(seeds))
            graph, weights = Graph.from_json(seeds[pick]), self._seed_weights(pick)
            tensors = decode_weights(weights)
            details = []
            for _ in range(self.rng.randint(1, 2)):
                for _try in range(10):  # a mutation that outgrows --max-params is redrawn
                    m = mutate(graph, tensors, self.rng, self.bounds)
                    if self._fits(m.graph):
                        graph, tensors = m.graph, m.weights
                        details.append(m.detail)
                        break
            meta = {
                "origin": "seed-mutation",
                "parents": [],
                "mutation": "seed mutation",
                "detail": "; ".join(details),
                "rung": 0,
            }
            return graph, self._maybe_inherit(tensors), meta
        for attempt in range(40):
            # the very first graph is a conventional one, so a run always starts somewhere
            # sane, unless no template fits the size bound (digits under 1,000 parameters:
            # the smallest is ~1,500) and random graphs must
            forced = index == 0 and attempt < 10
            if forced or (attempt < 30 and self.rng.random() < self.settings.template_fraction):
                g, origin = (
                    template_graph(self.rng, t.inputs, t.outputs, self.bounds, t.causal),
                    "template",
                )
            else:
                g, origin = (
                    random_graph(self.rng, t.inputs, t.outputs, self.bounds, t.causal),
                    "random",
                )
            g.hparams = {
                "lr": math.exp(self.rng.uniform(math.log(1e-3), math.log(2e-2))),
                "batch_size": self.rng.choice([16, 32, 64]),
                "optimizer": "adam",
                **self._first_genes(),
            }
            if self._fits(g):
                break
        return g, b"", {"origin": origin, "parents": [], "rung": 0}

    def _gene_defaults(self) -> dict[str, Any]:
        """Every training gene this task's graphs carry, at its neutral value (a graph from
        a file keeps training as it did, and evolution can still change the gene)."""
        taught = self.teacher.genes() if self.teacher is not None else {}
        if getattr(self.task, "kind", None) == "classification":
            return {**DEFAULT_HPARAMS, **CLASSIFICATION_HPARAMS, **taught}
        return dict(DEFAULT_HPARAMS)

    def _first_genes(self) -> dict[str, Any]:
        """Task-specific genes of a first graph: label smoothing 0.1 for classification
        (on digits it lifts a 4.6k conv net from 0.968 to 0.974 test, mean of 7 seeds)."""
        if getattr(self.task, "kind", None) == "classification":
            return {"label_smoothing": 0.1}
        return {}

    def _seed_weights(self, index: int) -> bytes:
        path = self.run_dir / "seeds" / f"{index}.safetensors"
        return path.read_bytes() if path.exists() else b""

    def save_seed_weights(self, weights: list[bytes]) -> None:
        """Keep the project's seed weights beside the archive (written once, at creation)."""
        folder = self.run_dir / "seeds"
        folder.mkdir(exist_ok=True)
        for i, data in enumerate(weights):
            path = folder / f"{i}.safetensors"
            if data and not path.exists():
                tmp = path.with_suffix(".tmp")
                tmp.write_bytes(data)
                tmp.replace(path)

    def _fits(self, graph: Graph) -> bool:
        try:
            return compile_graph(graph).param_count() <= self.bounds.max_params
        except GraphError:
            return False

    def _select(self) -> Member:
        """Tournament; half the time within one random species, which shields new structure."""
        pool = self.members
        if self.rng.random() < 0.5:
            species = sorted({m.record.species for m in pool})
            chosen = self.rng.choice(species)
            pool = [m for m in pool if m.record.species == chosen]
        entrants = self.rng.sample(pool, min(self.settings.tournament, len(pool)))
        return max(
            entrants, key=lambda m: m.record.fitness if m.record.fitness is not None else -math.inf
        )

    def _breed(self) -> tuple[Graph, bytes, dict[str, Any]]:
        for _ in range(10):
            a = self._select()
            if len(self.members) > 1 and self.rng.random() < self.settings.crossover_rate:
                b = self._select()
                if b is not a:
                    g, w, detail = crossover(
                        a.graph,
                        decode_weights(a.weights),
                        a.record.fitness or -math.inf,
                        b.graph,
                        decode_weights(b.weights),
                        b.record.fitness or -math.inf,
                        self.rng,
                    )
                    meta = {
                        "origin": "crossover",
                        "parents": [a.record.id, b.record.id],
                        "mutation": "crossover",
                        "detail": detail,
                        "rung": 0,
                    }
                    if self._fits(g):
                        return g, self._maybe_inherit(w), meta
                    continue
            m = mutate(a.graph, decode_weights(a.weights), self.rng, self.bounds)
            meta = {
                "origin": "mutation",
                "parents": [a.record.id],
                "mutation": m.name,
                "detail": m.detail,
                "preserving": m.preserving,
                "rung": 0,
            }
            if self._fits(m.graph):
                return m.graph, self._maybe_inherit(m.weights), meta
        # nothing bred fits the size bound: the parent trains again, as it is
        meta |= {"mutation": "retrain", "detail": "no child fitted --max-params"}
        return a.graph.copy(), self._maybe_inherit(decode_weights(a.weights)), meta

    def _maybe_inherit(self, weights: dict[str, Any]) -> bytes:
        return encode_weights(weights) if self.settings.inherit and weights else b""

    def _promotion(self) -> tuple[Graph, bytes, dict[str, Any]] | None:
        """Successive halving, asynchronously (ASHA): the best unpromoted living member of a
        rung trains on for the next rung's budget if it is in the top 1/eta of *every*
        individual that ever finished that rung, not just of the living ones: a rung's few
        survivors are otherwise never enough to promote, and good brains age out unpromoted
        (with ``inherit`` off it retrains from fresh weights for the whole budget: nothing
        learned is carried over)."""
        eta = self.settings.eta
        for rung in range(self.settings.max_rung - 1, -1, -1):
            history = sorted(self.rung_history.get(rung, []), reverse=True)
            if len(history) < eta:
                continue
            threshold = history[len(history) // eta - 1]
            members = [
                m
                for m in self.members
                if m.record.rung == rung
                and m.record.fitness is not None
                and m.record.fitness >= threshold
                and m.record.id not in self.promoted
            ]
            if not members:
                continue
            m = max(members, key=lambda m: m.record.fitness or -math.inf)
            self.promoted.add(m.record.id)
            meta = {
                "origin": "promotion",
                "parents": [m.record.id],
                "mutation": "promotion",
                "rung": rung + 1,
            }
            if not self.settings.inherit:  # no weights carried anywhere: retrain
                full = self.budget(rung + 1)
                meta |= {"steps": full, "detail": f"trains {full} steps from scratch"}
                weights = b""
            else:
                extra = self.budget(rung + 1) - self.budget(rung)
                meta |= {"steps": extra, "detail": f"trains {extra} more steps"}
                meta["prior_steps"], weights = m.record.steps, m.weights
            meta["detail"] += f" (rung {rung + 1})"
            return m.graph.copy(), weights, meta
        return None

    # ----- absorbing results ---------------------------------------------------------
    LOSS_TIEBREAK = 0.01

    def score(
        self,
        metric: float | None,
        loss: float | None,
        params: int,
        latency_ms: float,
        rating: float | None = None,
    ) -> float | None:
        """One number for selection: task fitness minus the size/latency trade-off.

        For classification a small share of the validation loss breaks ties between equal
        accuracies (a coarse metric on a small validation set), preferring confident,
        well-calibrated brains. With ``rating_weight`` > 0 and a ``rating`` (the shrunk mean
        of people's 0–10 scores), the task part is ``(1 − w)·metric + w·rating``, both on
        0..1 (engine.tasks.rating.mix).
        """
        if metric is None or not math.isfinite(metric):
            return None
        size_cost = math.log10(params + 1) / 6 + math.log10(1 + latency_ms) / 3
        if rating is not None and self.settings.rating_weight > 0:
            base = mix(self.task.metric, metric, rating, self.settings.rating_weight)
        else:
            base = self.task.fitness(metric)
        fitness = base - self.settings.tradeoff * size_cost
        if self.task.kind == "classification" and loss is not None and math.isfinite(loss):
            fitness -= self.LOSS_TIEBREAK * min(loss, 10.0)
        return fitness

    def absorb(self, fin: Finished) -> Record | None:
        """Store what came back; a sibling group becomes one individual per member."""
        job = self.inflight.pop(fin.job["job"], fin.job)
        if job.get("siblings"):
            members = fin.result.get("members") or []
            blobs = unpack_members(fin.weights, len(job["siblings"]))
            last = None
            for i, sib in enumerate(job["siblings"]):
                member = (
                    members[i]
                    if i < len(members)
                    else {"status": "failed", "error": fin.result.get("error", "lost")}
                )
                graph = sibling_graph(job["graph"], sib["hparams"])
                one = {**job, "graph": graph.to_json().decode(), "seed": sib["seed"]}
                one.pop("siblings")
                one["meta"] = {
                    **job.get("meta", {}),
                    "detail": (
                        job.get("meta", {}).get("detail", "")
                        + f"; sibling {i + 1}/{len(job['siblings'])} lr {sib['hparams']['lr']:.2g}"
                    ),
                }
                # batched siblings share one clock: each trained for a k-th of it
                shared = len(job["siblings"]) if fin.result.get("batched") else 1
                last = self._absorb_one(
                    one,
                    {**member, "job": job["job"], "data": fin.result.get("data"), "shared": shared},
                    blobs[i],
                )
            return last
        return self._absorb_one(job, fin.result, fin.weights)

    def _absorb_one(self, job: dict[str, Any], result: dict[str, Any], weights: bytes) -> Record:
        if self.is_game and result.get("status") == "done":
            self._arena_updates(result)
        fin = Finished(job, result, weights)
        meta = job.get("meta", {})
        r = fin.result
        graph = Graph.from_json(job["graph"])
        done = r.get("status") == "done"
        metric = (r.get("val") or {}).get(self.task.metric) if done else None
        test_metric = (r.get("test") or {}).get(self.task.metric) if done else None
        params = int(r.get("params") or 0)
        latency = float(r.get("latency_ms") or 0.0)
        val_loss = (r.get("val") or {}).get("loss") if done else None
        data = r.get("data") or {}
        trained_version = int(data.get("version") or 0)
        val_scores = r.get("val") or {}
        if done and not self.is_game and trained_version != self.data_version:
            # trained while recordings arrived: score it on the validation data the living
            # are scored on now, or its number would not compare with theirs
            fresh = self._validate(graph, fin.weights)
            if fresh is not None:
                val_scores, metric, val_loss = fresh, fresh.get(self.task.metric), fresh["loss"]
        rating = self._rating(0, list(meta.get("parents", [])))
        fitness = self.score(metric, val_loss, params, latency, rating) if done else None
        species = self.speciator.assign(graph)
        rec = Record(
            id=0,
            origin=meta.get("origin", "?"),
            parents=list(meta.get("parents", [])),
            graph_json=job["graph"],
            structure=graph.structure_hash(),
            status=r.get("status", "failed"),
            rung=int(meta.get("rung", 0)),
            steps=int(meta.get("prior_steps", 0)) + int(r.get("steps") or 0),
            train_seconds=float(r.get("train_seconds") or 0.0),
            params=params,
            flops=int(r.get("flops") or 0),
            latency_ms=latency,
            val_metric=metric,
            test_metric=test_metric,
            fitness=fitness,
            species=species,
            mutation=meta.get("mutation", ""),
            detail=meta.get("detail", "") or r.get("error", ""),
            alive=done,
            curve=r.get("curve") or [],
            trained_version=trained_version,
            train_size=int(data.get("train") or 0),
            scored_version=self.data_version,
        )
        if done and int(r.get("steps") or 0) > 0 and rec.train_seconds > 0:
            pace = rec.train_seconds / int(r["steps"]) / int(r.get("shared") or 1)
            self.step_seconds.append(pace)
        retire: list[Member] = []
        if done:
            retire = self._aged_out(fitness)
            if fitness is not None:
                self.rung_history.setdefault(rec.rung, []).append(fitness)
        scores = {"val": val_scores, "test": r.get("test") or {}} if done else {}
        rec.id = self.archive.add(
            rec,
            fin.weights if done else None,
            scores,
            retire=[m.record.id for m in retire],
            event={"status": rec.status, "fitness": fitness},
        )
        self.births += 1
        self.lineage[rec.id] = rec.parents
        for m in retire:
            self.members.remove(m)
        if done:
            self.members.append(Member(rec, graph, fin.weights))
        champion = self.best is None or (
            fitness is not None and (self.best.fitness is None or fitness > self.best.fitness)
        )
        if champion and fitness is not None:
            self.best = rec
            self.archive.log_event("champion", {"id": rec.id, "fitness": fitness, "metric": metric})
        self.on_event(
            "individual",
            {
                **self._summary(rec),
                "champion": champion and fitness is not None,
                "retired": [m.record.id for m in retire],
                "graph": rec.graph_json,
                "error": r.get("error", ""),
            },
        )
        if self.births % 25 == 0:
            self.retain()
        self.failures.record(rec.status, str(r.get("error") or ""))
        return rec

    def _aged_out(self, newcomer_fitness: float | None) -> list[Member]:
        """Who leaves to make room for a newcomer: the oldest first (aging evolution), except
        the best living member, which stays until someone beats it. Without that one elite
        the best lineage can age out before its rung has enough finishers to promote it,
        and with inheritance on the population then drifts into a low-learning-rate
        lineage that training no longer improves (seen on digits: stuck at 0.8
        validation for 400 evaluations)."""
        alive_after = len(self.members) + 1
        if alive_after <= self.settings.population:
            return []
        ranked = [m for m in self.members if m.record.fitness is not None]
        elite = max(ranked, key=lambda m: m.record.fitness or -math.inf, default=None)
        if elite is not None and (newcomer_fitness or -math.inf) > (
            elite.record.fitness or -math.inf
        ):
            elite = None  # the newcomer is the new best; the old one may age out
        retire = []
        for m in self.members:  # oldest first
            if alive_after <= self.settings.population:
                break
            if m is not elite:
                retire.append(m)
                alive_after -= 1
        return retire

    def _summary(self, rec: Record) -> dict[str, Any]:
        return {
            **rec.summary(),
            "metric": self.task.metric,
            "trained_version": rec.trained_version,
            "train_size": rec.train_size,
        }

    def retain(self) -> int:
        """Drop weights nobody will need: keep the living, the Pareto front (score vs size),
        each species' champion and the champion's lineage."""
        standings = self.archive.standings()  # no graphs: this runs every 25 births for weeks
        records = [r for r in standings if r.fitness is not None]
        keep = {m.record.id for m in self.members}
        keep |= pareto_front(records)
        best_by_species: dict[int, Any] = {}
        for r in records:
            cur = best_by_species.get(r.species)
            if cur is None or (r.fitness or -math.inf) > (cur.fitness or -math.inf):
                best_by_species[r.species] = r
        keep |= {r.id for r in best_by_species.values()}
        if self.best is not None:
            parents = {r.id: r.parents for r in standings}
            lineage: set[int] = set()
            stack = [self.best.id]
            while stack:
                i = stack.pop()
                if i not in lineage:
                    lineage.add(i)
                    stack.extend(parents.get(i, []))
            keep |= lineage
        return self.archive.apply_retention(keep)

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
            "best": None if best is None else self._summary(best),
            "data_version": self.data_version,
            "ratings": self.ratings.total,
            "teacher": self.teacher.status() if self.teacher is not None else None,
            "waiting": self.neighbour.reasons,
        }


def fit_seed(graph_json: str, task: DatasetTask) -> str:
    """A seed graph with its input/output nodes set to the task's signals (adapters in the
    graph absorb the difference); names must match."""
    graph = Graph.from_json(graph_json)
    if sorted(graph.input_names) != sorted(task.inputs) or sorted(graph.output_names) != sorted(
        task.outputs
    ):
        raise OpenBrainsError(
            f"the seed graph has inputs {sorted(graph.input_names)} and outputs "
            f"{sorted(graph.output_names)}, but task {task.name!r} gives inputs "
            f"{sorted(task.inputs)} and expects outputs {sorted(task.outputs)}"
        )
    graph = bind_io(graph, task.inputs, task.outputs)
    graph.causal = graph.causal or task.causal
    graph.validate()
    return graph.to_json().decode()


def pareto_front(records: list[Any]) -> set[int]:
    """Ids not dominated on (higher fitness, fewer parameters)."""
    front: set[int] = set()
    best_fit = -math.inf
    for r in sorted(records, key=lambda r: (r.params, -(r.fitness or -math.inf))):
        if (r.fitness or -math.inf) > best_fit:
            front.add(r.id)
            best_fit = r.fitness or -math.inf
    return front


def _base_steps(task: DatasetTask) -> int:
    """Rung-0 budget: about 20 epochs of a small data set, 100 to 400 steps.

    Ten epochs (224 steps on digits) was too short for conv nets to show their lead over
    MLPs and too short for promotions to reach long budgets within a minute; 400 lifted
    digits' 60 s champion from 0.960 to 0.968–0.977 test (docs/benchmarks.md).
    """
    if getattr(task, "kind", "") == "game":
        return int(task.train_steps)
    return int(max(100, min(400, 20 * len(task.train) // 32)))


def _task_label(task: dict[str, Any]) -> str:
    parts = [str(task.get("name"))]
    if task.get("data"):
        parts.append(str(task["data"]))
    return " ".join(parts)


def status_of(run_dir: Path) -> dict[str, Any]:
    """`openbrains status` without taking the run's lock (it may be running right now)."""
    archive = Archive(Path(run_dir), readonly=True)
    try:
        settings = archive.get_meta("settings") or {}
        best = archive.best()
        alive = archive.records(alive_only=True)
        out: dict[str, Any] = {
            "run_dir": str(run_dir),
            "task": settings.get("task", {}),
            "individuals": archive.count(),
            "elapsed_s": round(archive.elapsed(), 1),
            "population": len(alive),
            "species": len({r.species for r in alive}),
            "best": None,
        }
        if best is not None:
            metric = (archive.get_meta("task_info") or {}).get("metric", "?")
            out["best"] = {
                "id": best.id,
                "metric": metric,
                "score": best.val_metric,
                "test_score": best.test_metric,
                "params": best.params,
                "fitness": best.fitness,
                "origin": best.origin,
                "steps": best.steps,
            }
        references = archive.get_meta("references")  # game runs: the Elo yardstick
        if references:
            out["references"] = references
        # disk: retention keeps weights only where they matter, the rest keep their record
        out["archive_mb"] = round(archive.disk_bytes() / 1e6, 2)
        out["with_weights"] = archive.weights_count()
        if runlock.owner(Path(run_dir)) is not None:  # a search runs it now: is it waiting?
            out["waiting"] = (archive.last_event("neighbour") or {}).get("waiting") or []
        samples, ratings = archive.sample_counts(), archive.ratings_version()
        if samples:  # what people recorded (label → train/val counts) and how often they rated
            out["samples"] = samples
        if ratings:
            out["ratings"] = len(archive.ratings())
        if archive.has_table("teacher_answers"):  # what teachers answered (engine.teachers)
            from openbrains.engine.teachers.cache import AnswerCache

            out["teacher_answers"] = AnswerCache(archive).count()
        return out
    finally:
        archive.close()


def dumps(data: Any) -> str:
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
