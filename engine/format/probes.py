"""The probes of a multi-task graph (``probes.safetensors``): per task, a few hundred of its
inputs and the brain's own outputs on them, so a receiver without the task's data can keep
the skill (distillation to the probe) and measure it.

Keys are ``<task>/in/<port>`` and ``<task>/out/<port>``; every tensor is a float
``[count, T, C]`` with the ``count`` the task's ``probe`` record declares. A graph's probe
records and this member must agree exactly, in both directions; the sizes are bounded by
``Limits.max_probe_examples`` (per task) and ``Limits.max_probe_values`` (per file),
because training replays probes on every step.
"""

from __future__ import annotations

import torch

from openbrains.engine.format.safety import Limits, fail
from openbrains.engine.graph import Graph

PROBES = "probes.safetensors"
SIDES = {"in": "inputs", "out": "heads"}


def probe_key(task: str, side: str, port: str) -> str:
    return f"{task}/{side}/{port}"


def expected_keys(graph: Graph) -> dict[str, tuple[str, int]]:
    """Probe tensor key → (task, count) for every probe the graph's task records declare."""
    out: dict[str, tuple[str, int]] = {}
    for name, rec in graph.tasks.items():
        if rec.probe is None:
            continue
        for side, attr in SIDES.items():
            for port in getattr(rec.probe, attr):
                out[probe_key(name, side, port)] = (name, rec.probe.count)
    return out


def check_probes(
    graph: Graph | None, probes: dict[str, torch.Tensor], file: str, limits: Limits
) -> None:
    """Refuse probes that do not match the graph's records or go over the limits."""
    expected = expected_keys(graph) if graph is not None else {}
    if graph is not None and len(graph.tasks) > limits.max_tasks:
        raise fail(
            file,
            "graph.json",
            f"has {len(graph.tasks)} tasks, over the limit of {limits.max_tasks}",
        )
    for name, rec in graph.tasks.items() if graph is not None else ():
        if rec.probe is not None and rec.probe.count > limits.max_probe_examples:
            raise fail(
                file,
                "graph.json",
                f"task {name!r} has a probe of {rec.probe.count:,} "
                f"examples, over the limit of {limits.max_probe_examples:,}",
            )
    missing = sorted(set(expected) - set(probes))
    if missing:
        raise fail(
            file,
            PROBES,
            f"has no tensor {missing[0]!r}, which task "
            f"{expected[missing[0]][0]!r} declares in its probe",
        )
    values = 0
    for key, t in probes.items():
        if key not in expected:
            raise fail(file, PROBES, f"holds {key!r}, which no task's probe declares")
        task, count = expected[key]
        if t.dim() != 3 or t.shape[0] != count or not t.is_floating_point():
            raise fail(
                file,
                PROBES,
                f"tensor {key!r} must be float [{count}, T, C] (the "
                f"probe of {task!r}), got {t.dtype} {list(t.shape)}",
            )
        values += t.numel()
        if values > limits.max_probe_values:
            raise fail(
                file,
                PROBES,
                f"holds more than {limits.max_probe_values:,} values, over the limit for probes",
            )
