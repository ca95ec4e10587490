"""Watching evolution, as real widgets offscreen: population cards that do not move under
the pointer, thumbnails that show the real topology, the family tree and parent | child.
Graphs are plain data, as the engine sends them (the canvas never sees torch)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QGraphicsItem

from openbrains.canvas.catalog import Catalog
from openbrains.canvas.compare import CompareView
from openbrains.canvas.lineage import FamilyTreeView, readable_detail
from openbrains.canvas.population import PopulationView
from openbrains.canvas.thumbnail import render_thumbnail
from openbrains.engine.catalog import catalog_json
from openbrains.engine.graph import Edge, Graph, Node
from tests.canvas.test_population import graph_json, summary

LEFT = Qt.MouseButton.LeftButton


def chain(widths: list[int], skip: bool = False) -> Graph:
    """x → dense(w₁) → … → y, and with ``skip`` a wire from x straight to y."""
    g = Graph()
    g.nodes["x"] = Node("x", "input", {"name": "x", "channels": 4, "modality": "vector"})
    prev = "x"
    for i, w in enumerate(widths):
        g.nodes[f"d{i}"] = Node(f"d{i}", "dense", {"width": w})
        g.edges[f"e{i}"] = Edge(f"e{i}", prev, f"d{i}")
        prev = f"d{i}"
    g.nodes["y"] = Node("y", "output", {"name": "y", "channels": 2})
    g.edges["out"] = Edge("out", prev, "y")
    if skip:
        g.nodes["s"] = Node("s", "sum", {})
        g.edges["out"] = Edge("out", prev, "s")
        g.edges["skip"] = Edge("skip", "x", "s")
        g.edges["sy"] = Edge("sy", "s", "y")
    return g


def ink_rows(img: QImage) -> set[int]:
    return {
        y for y in range(img.height()) for x in range(img.width()) if img.pixelColor(x, y).alpha()
    }


# ----- population cards -----------------------------------------------------------------
def enter(widget: Any, kind: QEvent.Type) -> None:
    QApplication.sendEvent(widget, QEvent(kind))


def test_cards_hold_their_order_under_the_pointer_so_a_click_opens_the_aimed_one(
    qtbot: Any,
) -> None:
    view = PopulationView()
    qtbot.addWidget(view)
    view.resize(560, 700)
    view.show()
    qtbot.waitExposed(view)
    view.set_population([summary(i, 0.5 + i / 100) for i in range(1, 7)])
    before = view.ids()
    aim = before[3]
    enter(view.list.viewport(), QEvent.Type.Enter)  # the pointer comes over the cards
    rect = view.card_rect(aim)
    # results arrive meanwhile: a better newcomer, a score change, a retirement
    view.add_individual(summary(50, 0.99))
    view.add_individual(summary(before[5], 0.995))
    view.add_individual({**summary(51, 0.9), "retired": [before[1]]})
    assert view.ids()[: len(before)] == before  # nothing moved
    assert view.card_rect(aim) == rect
    with qtbot.waitSignal(view.individualActivated) as opened:
        qtbot.mouseClick(view.list.viewport(), LEFT, pos=rect.center())
    assert opened.args == [aim]
    enter(view.list.viewport(), QEvent.Type.Leave)  # the pointer leaves: order put right
    assert view.ids()[:2] == [before[5], 50]
    assert before[1] not in view.ids()
    assert view.current_id() == aim  # the selection followed its card


def test_a_new_card_fades_in(qtbot: Any) -> None:
    view = PopulationView()
    qtbot.addWidget(view)
    view.resize(400, 400)
    view.show()
    view.add_individual(summary(1, 0.5))
    img_now = view.list.viewport().grab().toImage()
    qtbot.wait(600)
    img_later = view.list.viewport().grab().toImage()
    assert img_now != img_later


def test_cards_an_arrival_moves_slide_to_their_new_place(qtbot: Any) -> None:
    """With the pointer away, a better arrival takes the first place: the cards after it
    are drawn where they were and glide one place on, instead of jumping."""
    from openbrains.canvas.cards import SLIDE_S

    view = PopulationView()
    qtbot.addWidget(view)
    view.resize(560, 700)
    view.show()
    qtbot.waitExposed(view)
    view.set_population([summary(i, 0.5 + i / 100) for i in range(1, 7)])
    first, last = view.ids()[0], view.ids()[-1]
    was = view.card_rect(first)
    view.add_individual(summary(50, 0.99))  # the new best: everything moves one place
    assert view.ids()[:2] == [50, first]
    now = view.card_rect(first)
    assert now != was
    drawn = now.translated(view.slide_offset(first, now).toPoint())
    assert (drawn.topLeft() - was.topLeft()).manhattanLength() <= 2  # still where it was
    assert view.slide_offset(50, view.card_rect(50)).isNull()  # the newcomer fades in there
    img_now = view.list.viewport().grab().toImage()
    qtbot.wait(int(SLIDE_S * 1000) + 200)
    assert view.slide_offset(first, now).isNull() and view.slide_offset(last, now).isNull()
    assert view.list.viewport().grab().toImage() != img_now
    # under the pointer nothing slides: the order is held
    enter(view.list.viewport(), QEvent.Type.Enter)
    view.add_individual(summary(51, 0.999))
    assert view.slides == {} and view.ids()[-1] == 51


def test_thumbnails_draw_branches_merges_and_widths() -> None:
    plain = render_thumbnail(chain([16, 16]).to_json(), (160, 100))
    skip = render_thumbnail(chain([16, 16], skip=True).to_json(), (160, 100))
    wide = render_thumbnail(chain([16, 128]).to_json(), (160, 100))
    assert plain != skip and plain != wide
    # a skip wire runs in a lane of its own: the picture spreads over more rows
    assert len(ink_rows(skip)) > len(ink_rows(plain))
    # a wider layer is a taller box
    assert len(ink_rows(wide)) > len(ink_rows(plain))
    # the population graphs of the other tests: every topology its own picture
    a, b = (render_thumbnail(graph_json(n, seed=n, branchy=True), (160, 100)) for n in (3, 6))
    assert a != b


# ----- family tree ----------------------------------------------------------------------
def lineage() -> list[dict[str, Any]]:
    g = chain([8])
    g2 = chain([8, 12])
    g3 = chain([8, 12], skip=True)
    return [
        {"id": 9, "parents": [5], "origin": "mutation", "score": 0.91, "graph": g3.to_json(),
         "detail": "add sum 1a2b3c4d after dense d1 (residual into 5e6f7a8b)"},
        {"id": 5, "parents": [1], "origin": "mutation", "score": 0.80, "graph": g2.to_json(),
         "detail": "add dense 0badf00d after dense 9c9c9c9c"},
        {"id": 1, "parents": [], "origin": "seed", "score": 0.5, "graph": g.to_json()},
    ]  # fmt: skip


def test_the_family_tree_draws_the_ancestry_with_mutations_and_opens_a_click(
    qtbot: Any,
) -> None:
    tree = FamilyTreeView()
    qtbot.addWidget(tree)
    tree.resize(380, 700)
    tree.show()
    qtbot.waitExposed(tree)
    tree.set_lineage(lineage(), 9, "accuracy")
    assert sorted(tree.ids()) == [1, 5, 9]
    assert set(tree.edges) == {(1, 5), (5, 9)}
    assert tree.mutation_label(1, 5) == "add dense after dense"
    assert "9c9c" not in tree.mutation_label(1, 5)
    # oldest at the top, the chosen one at the bottom
    ys = {i: tree.cards[i].scenePos().y() for i in tree.ids()}
    assert ys[1] < ys[5] < ys[9]
    assert "accuracy 0.9100" in tree.cards[9].toolTip()
    with qtbot.waitSignal(tree.individualActivated) as opened:
        qtbot.mouseClick(tree.view.viewport(), LEFT, pos=tree.card_center(5).toPoint())
    assert opened.args == [5]
    with qtbot.waitSignal(tree.compareRequested) as compare:
        tree.compare_button.click()
    assert compare.args == [5]
    tree.set_lineage([], None)
    assert tree.ids() == [] and not tree.compare_button.isEnabled()


def test_readable_detail_names_nodes_and_drops_uids() -> None:
    nodes = {"5e6f7a8b": ("output", "label"), "1a2b3c4d": ("sum", "sum")}
    text = readable_detail("add sum 1a2b3c4d after dense d1 (residual into 5e6f7a8b)", nodes)
    assert text == "add sum after dense d1 (residual into ‘label’)"
    assert readable_detail("remove flatten 42485e3a") == "remove flatten"


# ----- parent | child -------------------------------------------------------------------
@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(catalog_json())


def test_parent_and_child_side_by_side_with_the_differences_marked(
    qtbot: Any, catalog: Catalog
) -> None:
    parent = chain([8, 12])
    child = chain([8, 24], skip=True)
    view = CompareView(catalog)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    diff = view.set_pair(parent, child, "parent #5", "child #9", "add sum")
    left, right = view.parent_side.scene, view.child_side.scene
    assert set(left.nodes) == set(parent.nodes) and set(right.nodes) == set(child.nodes)
    assert right.nodes["s"].mark == "added" and right.wires["skip"].mark == "added"
    assert right.nodes["d1"].mark == "changed" and left.nodes["d1"].mark == "changed"
    assert "width 12 → 24" in right.nodes["d1"].toolTip()
    assert left.wires["out"].mark == "removed"  # the wire the child rewired
    assert right.nodes["x"].mark == "" and left.nodes["x"].mark == ""
    # a node both have sits at the same spot on both sides
    for uid in parent.nodes:
        assert left.nodes[uid].pos() == right.nodes[uid].pos()
    # read-only: nothing moves, nothing takes a wire
    for item in (*left.nodes.values(), *right.nodes.values()):
        assert not item.flags() & QGraphicsItem.GraphicsItemFlag.ItemIsMovable
    start = right.nodes["x"].pos()
    vp = view.child_side.view.viewport()
    at = view.child_side.view.mapFromScene(start)
    qtbot.mousePress(vp, LEFT, pos=at)
    qtbot.mouseMove(vp, at + QPoint(80, 40))
    qtbot.mouseRelease(vp, LEFT, pos=at + QPoint(80, 40))
    assert right.nodes["x"].pos() == start
    assert "add sum" in view.summary.text() and "+1 node" in view.summary.text()
    assert diff.changed == {"d1": "width 12 → 24"}
