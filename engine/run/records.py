"""The archive record of a finished candidate, built in one place from what the breeder
made (``Birth``) and what its worker returned (``Outcome``)."""

from __future__ import annotations

from dataclasses import replace

from openbrains.engine.jobs import Birth, JobResult, JobSpec, Outcome
from openbrains.engine.store import Record


def candidates(birth: Birth, spec: JobSpec) -> list[tuple[Birth, str]]:
    """Each individual a job yields, as its own birth and graph JSON: the job itself, or
    one per sibling (with its own genes, and a word on its learning rate)."""
    if not spec.siblings:
        return [(birth, spec.graph)]
    out = []
    k = len(spec.siblings)
    for i, sib in enumerate(spec.siblings):
        graph = spec.sibling_graph(i)
        lr = f" lr {sib.genes['lr']:.2g}" if "lr" in sib.genes else ""
        one = replace(birth, graph=graph, detail=f"{birth.detail}; sibling {i + 1}/{k}{lr}")
        out.append((one, graph.to_json().decode()))
    return out


def outcomes(spec: JobSpec, result: JobResult) -> list[Outcome]:
    """One outcome per candidate (a short answer is padded with failures, never guessed)."""
    have = list(result.outcomes[: spec.candidates])
    missing = Outcome(status="failed", error="the worker returned no outcome for it")
    return have + [missing] * (spec.candidates - len(have))


def record_from(
    birth: Birth,
    graph_json: str,
    outcome: Outcome,
    result: JobResult,
    *,
    metric: str,
    fitness: float | None,
    species: int,
    scored_version: int,
) -> Record:
    """What the archive keeps of one candidate (``id`` 0: the archive assigns it)."""
    done = outcome.done
    return Record(
        id=0,
        origin=birth.origin,
        parents=list(birth.parents),
        graph_json=graph_json,
        structure=birth.graph.structure_hash(),
        status=outcome.status,
        rung=birth.rung,
        steps=birth.prior_steps + outcome.steps,
        train_seconds=outcome.train_seconds,
        params=outcome.params,
        flops=outcome.flops,
        latency_ms=outcome.latency_ms,
        val_metric=outcome.val.get(metric) if done else None,
        test_metric=outcome.test.get(metric) if done else None,
        fitness=fitness,
        species=species,
        mutation=birth.mutation,
        detail=birth.detail or outcome.error,
        alive=done,
        curve=outcome.curve,
        trained_version=result.data_version,
        train_size=result.train_size,
        scored_version=scored_version,
    )
