"""Candidates per minute on digits with 1 and with 2 worker processes.

A search's own rate is a poor measure of the pool: with two workers the search takes a
different path (more promotions, bigger graphs), so its candidates cost more. So this
records the candidates (graph, weights, budget, seed, siblings) that a 1-worker search made
for ``--seconds``, then trains exactly that list through the real worker pool with 1 and
with 2 workers, timed from the moment every worker is ready to the last result:
``scaling`` is the ratio of those two rates. Beside it, in the same run:

- ``search_scaling``: the two searches' own rates (1 and 2 workers, same seed), for what a
  user sees, path differences included;
- ``peer_scaling``: a plain PyTorch training loop (no Open Brains code) in 1 and in 2
  processes, the machine's own ceiling.

With ``--backend ray`` it compares backends instead: the recorded candidates trained with 2
workers through the ``local`` backend and through the ``ray`` backend (a private local Ray
cluster of 2 CPUs), alternately, ``--rounds`` times each, on the same cores in the same run;
``ray_vs_local`` is the ratio of their mean rates (goal ≥ 0.85). The default ``--seconds``
is 60 and ``--rounds`` 3.

    .venv/bin/python bench/scaling.py [--seconds 60] [--no-record]
    .venv/bin/python bench/scaling.py --backend ray [--seconds 60] [--rounds 3] [--no-record]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import search
from bench.record import record
from openbrains.engine.backends import BackendConfig, open_backend
from openbrains.engine.jobs import JobSpec
from openbrains.engine.run import Run, RunSettings


def settings(workers: int) -> RunSettings:
    return RunSettings(task={"name": "digits"}, seed=1, workers=workers, max_params=5000)


def search_rate(workers: int, seconds: float, folder: Path, jobs: list[JobSpec] | None) -> float:
    """Candidates per minute of a real search, from its first to its last individual;
    ``jobs`` (if given) receives every job the search handed to its workers."""
    if jobs is not None:
        original = Run.next_job

        def recording(self: Run) -> JobSpec:
            job = original(self)
            # the replay trains every step: a time cap would stop jobs earlier under the
            # heavier load of two workers and flatter the 2-worker rate
            jobs.append(job.with_(seconds=None))
            return job

        Run.next_job = recording  # type: ignore[method-assign]
    try:
        timeline = search(folder / f"search{workers}", settings(workers), seconds)
    finally:
        if jobs is not None:
            Run.next_job = original  # type: ignore[method-assign]
    births = timeline.births
    if len(births) < 2:
        return 0.0
    return (len(births) - 1) / (births[-1] - births[0]) * 60


def replay_rate(workers: int, jobs: list[JobSpec], folder: Path, backend: str = "local") -> float:
    """Train ``jobs`` (all of them, in order) through a ``workers``-process ``backend``."""
    run = Run(folder / f"replay{workers}-{backend}-{time.monotonic_ns()}", settings(workers))
    pool = open_backend(backend, BackendConfig(workers, None, run.feedback.task_ref()))
    try:
        while pool.free() < workers:
            pool.collect(timeout=0.2)
        queue = list(jobs)
        done = 0
        start = time.monotonic()
        while queue or pool.busy():
            for _ in range(pool.free()):
                if queue:
                    pool.submit(queue.pop(0))
            for result in pool.collect(timeout=0.2):
                failed = [o.error for o in result.outcomes if o.status == "failed"]
                if failed:
                    raise RuntimeError(f"replayed job failed: {failed[0]}")
                done += len(result.outcomes)
        return done / (time.monotonic() - start) * 60
    finally:
        pool.close()
        run.close()


def _peer_worker(steps: int, out: Any) -> None:
    import torch
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 24, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(96, 10),
    )
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    x, y = torch.randn(32, 1, 8, 8), torch.randint(0, 10, (32,))

    def step() -> None:
        loss = nn.functional.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(50):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    out.put(time.perf_counter() - t0)


def peer_scaling(steps: int = 3000) -> float:
    """Training steps per second of a plain PyTorch loop in 2 processes over 1 process."""
    ctx = mp.get_context("spawn")
    rates = {}
    for k in (1, 2):
        out = ctx.Queue()
        procs = [ctx.Process(target=_peer_worker, args=(steps, out)) for _ in range(k)]
        for p in procs:
            p.start()
        times = [out.get() for _ in procs]
        for p in procs:
            p.join()
        rates[k] = k * steps / max(times)
    return rates[2] / rates[1]


def backends(seconds: float, rounds: int, no_record: bool) -> None:
    """``ray_vs_local``: the same candidates, 2 workers, local and Ray backends alternately."""
    jobs: list[JobSpec] = []
    rates: dict[str, list[float]] = {"local": [], "ray": []}
    load_before = os.getloadavg()[1]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        search_rate(1, seconds, folder, jobs)
        for i in range(rounds):  # local first, then ray first, …: drift in load cancels
            for name in sorted(rates, reverse=bool(i % 2)):
                rates[name].append(replay_rate(2, jobs, folder, name))
    local, ray = (sum(r) / len(r) for r in rates.values())
    count = sum(j.candidates for j in jobs)
    last = f"ray_vs_local={ray / local:.3f} per_min_local={local:.1f} per_min_ray={ray:.1f}"
    table = "\n".join(
        [
            "| backend (2 workers) | same candidates, / min, each round | mean |",
            "|---|---:|---:|",
            *(
                f"| {name} | {', '.join(f'{x:.1f}' for x in r)} | {sum(r) / len(r):.1f} |"
                for name, r in rates.items()
            ),
        ]
    )
    print(table)
    print(last)
    if not no_record:
        body = (
            f"Digits, `--max-params 5000`, seed 1. The same {count} candidates ({len(jobs)} "
            f"jobs, recorded from a {seconds:g} s one-worker search) trained with 2 workers "
            "through the `local` backend (worker processes) and the `ray` backend (Ray tasks "
            "on a private local Ray cluster of 2 CPUs, started before the clock runs), "
            f"alternately (each round's first backend alternating), {rounds} rounds each, timed from all workers warm to the last "
            "result. 5-minute load average (`uptime`, the bench's own 2 workers count about "
            f"2) {load_before:.1f} before, {os.getloadavg()[1]:.1f} after; above 2.5 other "
            "work shared the machine and single rounds are noisy. Goal: ray_vs_local ≥ 0.85."
            "\n\n" + table
        )
        record("scaling-ray", "python bench/scaling.py --backend ray", body, last)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--backend", choices=("local", "ray"), default="local")
    ap.add_argument("--rounds", type=int, default=3, help="--backend ray: replays of each")
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    if args.backend == "ray":
        backends(args.seconds, args.rounds, args.no_record)
        return
    jobs: list[JobSpec] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        search1 = search_rate(1, args.seconds, folder, jobs)
        search2 = search_rate(2, args.seconds, folder, None)
        one = replay_rate(1, jobs, folder)
        two = replay_rate(2, jobs, folder)
    peer = peer_scaling()
    count = sum(j.candidates for j in jobs)
    last = (
        f"scaling={two / one:.3f} per_min_1={one:.1f} per_min_2={two:.1f} "
        f"search_scaling={search2 / search1:.3f} peer_scaling={peer:.3f}"
    )
    table = "\n".join(
        [
            "| workers | same candidates, / min | own search, / min |",
            "|---:|---:|---:|",
            f"| 1 | {one:.1f} | {search1:.1f} |",
            f"| 2 | {two:.1f} | {search2:.1f} |",
        ]
    )
    print(table)
    print(last)
    if not args.no_record:
        body = (
            f"Digits, `--max-params 5000`, seed 1. The same {count} candidates ({len(jobs)} "
            f"jobs, recorded from a {args.seconds:g} s one-worker search) trained through the "
            "worker pool with 1 and 2 workers, timed from all workers ready to the last "
            "result; beside them each search's own rate from its first to its last "
            "individual (a 2-worker search takes a different path, so its candidates "
            "differ), and a plain PyTorch loop in 1 and 2 processes (`peer_scaling`, the "
            "machine's ceiling). Goal: scaling ≥ 1.7.\n\n" + table
        )
        record("scaling", "python bench/scaling.py", body, last)


if __name__ == "__main__":
    main()
