"""The graph of a brain continued on a new task: the seed (its body and every old head)
with a branch for the new task beside it — the new task's inputs, a body of its own (a
template or random graph, as a fresh search would start from) and its head.

What the modes change (``KEEPS``):

- ``protect``: the seed's nodes are ``frozen`` (evolution leaves them alone) and not
  ``trainable`` (no gradient reaches them or the wires entering them), so the old heads
  compute exactly what they did. The new branch may read the old body where it sees the
  same input (a shared input node); where the new task has other inputs, the old body
  would only ever see zeros in its view, so no wire is drawn to it.
- ``share``: the seed's nodes are ``frozen`` for evolution but trainable: the new task's
  input also enters the old body (an adapter on the wire, zero for old inputs, so the old
  heads are unchanged at the start) and the old body's top also feeds the new head; the old
  heads stay in the loss through their probes.
- ``off``: plain fine-tuning: the same wires as ``share``, nothing frozen, no old loss.

An input of the seed is reused when it carries exactly the new task's signal (same
modality and shape); otherwise the new task gets its own input node. Names of new I/O
nodes that clash with the seed's get the task's name in front (``audio.label``); each
task's record maps its own port names to its nodes. Torch-free.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from openbrains.engine.errors import GraphError
from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT, Graph, new_uid
from openbrains.engine.taskrecord import TaskRecord, record_of
from openbrains.engine.taskview import ancestors, task_ports

KEEPS = ("protect", "share", "off")
SPEC_KEYS = ("modality", "channels", "time", "grid_h", "grid_w", "vocab", "rate")


def old_nodes(seed: Graph, tasks: list[str] | None = None) -> set[str]:
    """The seed's nodes that run one of ``tasks`` (default: all; what ``protect`` freezes)."""
    names = list(seed.tasks) if tasks is None else tasks
    heads = [uid for t in names for uid in task_ports(seed, t)[1].values()]
    return ancestors(seed, heads)


def keep_old(graph: Graph, old: set[str], old_tasks: set[str], keep: str) -> None:
    """Freeze the old tasks' nodes as ``keep`` says (in place)."""
    for uid in old:
        node = graph.nodes[uid]
        if keep == "protect" and set(node.owner) <= old_tasks:
            node.frozen, node.trainable = True, False
        elif keep == "share":
            node.frozen = True


def continued_same(seed: Graph, task: str, keep: str) -> Graph:
    """The seed continued on a task it already has (the same data): that task's nodes
    train as before, the other tasks' nodes are kept as ``keep`` says."""
    if keep not in KEEPS:
        raise GraphError(f"--keep must be one of {', '.join(KEEPS)}, got {keep!r}")
    out = seed.copy()
    others = [t for t in seed.tasks if t != task]
    own = old_nodes(seed, [task])
    keep_old(out, old_nodes(seed, others) - own, set(others), keep)
    return out


