"""One task's view of a multi-task graph: the graph as that task runs it.

A multi-task graph has several tasks' inputs and heads around one shared body. To run task
T: keep only T's heads (the nodes that feed nothing but other heads drop out as dead), name
T's input and head nodes by T's own port names (a later task's ports may have been renamed
in the graph to keep names unique), and give every input T does not have zeros of its
declared shape ("absent"). Nodes and edges keep their uids, so every view reads and writes
the same ``node/<uid>/…`` and ``edge/<uid>/…`` weights; a node has the same in-edges in
every view it is in (all its ancestors are in too), so its weights have the same shape.

Torch-free; ``engine.multitask`` compiles views.
"""

from __future__ import annotations

from dataclasses import dataclass

from openbrains.engine.errors import GraphError
from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT, Graph

ABSENT_PREFIX = "~"  # how an absent input is named inside a view (never a port name)


@dataclass(frozen=True)
class TaskView:
    """``graph``: the view; ``absent``: uids of inputs fed zeros; ``inputs``/``heads``:
    port name → node uid."""

    task: str
    graph: Graph
    absent: frozenset[str]
    inputs: dict[str, str]
    heads: dict[str, str]


def task_ports(graph: Graph, task: str) -> tuple[dict[str, str], dict[str, str]]:
    """(inputs, heads) of ``task``: port name → node uid; ``GraphError`` naming the port
    when the graph has no such node."""
    if task not in graph.tasks:
        have = ", ".join(graph.tasks) or "none"
        raise GraphError(f"the graph has no task {task!r} (its tasks: {have})")
    rec = graph.tasks[task]
    ports: list[dict[str, str]] = []
    for kind, unit, names, find in (
        ("input", "input", rec.inputs, rec.input_node),
        ("head", "output", rec.heads, rec.head_node),
    ):
        found: dict[str, str] = {}
        for port in names:
            uid = find(graph, port)
            if uid is None:
                raise GraphError(f"task {task!r}: its {kind} {port!r} names no {unit} node")
            found[port] = uid
        ports.append(found)
    if not ports[1]:
        raise GraphError(f"task {task!r} has no head")
    return ports[0], ports[1]


def task_view(graph: Graph, task: str) -> TaskView:
    inputs, heads = task_ports(graph, task)
    view = graph.copy()
    for node in graph.output_nodes():
        if node.uid not in heads.values():
            view.remove_node(node.uid)
    port_of = {uid: port for port, uid in {**inputs, **heads}.items()}
    absent = set()
    for node in view.nodes.values():
        if node.unit not in (INPUT_UNIT, OUTPUT_UNIT):
            continue
        if node.uid in port_of:
            node.params["name"] = port_of[node.uid]
        elif node.unit == INPUT_UNIT:
            node.params["name"] = ABSENT_PREFIX + node.uid
            absent.add(node.uid)
    return TaskView(task, view, frozenset(absent), inputs, heads)


def ancestors(graph: Graph, uids: set[str] | list[str]) -> set[str]:
    """``uids`` and every node upstream of them."""
    parents: dict[str, list[str]] = {}
    for e in graph.edges.values():
        parents.setdefault(e.dst, []).append(e.src)
    out = set(uids)
    stack = list(uids)
    while stack:
        for p in parents.get(stack.pop(), ()):
            if p not in out:
                out.add(p)
                stack.append(p)
    return out


def task_nodes(graph: Graph, task: str) -> set[str]:
    """The nodes ``task`` runs: its heads and everything upstream of them."""
    _inputs, heads = task_ports(graph, task)
    return ancestors(graph, list(heads.values()))
