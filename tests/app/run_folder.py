"""A small run folder written through the real archive (SQLite, the engine's own ``Archive``)
with a known family: a seed, mutants of it, a line of mutations, a crossover and a
promotion. Graphs come from the engine's generator and mutation operators, so they are
real graphs; no training happens (scores are given), which keeps the window tests fast."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from openbrains.engine.evolve.mutate import mutate
from openbrains.engine.evolve.random import SizeBounds, random_graph
from openbrains.engine.graph import Graph
from openbrains.engine.store import Archive, Record
from openbrains.engine.tasks.builtin import xor_task


@dataclass
class Family:
    seed: int
    champion: int
    line: list[int]  # the champion's ancestry, champion first, back to the seed
    crossover: int
    graphs: dict[int, Graph]


def make_run(run_dir: Path, seed: int = 3) -> Family:
    task = xor_task()
    rng = random.Random(seed)
    bounds = SizeBounds(max_nodes=8, max_width=16)
    archive = Archive(run_dir)
    archive.set_meta("task_info", {"name": "xor", "metric": "accuracy"})
    graphs: dict[int, Graph] = {}

    def add(graph: Graph, origin: str, parents: list[int], detail: str, score: float) -> int:
        rec = Record(
            id=0,
            origin=origin,
            parents=parents,
            graph_json=graph.to_json().decode(),
            structure=graph.structure_hash(),
            status="done",
            params=10 * len(graph.nodes),
            val_metric=score,
            test_metric=score,
            fitness=score,
            mutation=origin,
            detail=detail,
            curve=[[0, 1.0], [10, 0.5]],
        )
        ind = archive.add(rec, None, {"val": {"accuracy": score}})
        graphs[ind] = graph
        return ind

    g0 = random_graph(rng, task.inputs, task.outputs, bounds)
    first = add(g0, "seed", [], "", 0.5)
    m = mutate(g0, {}, rng, bounds)
    second = add(m.graph, "seed-mutation", [], m.detail, 0.55)  # the archive keeps no parent
    line = [second]
    score = 0.6
    for _ in range(3):
        m = mutate(graphs[line[-1]], {}, rng, bounds)
        line.append(add(m.graph, "mutation", [line[-1]], m.detail, score))
        score += 0.1
    other = add(random_graph(rng, task.inputs, task.outputs, bounds), "random", [], "", 0.4)
    cross = add(graphs[line[-1]].copy(), "crossover", [line[-1], other], "crossover", 0.95)
    champion = add(graphs[cross].copy(), "promotion", [cross], "trains 100 more steps", 1.0)
    archive.close()
    return Family(
        seed=first,
        champion=champion,
        line=[champion, cross, *reversed(line), first],
        crossover=cross,
        graphs=graphs,
    )
