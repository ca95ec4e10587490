"""Follow champion on real editors offscreen: 200 random graphs from the engine's own
generator, each followed by one of its mutants, as a run shows them one after another.
After each, no two cards (ghosts of removed nodes included) overlap and no wire runs
under a card it does not touch; what changed stays marked until the next graph."""

from __future__ import annotations

import random

import pytest
from PySide6.QtCore import QRectF

from openbrains.canvas.editor import GraphEditor
from openbrains.canvas.follow import diff_graphs
from openbrains.canvas.items.node import NodeItem
from openbrains.canvas.items.wire import WireItem
from openbrains.engine.catalog import catalog_json
from openbrains.engine.evolve.mutate import mutate
from openbrains.engine.evolve.random import SizeBounds, random_graph
from openbrains.engine.graph import Graph
from openbrains.engine.signal import SignalMeta, SignalSpec
from openbrains.engine.tasks.builtin import digits_task, xor_task

GRAPHS = 200


@pytest.fixture(scope="module")
def editor(qapp) -> GraphEditor:
    ed = GraphEditor()
    ed.set_catalog(catalog_json())
    ed.resize(1000, 640)
    ed.show()
    yield ed
    ed.close()
    ed.deleteLater()


def cards(ed: GraphEditor) -> list[tuple[str, QRectF]]:
    items: list[NodeItem] = [*ed.scene.nodes.values(), *ed.scene.ghost_nodes.values()]
    return [(i.uid, i.mapRectToScene(i.rect())) for i in items]


def overlapping(rects: list[tuple[str, QRectF]]) -> list[tuple[str, str]]:
    bad = []
    for i, (a, ra) in enumerate(rects):
        for b, rb in rects[i + 1 :]:
            if ra.intersects(rb):
                bad.append((a, b))
    return bad


def wires_under_cards(ed: GraphEditor) -> list[tuple[str, str]]:
    """(wire, card) pairs where a wire passes inside a card other than its two ends."""
    rects = dict(cards(ed))
    bad = []
    wires: list[WireItem] = [*ed.scene.wires.values(), *ed.scene.ghost_wires.values()]
    for wire in wires:
        ends = {wire.src.node.uid, wire.dst.node.uid}
        path = wire.path()
        points = [path.pointAtPercent(k / 40) for k in range(1, 40)]
        for uid, rect in rects.items():
            if uid in ends:
                continue
            inner = rect.adjusted(2, 2, -2, -2)
            if any(inner.contains(p) for p in points):
                bad.append((wire.uid, uid))
    return bad


def task_io(k: int) -> tuple[dict, dict, bool]:
    if k % 3 == 0:
        t = digits_task()
        return t.inputs, t.outputs, False
    if k % 3 == 1:
        t = xor_task()
        return t.inputs, t.outputs, False
    inputs = {"text": SignalSpec(1, None, SignalMeta("text", vocab=256))}
    outputs = {"next": SignalSpec(256, None, SignalMeta("text"))}
    return inputs, outputs, True


def test_no_two_cards_overlap_after_follow_champion_on_200_random_graphs(
    editor: GraphEditor,
) -> None:
    marked = 0
    for k in range(GRAPHS):
        rng = random.Random(k)
        inputs, outputs, causal = task_io(k)
        bounds = SizeBounds(max_nodes=rng.randint(2, 18), max_fan_in=3)
        parent = random_graph(rng, inputs, outputs, bounds, causal=causal)
        child = mutate(parent, {}, rng, SizeBounds(max_nodes=24, max_fan_in=3)).graph
        for graph in (parent, child):
            editor.show_graph_animated(graph)
            assert overlapping(cards(editor)) == [], (k, graph.to_json())
            assert wires_under_cards(editor) == [], (k, graph.to_json())
        # the child is shown with its parent's lost nodes as ghosts, and marks that stay
        diff = diff_graphs(parent, child)
        assert set(editor.scene.nodes) == set(child.nodes)
        assert set(editor.scene.ghost_nodes) == {u for u in diff.removed if u in parent.nodes}
        for uid, item in editor.scene.nodes.items():
            want = "added" if uid in diff.added else "changed" if uid in diff.changed else ""
            assert item.mark == want, (k, uid)
        marked += bool(diff.added or diff.removed or diff.changed)
        # the editor's graph holds the positions it shows
        shown = editor.graph()
        for uid, item in editor.scene.nodes.items():
            assert shown.nodes[uid].pos == (item.pos().x(), item.pos().y())
    assert marked > GRAPHS // 2  # most mutations change the structure or a param


def test_marks_stay_until_the_next_graph_and_ghosts_go_with_it(editor: GraphEditor, qtbot) -> None:
    t = digits_task()
    rng = random.Random(7)
    parent = random_graph(rng, t.inputs, t.outputs, SizeBounds(max_nodes=6))
    child = parent.copy()
    hidden = [u for u, n in child.nodes.items() if n.unit not in ("input", "output")]
    victim = hidden[-1]
    for e in [*child.in_edges(victim), *child.out_edges(victim)]:
        child.remove_edge(e.uid)
    child.remove_node(victim)
    src = next(u for u, n in child.nodes.items() if n.unit == "input")
    dst = next(u for u, n in child.nodes.items() if n.unit == "output")
    child.connect(src, dst, uid="skipwire")
    editor.show_graph_animated(parent)
    editor.show_graph_animated(child)
    ghost = editor.scene.ghost_nodes[victim]
    assert ghost.mark == "removed" and ghost.opacity() < 1
    assert editor.scene.wires["skipwire"].mark == "added"
    qtbot.wait(1800)  # longer than the old 1.5 s highlight: the marks are still there
    assert editor.scene.ghost_nodes[victim] is ghost and ghost.scene() is editor.scene
    assert editor.scene.wires["skipwire"].mark == "added"
    editor.show_graph_animated(child)  # the next champion (here: the same graph)
    assert editor.scene.ghost_nodes == {} and ghost.scene() is None
    assert all(not i.mark for i in editor.scene.nodes.values())


def test_a_long_wire_keeps_its_lane_until_a_card_is_dragged(editor: GraphEditor) -> None:
    g = Graph()
    x = g.add_node("input", {"name": "x", "channels": 4, "modality": "vector"}, uid="x")
    a = g.add_node("dense", {"width": 8}, uid="a")
    b = g.add_node("dense", {"width": 8}, uid="b")
    y = g.add_node("output", {"name": "y", "channels": 2}, uid="y")
    for s, d, u in ((x, a, "e1"), (a, b, "e2"), (b, y, "e3"), (x, y, "skip")):
        g.connect(s.uid, d.uid, uid=u)
    editor.show_graph_animated(Graph())  # ghosts of a graph shown before would take columns
    editor.show_graph_animated(g)
    skip = editor.scene.wires["skip"]
    assert len(skip.lanes) == 4  # through the columns of a and b
    assert wires_under_cards(editor) == []
    editor.move_nodes({"y": (editor.graph().nodes["y"].pos[0] + 40, 300.0)})
    assert skip.lanes == []  # its end moved: a plain curve again
