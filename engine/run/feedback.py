"""What people add while a run goes on (docs/decisions.md, "Recording and ratings"): new
recorded samples and the growth of a streamed file change the data (the task is rebuilt,
the workers get the new ``TaskRef``, the living are rescored on the refreshed validation
split), and new ratings change fitness (the living are refitted)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openbrains.engine.compile import compile_graph
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.graph import Graph
from openbrains.engine.jobs import TaskRef
from openbrains.engine.recorded import task_spec, with_samples
from openbrains.engine.weights import decode_weights

if TYPE_CHECKING:
    from openbrains.engine.backends import Backend
    from openbrains.engine.run.loop import Run

FEEDBACK_POLL_S = 1.0  # how often the loop looks for new recordings and ratings


class Feedback:
    """The run's data as people grow it: the base task, the recordings in it so far."""

    def __init__(self, run: Run, base_task: Any, plan: dict[str, Any]) -> None:
        self.run = run
        self.base_task = base_task  # without recordings; with_samples adds them per version
        self.task = base_task
        self.plan = plan
        self.data_version = 0
        self.generation = 0  # moves on every change of the data, streams included
        self._failed_version = 0

    def task_ref(self) -> TaskRef:
        """What workers load: the run's task plus its recordings up to this version."""
        spec = task_spec(self.run.settings.task, self.run.run_dir, self.data_version)
        return TaskRef({**spec, **self.run.teaching.spec_extra()}, self.generation)

    def load_samples(self, version: int) -> bool:
        """Make ``task`` the base task plus the recordings up to ``version``."""
        if not self.plan.get("ok") or version <= self.data_version:
            return False
        archive = self.run.archive
        try:
            task = with_samples(self.base_task, archive.samples(version), version)
        except Exception as exc:  # a bad recording must not stop the run: keep the old data
            self._failed_version = version
            archive.log_event("error", {"message": f"recorded samples unusable: {exc}"})
            self.run.on_event("error", {"message": f"recorded samples could not be used: {exc}"})
            return False
        self.task, self.data_version = task, version
        self.generation += 1
        return True

    def grow_stream(self) -> bool:
        """A task whose own data grows (a followed log: ``refresh()``) read what was added."""
        refresh = getattr(self.base_task, "refresh", None)
        if not callable(refresh):
            return False
        try:
            if not refresh():
                return False
        except OpenBrainsError as exc:  # the file went away for a moment: keep the data
            self.run.on_event("error", {"message": str(exc)})
            return False
        archive = self.run.archive
        self.task = (
            with_samples(self.base_task, archive.samples(self.data_version), self.data_version)
            if self.data_version
            else self.base_task
        )
        self.generation += 1
        return True

    def poll(self, backend: Backend | None = None) -> None:
        """Between births: take in new recordings, or what a streamed task's file gained
        (rebuild the data, hand it to the backend, rescore the living on the refreshed
        validation split), a distilling teacher's soft targets (engine.run.teaching), and
        new ratings (refit)."""
        run, archive = self.run, self.run.archive
        version = archive.samples_version()
        grown = self.grow_stream()
        recorded = version > max(self.data_version, self._failed_version) and self.load_samples(
            version
        )
        taught = run.teaching.fresh()
        if grown or recorded or taught:
            self.task = run.teaching.teach(self.task)
            if not (grown or recorded):
                self.generation += 1  # same examples, new soft targets: workers reload
            run.task = self.task
            if backend is not None:
                backend.retask(self.task_ref(), self.task)
        if grown or recorded:
            self.rescore()
            info = {
                "version": self.data_version,
                "stream": grown,
                "train": len(self.task.train),
                "val": len(self.task.val),
                "recorded": self.task.settings.get("recorded", {}),
                "samples": archive.sample_counts(),
            }
            archive.log_event("data", info)
            run.on_event("data", info)
        if run.ratings.refresh(archive):
            if run.settings.rating_weight > 0:
                self.refit()
            run.on_event("ratings", {"count": run.ratings.total, "mean": run.ratings.mean})

    def validate(self, graph_json: str, weights: bytes) -> dict[str, float] | None:
        """A trained member measured on the current validation split."""
        from openbrains.engine.train.trainer import evaluate

        try:
            brain = compile_graph(Graph.from_json(graph_json), seed=0)
            brain.load_weights(decode_weights(weights))
            return evaluate(brain, self.task, self.task.val)
        except (OpenBrainsError, RuntimeError, ValueError):
            return None

    def rescore(self) -> None:
        """Scores stay comparable: every living member is measured again on the refreshed
        validation data, so selection never weighs an old score against a new one."""
        run = self.run
        changes = []
        for m in run.members:
            val = self.validate(m.record.graph_json, m.weights)
            if val is None:
                continue
            rec = m.record
            rec.val_metric = val.get(self.task.metric)
            rec.fitness = run.scorer.refit(rec, val.get("loss"))
            rec.scored_version = self.data_version
            changes.append((rec.id, val, rec.val_metric, rec.fitness, self.data_version))
        if changes:
            run.archive.rescore(changes)
        run.best = run.archive.best()

    def refit(self) -> None:
        """Fitness of the living again, after ratings or their weight changed."""
        run = self.run
        changes = []
        for m in run.members:
            rec = m.record
            loss = (run.archive.scores(rec.id).get("val") or {}).get("loss")
            rec.fitness = run.scorer.refit(rec, loss)
            changes.append((rec.id, rec.fitness))
        if changes:
            run.archive.set_fitness(changes)
        run.best = run.archive.best()
