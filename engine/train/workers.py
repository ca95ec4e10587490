"""Warm worker processes (DESIGN §3.8): spawned once, torch imported once, one thread each,
niced and duty-cycled. Messages are orjson headers plus safetensors bytes over a pipe, so
nothing is pickled. A worker that dies is reported and replaced; workers die with their
coordinator (PR_SET_PDEATHSIG, plus a parent check between steps)."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

import orjson
from openbrains.engine.train.governor import DutyCycle, die_with_parent, make_passive
from openbrains.engine.trust import to_wire

TaskLoader = Callable[[dict[str, Any]], Any]


def _load_task(spec: dict[str, Any]) -> Any:
    """The run's task, with the recorded samples its spec names (engine.recorded)."""
    from openbrains.engine.recorded import load_task_with_samples

    return load_task_with_samples(spec)


def worker_main(
    conn: Connection,
    task_spec_json: bytes,
    share: float | None,
    parent: int,
    grants: list[dict[str, str]] | None = None,
) -> None:
    """Entry point of a worker process: load the task once, then train what it is sent.
    ``grants``: the user code its coordinator was allowed to run (engine.trust)."""
    die_with_parent()
    if os.getppid() != parent:  # the coordinator died before we could ask to die with it
        os._exit(0)
    from openbrains.engine.trust import restore

    restore(grants or [])
    make_passive()
    from openbrains.engine.train.job import run_job

    governor = DutyCycle(share)

    def on_step() -> None:
        governor.tick()
        if os.getppid() != parent:
            os._exit(0)

    task = _load_task(orjson.loads(task_spec_json))
    conn.send_bytes(orjson.dumps({"type": "ready", "pid": os.getpid()}))
    while True:
        try:
            header = orjson.loads(conn.recv_bytes())
            if header.get("type") == "stop":
                return
            weights = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if header.get("type") == "data":
            try:
                task = _load_task(header["task"])
            except Exception:  # keep training on the data we have rather than die over it
                pass
            continue
        governor.idle()
        result, out = run_job(header, weights, task, on_step)
        try:
            conn.send_bytes(orjson.dumps(result))
            conn.send_bytes(out)
        except (BrokenPipeError, OSError):
            return


@dataclass
class Worker:
    index: int
    process: Any
    conn: Connection
    job: dict[str, Any] | None = None
    ready: bool = False
    started: float = field(default_factory=time.monotonic)


@dataclass
class Finished:
    """A job's outcome: the worker's result header and weights, or a failure if it died."""

    job: dict[str, Any]
    result: dict[str, Any]
    weights: bytes


class WorkerPool:
    """N warm worker processes; submit jobs to idle ones, collect what finishes."""

    def __init__(self, n: int, task_spec: dict[str, Any], cpu_share: float | None) -> None:
        self.ctx = mp.get_context("spawn")
        self.task_spec = orjson.dumps(task_spec)
        self.share = cpu_share
        self.workers: list[Worker] = [self._spawn(i) for i in range(n)]

    def _spawn(self, index: int) -> Worker:
        parent_conn, child_conn = self.ctx.Pipe(duplex=True)
        proc = self.ctx.Process(
            target=worker_main,
            args=(child_conn, self.task_spec, self.share, os.getpid(), to_wire()),
            name=f"openbrains-worker-{index}",
            daemon=True,
        )
        proc.start()
        child_conn.close()
        return Worker(index, proc, parent_conn)

    @property
    def size(self) -> int:
        return len(self.workers)

    def idle(self) -> list[Worker]:
        return [w for w in self.workers if w.ready and w.job is None]

    def busy(self) -> int:
        return sum(1 for w in self.workers if w.job is not None)

    def submit(self, worker: Worker, job: dict[str, Any], weights: bytes) -> None:
        worker.job = job
        worker.conn.send_bytes(orjson.dumps({"type": "train", **job}))
        worker.conn.send_bytes(weights)

    def reload_task(self, task_spec: dict[str, Any], task: Any = None) -> None:
        """Workers re-read the task between jobs (new recorded samples, refreshed data); a
        worker that is training finishes its job on the old data first (pipes are ordered)."""
        self.task_spec = orjson.dumps(task_spec)
        for w in self.workers:
            try:
                w.conn.send_bytes(orjson.dumps({"type": "data", "task": task_spec}))
                w.conn.send_bytes(b"")
            except OSError:
                pass

    def collect(self, timeout: float) -> list[Finished]:
        """Wait up to ``timeout`` s; return finished jobs (a dead worker's job fails)."""
        by_handle: dict[Any, Worker] = {}
        for w in self.workers:
            by_handle[w.conn] = w
            by_handle[w.process.sentinel] = w
        done: list[Finished] = []
        for handle in wait(list(by_handle), timeout):
            w = by_handle[handle]
            if w not in self.workers:
                continue
            if handle is w.conn:
                try:
                    header = orjson.loads(w.conn.recv_bytes())
                    if header.get("type") == "ready":
                        w.ready = True
                        continue
                    weights = w.conn.recv_bytes()
                except (EOFError, OSError):
                    done += self._replace(w)
                    continue
                job, w.job = w.job, None
                if job is not None:
                    done.append(Finished(job, header, weights))
            elif not w.process.is_alive():
                done += self._replace(w)
        return done

    def _replace(self, w: Worker) -> list[Finished]:
        code = w.process.exitcode
        w.process.join(timeout=1)
        w.conn.close()
        lost = []
        if w.job is not None:
            lost.append(
                Finished(
                    w.job,
                    {
                        "job": w.job["job"],
                        "status": "failed",
                        "error": f"worker process died (exit code {code}) while training this candidate",
                    },
                    b"",
                )
            )
        self.workers[self.workers.index(w)] = self._spawn(w.index)
        return lost

    def close(self, timeout: float = 3.0) -> None:
        for w in self.workers:
            try:
                w.conn.send_bytes(orjson.dumps({"type": "stop"}))
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        for w in self.workers:
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(1)
            w.conn.close()
        self.workers = []


class InlinePool:
    """workers=0: train in the coordinating process (tiny tasks, where a round trip costs
    more than the training)."""

    def __init__(self, task: Any, cpu_share: float | None) -> None:
        self.task = task
        self.governor = DutyCycle(cpu_share)
        self._pending: list[tuple[dict[str, Any], bytes]] = []
        self.workers = [None]

    @property
    def size(self) -> int:
        return 1

    def idle(self) -> list[Any]:
        return [] if self._pending else [None]

    def busy(self) -> int:
        return len(self._pending)

    def submit(self, worker: Any, job: dict[str, Any], weights: bytes) -> None:
        self._pending.append((job, weights))

    def reload_task(self, task_spec: dict[str, Any], task: Any = None) -> None:
        self.task = task if task is not None else _load_task(task_spec)

    def collect(self, timeout: float) -> list[Finished]:
        from openbrains.engine.train.job import run_job

        if not self._pending:
            time.sleep(timeout)  # nothing to do (paused): do not spin
        done = []
        while self._pending:
            job, weights = self._pending.pop(0)
            result, out = run_job(job, weights, self.task, self.governor.tick)
            done.append(Finished(job, result, out))
        return done

    def close(self, timeout: float = 0.0) -> None:
        self._pending.clear()
