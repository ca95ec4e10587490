"""The ``ray`` backend on a real local Ray cluster (2 worker processes, shared by this
module's tests and shut down after them): a digits search survives a Ray worker killed
mid-job and leaves a sound archive; a job lost twice is recorded as failed; the user's
code grants reach the Ray workers, and nothing else does."""

from __future__ import annotations

import math
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from openbrains.engine import trust
from openbrains.engine.backends import Backend, BackendConfig, open_backend
from openbrains.engine.backends.ray_backend import RayBackend
from openbrains.engine.backends.ray_cluster import Session, connect
from openbrains.engine.evolve.random import SizeBounds
from openbrains.engine.evolve.templates import template_graph
from openbrains.engine.jobs import JobResult, JobSpec, TaskRef
from openbrains.engine.run import Run, RunSettings
from openbrains.engine.tasks.registry import load_task

pytest.importorskip("ray", reason="the [ray] extra (scripts/setup.sh installs it)")
# one Ray cluster at a time: tests that start one run in the same pytest-xdist worker
pytestmark = pytest.mark.xdist_group("ray")

XOR = TaskRef({"name": "xor"})
TRAINING = "ray::train_remote"  # a Ray worker's process title while it runs our task
RESENT_AFTER_S = 20.0  # a kill the backend has not heard of by then was a lease Ray resent


@pytest.fixture(scope="module")
def cluster() -> Iterator[Session]:
    """One local Ray cluster of 2 CPUs for the module (starting one costs ~10 s); every
    Ray process it started is gone after it."""
    before = set(ray_children())
    session = connect(None, workers=2)
    try:
        yield session
    finally:
        started = [p for p in ray_children() if p not in before]
        session.close()
        _gone, alive = psutil.wait_procs(started, timeout=30)
        assert not alive, f"Ray left processes behind: {[p.cmdline()[:3] for p in alive]}"


def ray_children() -> list[psutil.Process]:
    """Processes under this one that mention Ray by name or command line (other children,
    such as a multiprocessing helper an earlier test in this process left, are not Ray's)."""
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            if "ray" in f"{p.name()} {' '.join(p.cmdline())}".lower():
                out.append(p)
        except psutil.Error:
            continue
    return out


def training_workers() -> list[psutil.Process]:
    """This cluster's Ray worker processes busy with a job now."""
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            if " ".join(p.cmdline()).startswith(TRAINING):
                out.append(p)
        except psutil.Error:
            continue
    return out


def kill_one_training(timeout: float = 60.0) -> int:
    """SIGKILL one Ray worker that is training; its pid."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = training_workers()
        if busy:
            busy[0].kill()
            return busy[0].pid
        time.sleep(0.05)
    raise AssertionError("no Ray worker was training")


def kill_until(
    backend: Backend, done: Callable[[list[JobResult]], bool], timeout: float = 240.0
) -> list[JobResult]:
    """Kill the worker training the job until ``done(results so far)``. A worker killed
    before the job fully reached it is a failed lease, which Ray resends by itself (the
    backend never hears of it): the resent job is killed again after a while."""
    got: list[JobResult] = []
    deadline = time.monotonic() + timeout
    killed_at = -math.inf
    while not done(got):
        assert time.monotonic() < deadline, f"no loss reached the backend in {timeout} s"
        if time.monotonic() - killed_at > RESENT_AFTER_S and training_workers():
            kill_one_training()
            killed_at = time.monotonic()
        got += backend.collect(timeout=0.2)
    return got


def job(i: int, task: TaskRef, steps: int) -> JobSpec:
    t = load_task(**task.spec)
    graph = template_graph(random.Random(i), t.inputs, t.outputs, SizeBounds())
    return JobSpec(i, task, graph.to_json().decode(), seed=i, steps=steps)


def results(backend: Backend, n: int, timeout: float = 180.0) -> list[JobResult]:
    out: list[JobResult] = []
    deadline = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        out += backend.collect(timeout=0.2)
    assert len(out) == n, f"{len(out)} of {n} results in {timeout} s"
    return out


def ready(backend: Backend, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while backend.free() == 0 and time.monotonic() < deadline:
        assert backend.collect(timeout=0.2) == []
    assert backend.free() > 0


class KillingRun(Run):
    """A run whose test kills a training Ray worker after its second individual, until a
    job has been sent again (a kill can land just as a job finishes: then try once more)."""

    backend_name = "ray"
    backend: RayBackend
    kills = 0

    def open_backend(self) -> Backend:
        self.backend = super().open_backend()  # type: ignore[assignment]
        return self.backend

    def _absorb_one(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        rec = super()._absorb_one(*args, **kwargs)
        if self.births >= 2 and self.backend.retried == 0 and self.kills < 3 and training_workers():
            kill_one_training()
            self.kills += 1
        return rec


def test_a_digits_search_survives_a_killed_ray_worker(cluster: Session, tmp_path: Path) -> None:
    settings = RunSettings(
        task={"name": "digits"}, seed=3, workers=2, max_params=3000, budget_steps=300
    )
    run = KillingRun(tmp_path / "run", settings)
    try:
        run.run(max_individuals=8)
        assert run.kills >= 1 and run.backend.retried >= 1, "no job was lost and sent again"
        count = run.archive.count()
    finally:
        run.close()
    assert count >= 8
    db = sqlite3.connect(f"file:{tmp_path / 'run' / 'run.sqlite'}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        statuses = [s for (s,) in db.execute("SELECT status FROM individuals")]
    finally:
        db.close()
    assert len(statuses) == count
    assert "failed" not in statuses, "the lost job was retried, not recorded as failed"
    assert cluster.ray.is_initialized()  # the run used the cluster it found and left it up


def test_a_job_lost_twice_is_recorded_failed_and_the_backend_goes_on(cluster: Session) -> None:
    backend = open_backend("ray", BackendConfig(workers=2, cpu_share=None, task=XOR))
    try:
        ready(backend)
        backend.submit(job(1, XOR, steps=10**7))  # long enough to be killed while training
        # the job goes out again, to a live worker
        assert kill_until(backend, lambda got: backend.retried > 0) == []
        (lost,) = kill_until(backend, lambda got: len(got) > 0)
        assert lost.job == 1 and lost.outcomes[0].status == "failed"
        assert "Ray worker was lost 2 times" in lost.outcomes[0].error
        backend.submit(job(2, XOR, steps=20))
        (fine,) = results(backend, 1)
        assert fine.job == 2 and fine.outcomes[0].status == "done", fine.outcomes[0].error
    finally:
        backend.close()


MAZE = """from openbrains.nodes.games.maze import Maze as Base


class Maze(Base):
    \"\"\"The user's own environment (a maze, as the built-in one).\"\"\"
"""


def test_code_grants_travel_to_ray_workers(cluster: Session, tmp_path: Path) -> None:
    (tmp_path / "my_ray_maze.py").write_text(MAZE)
    entry = "my_ray_maze:Maze"
    trust.revoke_all()
    try:
        trust.user_gave(entry, "a test", tmp_path)
        task = TaskRef({"name": entry, "size": 4})
        spec = job(1, task, steps=5)
        for grants, status in (([], "failed"), (trust.to_wire(), "done")):
            config = BackendConfig(workers=1, cpu_share=None, task=task, grants=grants)
            backend = open_backend("ray", config)
            try:
                ready(backend)
                backend.submit(spec)
                (result,) = results(backend, 1)
            finally:
                backend.close()
            outcome = result.outcomes[0]
            assert outcome.status == status, outcome.error
            if status == "failed":
                assert "never runs" in outcome.error  # named, not given: not imported
    finally:
        trust.revoke_all()
