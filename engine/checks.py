"""What an editor needs to know about a graph being edited, as plain data: which nodes
resolve, what shape each produces, their parameter counts, and what is wrong where."""

from __future__ import annotations

from typing import Any

from openbrains.engine.errors import GraphError
from openbrains.engine.graph import Graph
from openbrains.engine.shapes import live_nodes, resolve


def check_graph(graph: Graph) -> dict[str, Any]:
    """Per-node shapes and errors, per-node parameter counts, and whether it compiles."""
    out: dict[str, Any] = {"compiles": False, "error": None, "nodes": {}, "params": 0}
    try:
        res = resolve(graph)
    except GraphError as exc:
        out["error"] = str(exc)
        return out
    live = live_nodes(graph)
    for uid in graph.nodes:
        entry: dict[str, Any] = {"live": uid in live}
        if uid in res.plans:
            spec = res.plans[uid].out
            entry["shape"] = {
                "channels": spec.channels,
                "time": spec.time,
                "grid": list(spec.meta.grid) if spec.meta.grid else None,
                "tokens": spec.meta.is_tokens,
            }
        if uid in res.errors:
            entry["error"] = str(res.errors[uid])
        out["nodes"][uid] = entry
    try:
        from openbrains.engine.compile import compile_graph

        brain = compile_graph(graph)
    except GraphError as exc:
        out["error"] = str(exc)
        return out
    counts: dict[str, int] = {}
    for key, tensor in brain.weights().items():
        kind, uid, _ = key.split("/", 2)
        if kind == "node":
            counts[uid] = counts.get(uid, 0) + tensor.numel()
    for uid, n in counts.items():
        out["nodes"].setdefault(uid, {})["params"] = n
    out["compiles"] = True
    out["params"] = brain.param_count()
    return out


def can_connect(graph: Graph, src: str, dst: str, dst_port: str = "in") -> tuple[bool, str]:
    """Would a wire src → dst be accepted? (cycle, port kind); the reason when not."""
    if src == dst or graph.would_cycle(src, dst):
        return False, "that wire would make a cycle"
    probe = graph.copy()
    try:
        edge = probe.connect(src, dst, dst_port=dst_port)
        res = resolve(probe)
    except GraphError as exc:
        return False, str(exc)
    err = res.errors.get(dst)
    if err is not None and err.edge == edge.uid:
        return False, str(err)
    return True, ""
