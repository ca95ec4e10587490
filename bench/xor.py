"""Search speed on XOR against neat-python, on neat-python's own example config.

Ten seeds each, same process, same machine. neat-python runs its XOR example (population
150, fitness 4 − Σ(out − target)², solved at > 3.9). Open Brains runs `--task xor` in
process (workers=0, the setting for tiny tasks) until its champion classifies all four
points, and its champion must then also pass neat's criterion (its class-1 probability
as the output). Times are wall-clock of the search; evals are candidates evaluated.

    .venv/bin/python bench/xor.py [--seeds 10] [--no-record]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.record import record
from openbrains.engine.compile import compile_graph
from openbrains.engine.graph import Graph
from openbrains.engine.run import Run, RunSettings
from openbrains.engine.weights import decode_weights

CONFIG = Path(__file__).with_name("data") / "neat_xor_config.ini"
XI = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]
XO = [0.0, 1.0, 1.0, 0.0]


def neat_run(seed: int) -> tuple[bool, float, int]:
    import neat

    evals = 0

    def eval_genomes(genomes, config) -> None:
        nonlocal evals
        for _gid, genome in genomes:
            evals += 1
            genome.fitness = 4.0
            net = neat.nn.FeedForwardNetwork.create(genome, config)
            for xi, xo in zip(XI, XO):
                genome.fitness -= (net.activate(xi)[0] - xo) ** 2

    config = neat.Config(
        neat.DefaultGenome,
        neat.DefaultReproduction,
        neat.DefaultSpeciesSet,
        neat.DefaultStagnation,
        str(CONFIG),
    )
    random.seed(seed)
    pop = neat.Population(config)
    t0 = time.perf_counter()
    winner = pop.run(eval_genomes, 300)
    return winner.fitness > config.fitness_threshold, time.perf_counter() - t0, evals


def neat_fitness_of(graph_json: str, weights: bytes) -> float:
    """neat's XOR fitness of our champion: 4 − Σ (P(class 1) − target)²."""
    brain = compile_graph(Graph.from_json(graph_json))
    brain.load_weights(decode_weights(weights))
    with torch.no_grad():
        p = torch.softmax(brain.eval()(torch.tensor(XI).unsqueeze(1))[:, -1], -1)[:, 1]
    return 4.0 - float(((p - torch.tensor(XO)) ** 2).sum())


def ours_run(seed: int, folder: Path, max_evals: int = 300) -> tuple[bool, float, int]:
    """Evolve one candidate at a time until the champion passes neat's own criterion."""
    run = Run(folder / f"xor-{seed}", RunSettings(task={"name": "xor"}, seed=seed, workers=0))
    t0 = time.perf_counter()
    try:
        while run.births < max_evals:
            run.run(max_individuals=run.births + 1)
            best = run.best
            weights = run.archive.weights(best.id) if best is not None else None
            if best and best.val_metric == 1.0 and neat_fitness_of(best.graph_json, weights) > 3.9:
                return True, time.perf_counter() - t0, run.births
        return False, time.perf_counter() - t0, run.births
    finally:
        run.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows, ours, peer = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        ours_run(10_000, Path(tmp))  # warm-up: first-call costs of torch, paid once per process
        neat_run(10_000)
        for seed in range(args.seeds):
            o = ours_run(seed, Path(tmp))
            p = neat_run(seed)
            ours.append(o)
            peer.append(p)
            rows.append(f"| {seed} | {o[0]} | {o[1]:.3f} | {o[2]} | {p[0]} | {p[1]:.3f} | {p[2]} |")
            print(rows[-1], flush=True)
    med = statistics.median
    time_ratio = med(o[1] for o in ours) / med(p[1] for p in peer)
    evals_ratio = med(o[2] for o in ours) / med(p[2] for p in peer)
    last = (
        f"solved={sum(o[0] for o in ours)}/{len(ours)} peer_solved={sum(p[0] for p in peer)}/{len(peer)} "
        f"time_ratio={time_ratio:.3f} evals_ratio={evals_ratio:.4f}"
    )
    table = "\n".join(
        [
            "| seed | ours solved | ours s | ours evals | neat solved | neat s | neat evals |",
            "|---:|---|---:|---:|---|---:|---:|",
            *rows,
        ]
    )
    print(last)
    if not args.no_record:
        body = (
            "Open Brains `--task xor` in process (workers=0) until the champion is right on all "
            "four points and passes neat's fitness > 3.9, vs neat-python on its XOR example "
            "config (population 150, up to 300 generations). Ratios are medians, ours/peer. "
            "Goal: all solved, time_ratio ≤ 1, evals_ratio ≤ 0.02.\n\n" + table
        )
        record("xor", "python bench/xor.py", body, last)


if __name__ == "__main__":
    main()
