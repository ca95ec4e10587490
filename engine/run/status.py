"""`openbrains status`: a run folder read without taking the run's lock (it may be running
right now). Torch-free."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from openbrains.engine import runlock
from openbrains.engine.refits import RefitStore
from openbrains.engine.run.continued import TASK_SPLIT
from openbrains.engine.store import Archive


def status_of(run_dir: Path) -> dict[str, Any]:
    """What a run folder holds: task, counts, elapsed time, species and the champion."""
    archive = Archive(Path(run_dir), readonly=True)
    try:
        settings = archive.get_meta("settings") or {}
        best = archive.best()
        alive = archive.records(alive_only=True)
        out: dict[str, Any] = {
            "run_dir": str(run_dir),
            "task": settings.get("task", {}),
            "individuals": archive.count(),
            "elapsed_s": round(archive.elapsed(), 1),
            "population": len(alive),
            "species": len({r.species for r in alive}),
            "best": None,
        }
        if settings.get("device_budget"):
            out["device_budget"] = settings["device_budget"]
        if best is not None:
            metric = (archive.get_meta("task_info") or {}).get("metric", "?")
            out["best"] = {
                "id": best.id,
                "metric": metric,
                "score": best.val_metric,
                "test_score": best.test_metric,
                "params": best.params,
                "fitness": best.fitness,
                "origin": best.origin,
                "steps": best.steps,
            }
            refit = RefitStore(archive).get(best.id)
            if refit is not None:  # what an export of it writes (engine.refits)
                out["best"]["refit"] = refit.summary()
            if settings.get("keep"):  # a continued run: every old task's score too
                out["keep"] = settings["keep"]
                out["best"]["tasks"] = {
                    split[len(TASK_SPLIT) :]: values
                    for split, values in archive.scores(best.id).items()
                    if split.startswith(TASK_SPLIT)
                }
        references = archive.get_meta("references")  # game runs: the Elo yardstick
        if references:
            out["references"] = references
        # disk: retention keeps weights only where they matter, the rest keep their record
        out["archive_mb"] = round(archive.disk_bytes() / 1e6, 2)
        out["with_weights"] = archive.weights_count()
        if runlock.owner(Path(run_dir)) is not None:  # a search runs it now: is it waiting?
            out["waiting"] = (archive.last_event("neighbour") or {}).get("waiting") or []
        samples, ratings = archive.sample_counts(), archive.ratings_version()
        if samples:  # what people recorded (label → train/val counts) and how often they rated
            out["samples"] = samples
        if ratings:
            out["ratings"] = len(archive.ratings())
        if archive.has_table("teacher_answers"):  # what teachers answered (engine.teachers)
            from openbrains.engine.teachers.cache import AnswerCache

            out["teacher_answers"] = AnswerCache(archive).count()
        return out
    finally:
        archive.close()


def dumps(data: Any) -> str:
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