def _same_signal(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return all(a.get(k) == b.get(k) for k in SPEC_KEYS)


def _unique(name: str, task: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    candidate = f"{task}.{name}"
    i = 2
    while candidate in taken:
        candidate, i = f"{task}.{name}.{i}", i + 1
    return candidate


def continued_graph(
    seed: Graph,
    branch: Graph,
    task: str,
    described: dict[str, Any],
    keep: str,
    rng: random.Random,
) -> Graph:
    """``seed`` with ``branch`` (a graph for the new task ``task``, I/O named by the task's
    ports) joined beside it, the task recorded from ``described`` (what the task says of
    itself) and the seed's nodes frozen as ``keep`` says."""
    if keep not in KEEPS:
        raise GraphError(f"--keep must be one of {', '.join(KEEPS)}, got {keep!r}")
    out = seed.copy()
    old = old_nodes(seed)
    old_tasks = set(seed.tasks)
    ports: dict[str, str] = {}  # the new task's port name → its node in ``out``
    rename: dict[str, str] = {}
    seed_inputs = {n.params.get("name"): n for n in seed.input_nodes()}
    taken_names = {
        str(n.params.get("name"))
        for n in seed.nodes.values()
        if n.unit in (INPUT_UNIT, OUTPUT_UNIT)
    }
    shared_inputs: set[str] = set()
    for node in branch.nodes.values():
        if node.unit == INPUT_UNIT:
            port = str(node.params.get("name"))
            match = next(
                (n for n in seed_inputs.values() if _same_signal(n.params, node.params)), None
            )
            if match is not None:
                rename[node.uid] = match.uid
                ports[port] = match.uid
                shared_inputs.add(match.uid)
                continue
        uid = node.uid if node.uid not in out.uids() else new_uid(rng, out.uids())
        params = dict(node.params)
        if node.unit in (INPUT_UNIT, OUTPUT_UNIT):
            port = str(params.get("name"))
            params["name"] = _unique(port, task, taken_names)
            taken_names.add(params["name"])
            ports[port] = uid
        added = out.add_node(
            node.unit, params, uid=uid, version=node.version, pos=_shifted(node.pos)
        )
        added.owner = (task,)
        rename[node.uid] = uid
    for e in branch.edges.values():
        uid = e.uid if e.uid not in out.uids() else new_uid(rng, out.uids())
        out.connect(rename[e.src], rename[e.dst], uid=uid, src_port=e.src_port, dst_port=e.dst_port)
    for uid in shared_inputs:
        out.nodes[uid].owner = tuple(sorted(set(out.nodes[uid].owner) | {task}))

    new_inputs = [uid for p, uid in ports.items() if out.nodes[uid].unit == INPUT_UNIT]
    new_heads = [uid for uid in ports.values() if out.nodes[uid].unit == OUTPUT_UNIT]
    if keep in ("share", "off"):
        _bridge(out, seed, new_inputs, new_heads, shared_inputs, rng)
    keep_old(out, old, old_tasks, keep)
    rec = record_of(task, described, out)
    for port, p in rec.inputs.items():
        p.node = ports.get(port, p.node)
    for port, p in rec.heads.items():
        p.node = ports.get(port, p.node)
    out.tasks[task] = rec
    out.validate()
    return out


def _shifted(pos: tuple[float, float] | None) -> tuple[float, float] | None:
    return None if pos is None else (pos[0], pos[1] + 400.0)


def _bridge(
    out: Graph,
    seed: Graph,
    new_inputs: list[str],
    new_heads: list[str],
    shared: set[str],
    rng: random.Random,
) -> None:
    """Wires between the new branch and the old body (``share``, ``off``): each new input
    into what the seed's inputs feed (through the edge's adapter), and the top of the old
    body (what feeds its first head) into each new head."""
    if not new_inputs and not shared:
        return
    entries = [
        e.dst
        for n in seed.input_nodes()
        if n.uid not in shared
        for e in seed.out_edges(n.uid)
        if seed.nodes[e.dst].unit != OUTPUT_UNIT
    ]
    for src in new_inputs:
        for dst in dict.fromkeys(entries):
            if _takes_floats(out, dst) and not out.would_cycle(src, dst):
                out.connect(src, dst, rng=rng)
    heads = [uid for t in seed.tasks for uid in task_ports(seed, t)[1].values()]
    tops = [e.src for e in seed.in_edges(heads[0])] if heads else []
    for head in new_heads:
        for top in tops[:1]:
            if seed.nodes[top].unit != INPUT_UNIT and not out.would_cycle(top, head):
                out.connect(top, head, rng=rng)


def _takes_floats(graph: Graph, uid: str) -> bool:
    from openbrains.engine.units import REGISTRY

    unit = REGISTRY.get(graph.nodes[uid].unit) if graph.nodes[uid].unit in REGISTRY else None
    return unit is not None and bool(unit.inputs) and unit.inputs[0].kind != "tokens"


def clash(seed: Graph, task: str, data_id: str | None, settings: Mapping[str, Any]) -> str | None:
    """How the new task relates to the seed's tasks of the same name: None (a new task),
    ``"same"`` (the same task on the same data: continue it), or raise ``GraphError`` for
    the same name on other data."""
    rec: TaskRecord | None = seed.tasks.get(task)
    if rec is None:
        return None
    same = (
        rec.data_id == data_id if rec.data_id and data_id else dict(rec.settings) == dict(settings)
    )
    if not same:
        raise GraphError(
            f"the seed already has a task {task!r} trained on other data, and a brain holds "
            "one task per name: continue it on a task of another name"
        )
    return "same"
