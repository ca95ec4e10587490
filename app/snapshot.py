"""A read-only look at a project's run folder, so opening a project (or screenshotting it)
shows its population and plots before the engine is asked to resume anything.

Same summaries as the engine service's ``population`` and ``history`` replies; reads with
the archive's read-only connection, so a run still writing in another process is fine."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.store import DB_NAME, Archive, Record

LOWER_IS_BETTER = ("bpc", "loss", "mse")


@dataclass
class RunSnapshot:
    """What the population and plots docks show of a run that is not open in the engine."""

    metric: str = "score"
    higher_is_better: bool = True
    population: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    champion: int | None = None
    champion_curve: list[list[float]] = field(default_factory=list)


def higher_is_better(metric: str | None) -> bool:
    return (metric or "score") not in LOWER_IS_BETTER


def summary(rec: Record) -> dict[str, Any]:
    """An individual as the population and plots take it (the service's summary)."""
    return rec.summary()


def read_snapshot(run_dir: Path) -> RunSnapshot | None:
    """The run in ``run_dir``, or None when there is none (or it cannot be read)."""
    if not (Path(run_dir) / DB_NAME).exists():
        return None
    try:
        archive = Archive(Path(run_dir), readonly=True)
    except OpenBrainsError:
        return None
    try:
        metric = str((archive.get_meta("task_info") or {}).get("metric") or "score")
        records = archive.records()
        best = archive.best()
    finally:
        archive.close()
    champion = best.id if best is not None else None
    population = [
        {**summary(r), "graph": r.graph_json, "champion": r.id == champion}
        for r in records
        if r.alive
    ]
    return RunSnapshot(
        metric=metric,
        higher_is_better=higher_is_better(metric),
        population=population,
        history=[summary(r) for r in records],
        champion=champion,
        champion_curve=list(best.curve) if best is not None else [],
    )


def _open(run_dir: Path) -> Archive | None:
    if not (Path(run_dir) / DB_NAME).exists():
        return None
    try:
        return Archive(Path(run_dir), readonly=True)
    except OpenBrainsError:
        return None


def read_individual(run_dir: Path, ind: int) -> dict[str, Any] | None:
    """Individual ``ind`` as the engine's ``individual`` reply gives it (summary, graph,
    curve), read from the run folder: a reopened project's individuals open without a
    running search."""
    archive = _open(run_dir)
    if archive is None:
        return None
    try:
        rec = archive.get(int(ind))
        has_weights = archive.weights(rec.id) is not None
    except OpenBrainsError:
        return None
    finally:
        archive.close()
    return {
        **summary(rec),
        "ok": True,
        "graph": rec.graph_json,
        "curve": rec.curve,
        "has_weights": has_weights,
    }


SEED_ORIGINS = ("seed-mutation",)  # made from the project's seed; the archive keeps no parent


def read_lineage(run_dir: Path, ind: int, limit: int = 300) -> list[dict[str, Any]]:
    """``ind`` and its ancestors (summaries with graph JSON), nearest first, at most
    ``limit``. A mutant of the seed counts the run's seed individual as its parent."""
    archive = _open(run_dir)
    if archive is None:
        return []
    out: dict[int, dict[str, Any]] = {}
    try:
        row = archive.db.execute(  # the first seed individual, without reading every record
            "SELECT id FROM individuals WHERE origin='seed' ORDER BY id LIMIT 1"
        ).fetchone()
        seed = int(row[0]) if row else None
        todo = [int(ind)]
        while todo and len(out) < limit:
            i = todo.pop(0)
            if i in out:
                continue
            try:
                rec = archive.get(i)
            except OpenBrainsError:
                continue
            parents = list(rec.parents)
            if not parents and rec.origin in SEED_ORIGINS and seed is not None and seed != i:
                parents = [seed]
            out[i] = {**summary(rec), "parents": parents, "graph": rec.graph_json}
            todo += [int(p) for p in parents if int(p) not in out]
    finally:
        archive.close()
    return list(out.values())
