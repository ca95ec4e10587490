"""Retention as an objective (``share``): a candidate whose score on any old task falls
more than ``TOLERANCE`` below the seed's is never champion. Pure, torch-free.

The score compared is the old task's validation metric where the run has the task's data,
else the agreement of its heads with the probe the seed file carried (the seed's own is 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TOLERANCE = 0.02  # "more than 2 % below the seed's", relative to the seed's score
PENALTY = 1_000.0  # what a candidate that forgot loses: below every one that did not
LOWER_IS_BETTER = ("bpc", "loss")


def old_score(scores: Mapping[str, Any]) -> float | None:
    """The number retention compares for one old task: ``val`` on data, else ``probe``."""
    value = scores.get("val")
    if value is None:
        value = scores.get("probe")
    return None if value is None else float(value)


def forgot(
    tasks: Mapping[str, Mapping[str, Any]], baseline: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """The old tasks on which a candidate fell more than the tolerance below the seed."""
    out = []
    for name, base in baseline.items():
        have, was = old_score(tasks.get(name, {})), old_score(base)
        if was is None:
            continue
        if have is None:
            out.append(name)
            continue
        lower = str(base.get("metric")) in LOWER_IS_BETTER
        if (have > was * (1 + TOLERANCE)) if lower else (have < was * (1 - TOLERANCE)):
            out.append(name)
    return out


def retention(
    tasks: Mapping[str, Mapping[str, Any]], baseline: Mapping[str, Mapping[str, Any]]
) -> dict[str, float]:
    """Per old task, the candidate's score over the seed's (1.0: all kept)."""
    out = {}
    for name, base in baseline.items():
        have, was = old_score(tasks.get(name, {})), old_score(base)
        if have is not None and was:
            out[name] = have / was
    return out


def baseline(old_tasks: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The seed's scores on its old tasks (name → metric), as retention compares them:
    its agreement with its own probe is 1 by definition."""
    return {name: {"probe": 1.0, "metric": metric} for name, metric in old_tasks.items()}


def kept_fitness(
    fitness: float | None,
    tasks: Mapping[str, Mapping[str, Any]],
    base: Mapping[str, Mapping[str, Any]],
) -> float | None:
    """``fitness``, less ``PENALTY`` when the candidate forgot an old task: it ranks below
    every candidate that kept them all, so it is never champion while one exists."""
    if fitness is None or not base or not forgot(tasks, base):
        return fitness
    return fitness - PENALTY
