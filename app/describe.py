"""Human-readable summary of a .graph file (`openbrains inspect`)."""

from __future__ import annotations

import sys
from typing import Any

from openbrains.engine.errors import GraphError
from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT, Graph


def _io_line(node_params: dict[str, Any]) -> str:
    """One input or output as the file states it; values of the wrong type are shown as
    they are (a file from a stranger may say anything: the reader does not check params)."""
    p = node_params
    time = p.get("time") or "variable"
    extra = []
    if p.get("grid_h"):
        extra.append(f"grid {p['grid_h']}x{p.get('grid_w')}")
    if p.get("vocab"):
        extra.append(f"vocab {p['vocab']}")
    if p.get("views") == 1:
        extra.append("answers with views: the mean over the image and its one-pixel shifts")
    rate = p.get("rate")
    if isinstance(rate, int | float) and not isinstance(rate, bool) and rate:
        extra.append(f"{rate:g}/s")
    elif rate:
        extra.append(f"rate {rate!r}")
    tail = f", {', '.join(extra)}" if extra else ""
    return f"{p.get('name')}: {p.get('modality', 'vector')} [time {time}, channels {p.get('channels')}{tail}]"


def describe_graph(graph: Graph, weights: dict | None = None) -> list[str]:
    """Counts, I/O, parameters (when every unit is installed), lineage, tasks and scores."""
    units = sorted(graph.units_used().items())
    lines = [
        f"nodes: {len(graph.nodes)}  edges: {len(graph.edges)}  causal: {'yes' if graph.causal else 'no'}",
        "units: " + ", ".join(f"{name} v{v}" for name, v in units),
    ]
    for node in graph.nodes.values():
        if node.unit == INPUT_UNIT:
            lines.append("input  " + _io_line(node.params))
        elif node.unit == OUTPUT_UNIT:
            lines.append("output " + _io_line(node.params))
    try:
        import torch

        from openbrains.engine.compile import compile_graph
        from openbrains.engine.format import DEFAULT_LIMITS
        from openbrains.engine.weight_budget import module_weights

        with torch.device("meta"):  # counted, never allocated: a file may ask for billions
            brain = compile_graph(graph, max_weights=sys.maxsize)
        lines.append(f"parameters: {brain.param_count():,} ({brain.param_count(True):,} trainable)")
        if module_weights(brain) > DEFAULT_LIMITS.max_weights:
            lines.append(
                f"too big to run: over the limit of {DEFAULT_LIMITS.max_weights:,} weights"
            )
        if weights:
            unfit = _unfit_weights(brain.weights(), weights)
            if unfit:
                lines.append(f"weights: do not fit the graph ({unfit})")
    except GraphError as exc:
        lines.append(f"parameters: unknown — {exc}")
    frozen = [n.uid for n in graph.nodes.values() if n.frozen]
    if frozen:
        lines.append(f"frozen nodes: {', '.join(frozen)}")
    if graph.lineage:
        parents = graph.lineage.get("parents") or []
        lines.append(
            f"lineage: {len(parents)} parent(s) "
            + ", ".join(f"{p['id'][:12]} ({p['relation']})" for p in parents)
            + (f"; {graph.lineage['mutation']}" if graph.lineage.get("mutation") else "")
        )
    for name, task in graph.tasks.items():
        score = task.score.get("test", task.score.get("validation"))
        shown = f" ({task.metric} {score:.4g})" if isinstance(score, int | float) else ""
        probe = f", probe of {task.probe.count}" if task.probe else ""
        lines.append(f"trained on: {name}{shown}{probe}")
    for key, value in sorted(graph.scores.items()):
        lines.append(f"score {key}: {value}")
    return lines


def _unfit_weights(own: dict[str, Any], given: dict[str, Any]) -> str:
    """What keeps the file's tensors from loading into the graph (shapes only), or ""."""
    missing = sorted(set(own) - set(given))
    unexpected = sorted(set(given) - set(own))
    shapes = sorted(
        k for k in set(own) & set(given) if tuple(own[k].shape) != tuple(given[k].shape)
    )
    parts = [
        f"{label} {keys[:3]}{' …' if len(keys) > 3 else ''}"
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("shape", shapes))
        if keys
    ]
    return "; ".join(parts)


def describe_file(doc: Any) -> list[str]:
    lines = [f"kind: {doc.kind}", f"format version: {doc.format_version_read}"]
    if doc.migrated_from is not None:
        lines.append(f"migrated from format version {doc.migrated_from}")
    if doc.created_by:
        lines.append(f"created by: {doc.created_by}")
    missing = doc.missing_units()
    for unit, package in sorted(missing.items()):
        lines.append(f"missing unit: {unit} (install package {package!r})")
    if doc.graph is not None:
        lines += describe_graph(doc.graph, doc.weights if not missing else None)
    if doc.project:
        lines.append("project settings: " + ", ".join(sorted(doc.project)))
        lines += _what_it_asks(doc.project)
    if doc.population:
        lines.append(f"population: {len(doc.population)} individuals")
    return lines


def _what_it_asks(project: dict[str, Any]) -> list[str]:
    """The code and paths a project names: none is used until the user gives it
    (docs/security.md)."""
    from openbrains.engine.trust import is_code_name

    task = project.get("task")
    task = task if isinstance(task, dict) else {}
    lines = []
    if is_code_name(task.get("name")):
        lines.append(
            f"asks for code: {task['name']} (never run from a file; "
            f"to trust it: --task {task['name']})"
        )
    if task.get("data"):
        lines.append(f"names data: {task['data']} (used once you give it: --data)")
    if project.get("run_dir"):
        lines.append(f"names run folder: {project['run_dir']} (used once you give it: --run-dir)")
    return lines
