"""The ``local`` backend (DESIGN §3.8): warm worker processes on this machine, spawned
once, torch imported once, one thread each, niced and duty-cycled. Jobs and results cross
the pipe as orjson headers plus safetensors blobs (``JobSpec.to_wire``), so nothing is
pickled. A worker that dies is reported (its job comes back failed) and replaced; workers
die with their coordinator (PR_SET_PDEATHSIG, plus a parent check between steps)."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

import orjson

from openbrains.engine.backends.base import BackendConfig
from openbrains.engine.jobs import JobResult, JobSpec, TaskRef
from openbrains.engine.trust import to_wire


def _send(conn: Connection, header: dict[str, Any], blobs: list[bytes]) -> None:
    conn.send_bytes(orjson.dumps({**header, "blobs": len(blobs)}))
    for blob in blobs:
        conn.send_bytes(blob)


def _recv(conn: Connection) -> tuple[dict[str, Any], list[bytes]]:
    header = orjson.loads(conn.recv_bytes())
    return header, [conn.recv_bytes() for _ in range(int(header.pop("blobs", 0)))]


def worker_main(
    conn: Connection,
    task: bytes,
    share: float | None,
    parent: int,
    grants: list[dict[str, str]] | None = None,
) -> None:
    """Entry point of a worker process: load the task once, then train what it is sent.
    ``grants``: the user code its coordinator was allowed to run (engine.trust)."""
    import signal

    from openbrains.engine.train.governor import die_with_parent, make_passive
    from openbrains.engine.trust import restore

    # Ctrl+C in a terminal reaches the whole process group: the coordinator stops the run
    # and then its workers; a worker of its own would only print a KeyboardInterrupt
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    if os.getppid() != parent:  # the coordinator died before we could ask to die with it
        os._exit(0)
    restore(grants or [])
    make_passive()
    from openbrains.engine.backends.worker import Worker

    worker = Worker(share)

    def on_step() -> None:
        worker.governor.tick()
        if os.getppid() != parent:
            os._exit(0)

    worker.on_step = on_step
    spec = orjson.loads(task)
    worker.warm(TaskRef(spec["spec"], spec["generation"]))
    _send(conn, {"type": "ready", "pid": os.getpid()}, [])
    while True:
        try:
            header, blobs = _recv(conn)
        except (EOFError, OSError):
            return
        if header.get("type") == "stop":
            return
        result = worker.train(JobSpec.from_wire(header, blobs))
        try:
            out, weights = result.to_wire()
            _send(conn, {"type": "result", **out}, weights)
        except (BrokenPipeError, OSError):
            return


@dataclass
class _Process:
    index: int
    process: Any
    conn: Connection
    job: JobSpec | None = None
    ready: bool = False
    started: float = field(default_factory=time.monotonic)


class LocalBackend:
    """N warm worker processes; each takes one job at a time."""

    def __init__(self, config: BackendConfig) -> None:
        self.ctx = mp.get_context("spawn")
        self.task = config.task
        self.share = config.cpu_share
        self.grants = config.grants if config.grants is not None else to_wire()
        self.workers: list[_Process] = [self._spawn(i) for i in range(max(1, config.workers))]

    def _spawn(self, index: int) -> _Process:
        parent_conn, child_conn = self.ctx.Pipe(duplex=True)
        task = orjson.dumps({"spec": self.task.spec, "generation": self.task.generation})
        proc = self.ctx.Process(
            target=worker_main,
            args=(child_conn, task, self.share, os.getpid(), self.grants),
            name=f"openbrains-worker-{index}",
            daemon=True,
        )
        proc.start()
        child_conn.close()
        return _Process(index, proc, parent_conn)

    @property
    def size(self) -> int:
        return len(self.workers)

    def _idle(self) -> list[_Process]:
        return [w for w in self.workers if w.ready and w.job is None]

    def free(self) -> int:
        return len(self._idle())

    def busy(self) -> int:
        return sum(1 for w in self.workers if w.job is not None)

    def submit(self, spec: JobSpec) -> None:
        idle = self._idle()
        if not idle:
            raise RuntimeError("submit with no free worker")
        worker = idle[0]
        worker.job = spec
        header, blobs = spec.to_wire()
        try:
            _send(worker.conn, {"type": "train", **header}, blobs)
        except OSError:
            pass  # it died: collect sees its sentinel and reports the job as failed

    def retask(self, task: TaskRef, local_task: Any = None) -> None:
        self.task = task  # workers started from now on warm up on the new data

    def collect(self, timeout: float) -> list[JobResult]:
        by_handle: dict[Any, _Process] = {}
        for w in self.workers:
            by_handle[w.conn] = w
            by_handle[w.process.sentinel] = w
        done: list[JobResult] = []
        for handle in wait(list(by_handle), timeout):
            w = by_handle[handle]
            if w not in self.workers:
                continue
            if handle is w.conn:
                try:
                    header, blobs = _recv(w.conn)
                except (EOFError, OSError):
                    done += self._replace(w)
                    continue
                if header.get("type") == "ready":
                    w.ready = True
                    continue
                job, w.job = w.job, None
                if job is not None:
                    done.append(JobResult.from_wire(header, blobs))
            elif not w.process.is_alive():
                done += self._replace(w)
        return done

    def _replace(self, w: _Process) -> list[JobResult]:
        code = w.process.exitcode
        w.process.join(timeout=1)
        w.conn.close()
        lost = []
        if w.job is not None:
            lost.append(
                JobResult.failed(
                    w.job,
                    f"worker process died (exit code {code}) while training this candidate",
                )
            )
        self.workers[self.workers.index(w)] = self._spawn(w.index)
        return lost

    def close(self, timeout: float = 3.0) -> None:
        for w in self.workers:
            try:
                _send(w.conn, {"type": "stop"}, [])
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
