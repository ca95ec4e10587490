"""A brain from outside the run (the exchange, a friend's file) crossed with the run's
champion: the window's "Breed with champion".

The outside brain must read the run task's inputs and write its outputs (the check a seed
passes, ``breeder.fit_seed``). Genes line up by global id as in ``engine.breed``: the
champion's nodes get the gids an export of this run gives them, so a brain that came from
this run (or from one of its exports' descendants) shares genes with it. Both are measured
on the run's validation split, NEAT crossover makes the child, and the child joins the
search as the next birth; its parents in the archive are the champion, and its graph
records both parents by content id, so an export of it names the outside brain too.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openbrains.engine.breed import align_by_gid, cross_aligned
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.format.identity import content_id, short
from openbrains.engine.gids import stamp_gids, structure_key
from openbrains.engine.graph import Graph
from openbrains.engine.jobs import Birth
from openbrains.engine.lineage import Parent, child_lineage
from openbrains.engine.run.breeder import fit_seed
from openbrains.engine.store import Archive
from openbrains.engine.weights import decode_weights, encode_weights

Tensors = dict[str, Any]


@dataclass(frozen=True)
class Crossing:
    """The birth to train next, and what the window tells the user about it."""

    birth: Birth
    champion: int
    matched_nodes: int
    detail: str


def cross_with_champion(
    run: Any,
    archive: Archive,
    graph: Graph,
    weights: Tensors,
    name: str,
    champion: int | None = None,
    seed: int = 0,
) -> Crossing:
    """Cross ``graph`` (with ``weights``) with the run's champion (``champion``, or the
    archive's best). ``run`` measures (``Run.validate``) and gives the task; ``archive`` is
    a reader of the run's archive on the caller's thread. One-line ``OpenBrainsError``s."""
    task = run.task
    if getattr(task, "kind", "") == "game" or not hasattr(task, "val"):
        raise OpenBrainsError(
            f"task {task.name!r} has no validation split to measure both parents on (a game "
            "rates its players in the arena): use the brain as the seed instead"
        )
    if not weights:
        raise OpenBrainsError(f"{name} holds no weights: only a trained brain can be bred")
    outside = Graph.from_json(fit_seed(graph.to_json().decode(), task))  # one-line refusal
    rec = archive.get(int(champion)) if champion is not None else archive.best()
    if rec is None:
        raise OpenBrainsError("the run has no champion yet: wait for its first individual")
    data = archive.weights(rec.id)
    if data is None:
        raise OpenBrainsError(f"the champion #{rec.id} has no stored weights to breed with")
    mine, wa = Graph.from_json(rec.graph_json), decode_weights(data)
    parents = [
        (Parent(content_id(mine, wa), "crossover"), {}, list(mine.tasks)),
        (Parent(content_id(graph, weights), "crossover"), graph.lineage, list(graph.tasks)),
    ]
    from openbrains.engine.export import run_key

    ga = mine.copy()
    stamp_gids(ga, run_key(archive, Path(run.run_dir)))  # as an export of this run names them
    stamp_gids(outside, structure_key(graph))
    gb, wb, matched, _edges = align_by_gid(ga, outside, dict(weights))
    fa = _fitness(run, ga, wa)
    fb = _fitness(run, gb, wb)
    child, start, how = cross_aligned(ga, wa, fa, gb, wb, fb, seed)
    # a member of this run: the run's task records and codecs (the champion's), not the
    # outside brain's, whose records name its own (possibly renamed) nodes
    child.tasks, child.codecs = copy.deepcopy(mine.tasks), copy.deepcopy(mine.codecs)
    child.scores = copy.deepcopy(mine.scores)
    detail = f"bred with {name} ({short(parents[1][0].id)}), {matched} genes shared: {how}"
    birth = Birth(
        child,
        encode_weights(start),
        origin="crossover",
        parents=(rec.id,),
        mutation="crossover with a shared brain",
        detail=detail,
        lineage=child_lineage(parents),
    )
    return Crossing(birth, rec.id, matched, detail)


def _fitness(run: Any, graph: Graph, weights: Tensors) -> float | None:
    """The task's fitness of a brain on the run's validation split (None: it cannot run)."""
    val = run.validate(graph.to_json().decode(), encode_weights(weights))
    metric = None if val is None else val.get(run.task.metric)
    return None if metric is None else float(run.task.fitness(metric))
