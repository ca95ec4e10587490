"""The graph editor with real widgets offscreen: real mouse and key events on the view,
the real unit catalog, and the engine's real checker where shapes and counts matter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox, QDoubleSpinBox, QSpinBox

from openbrains.canvas import scene as scene_mod
from openbrains.canvas.editor import PASTE_OFFSET, SUBGRAPH_MIME, GraphEditor
from openbrains.canvas.items.port import COMPATIBLE, INCOMPATIBLE, NORMAL, TARGET
from openbrains.canvas.palette import UNIT_MIME, unit_from_mime
from openbrains.engine.catalog import catalog_json
from openbrains.engine.graph import Graph, Node
from openbrains.engine.layout import layered_positions

ROOT = Path(__file__).resolve().parents[2]
L = Qt.MouseButton.LeftButton
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture(scope="module")
def catalog() -> list[dict]:
    return catalog_json()


@pytest.fixture
def editor(qtbot, catalog) -> GraphEditor:
    ed = GraphEditor()
    ed.set_catalog(catalog)
    qtbot.addWidget(ed)
    ed.resize(1100, 700)
    ed.show()
    qtbot.waitExposed(ed)
    ed.activateWindow()
    ed.view.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is ed.view)
    return ed


def float_graph(with_wires: bool = True) -> Graph:
    """x (4 floats) → a (dense) → b (dense) → y, plus an unwired embedding e."""
    g = Graph()
    specs = [
        ("x", "input", {"name": "x", "channels": 4, "modality": "vector"}),
        ("a", "dense", {"width": 32}),
        ("b", "dense", {"width": 16}),
        ("y", "output", {"name": "y", "channels": 3}),
    ]
    for i, (uid, unit, params) in enumerate(specs):
        g.nodes[uid] = Node(uid=uid, unit=unit, params=params, pos=(i * 230.0, 0.0))
    g.nodes["e"] = Node(uid="e", unit="embedding", params={"width": 8}, pos=(230.0, 160.0))
    if with_wires:
        g.connect("x", "a", uid="w1")
        g.connect("a", "b", uid="w2")
        g.connect("b", "y", uid="w3")
    return g


def token_graph() -> Graph:
    """text (256-token input) → emb → gru → out, and a dense d left unwired."""
    g = Graph()
    specs = [
        ("t", "input", {"name": "text", "modality": "text", "vocab": 256, "time": 0}),
        ("m", "embedding", {"width": 16}),
        ("r", "gru", {"width": 24}),
        ("o", "output", {"name": "next", "channels": 256, "time": 0}),
    ]
    for i, (uid, unit, params) in enumerate(specs):
        g.nodes[uid] = Node(uid=uid, unit=unit, params=params, pos=(i * 230.0, 0.0))
    g.nodes["d"] = Node(uid="d", unit="dense", params={"width": 8}, pos=(230.0, 160.0))
    g.connect("t", "m", uid="w1")
    g.connect("m", "r", uid="w2")
    g.connect("r", "o", uid="w3")
    return g


def port_view_pos(ed: GraphEditor, uid: str, name: str, output: bool) -> QPoint:
    item = ed.scene.nodes[uid]
    port = (item.outputs if output else item.inputs)[name]
    return ed.view.mapFromScene(port.scene_anchor())


def node_view_pos(ed: GraphEditor, uid: str, dy: float = 12.0) -> QPoint:
    item = ed.scene.nodes[uid]
    return ed.view.mapFromScene(item.scenePos() + QPointF(0, dy))


def drag(qtbot, ed: GraphEditor, a: QPoint, b: QPoint, steps: int = 6, check=None) -> None:
    vp = ed.view.viewport()
    qtbot.mousePress(vp, L, pos=a)
    for i in range(1, steps + 1):
        qtbot.mouseMove(vp, a + (b - a) * (i / steps))
    if check is not None:
        check()
    qtbot.mouseRelease(vp, L, pos=b)


def key(qtbot, ed: GraphEditor, k: Qt.Key, mod=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(ed.view.viewport(), k, mod)


# ----- adding units ------------------------------------------------------------------------
# PySide6 binds only QDragEnterEvent's QPoint constructor, which Qt marks deprecated.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_palette_drag_data_and_drop_add_a_unit_at_the_drop_point(editor, qtbot):
    pal = editor.palette
    pal.search.setText("recurr")
    shown = set(pal.visible_units())
    assert {"gru", "lstm"} <= shown and "dense" not in shown
    pal.search.setText("")
    mime = pal.tree.mimeData([pal.items["gru"]])
    assert mime.hasFormat(UNIT_MIME) and unit_from_mime(mime) == "gru"

    vp = editor.view.viewport()
    at = QPoint(420, 260)
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(at, actions, mime, L, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(at), actions, mime, L, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, drop)
    g = editor.graph()
    (uid,) = [u for u, n in g.nodes.items() if n.unit == "gru"]
    expected = editor.view.mapToScene(at)
    assert g.nodes[uid].pos == pytest.approx((expected.x(), expected.y()))
    assert g.nodes[uid].params == {"width": 32}  # the declared defaults
    assert editor.selected_uids() == [uid]

    # something that is not a unit is not accepted
    other = QMimeData()
    other.setText("hello")
    enter = QDragEnterEvent(at, actions, other, L, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, enter)
    assert not enter.isAccepted()

    editor.undo_stack.undo()
    assert not editor.graph().nodes


def test_tab_quick_add_popup_filters_and_adds_with_enter(editor, qtbot):
    key(qtbot, editor, Qt.Key.Key_Tab)
    popup = editor.quick_add
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClicks(popup.search, "lst")
    assert popup.current_unit() == "lstm"
    qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    assert not popup.isVisible()
    assert [n.unit for n in editor.graph().nodes.values()] == ["lstm"]

    # double-click on an empty spot opens it there too; Escape closes it
    at = QPoint(700, 500)
    qtbot.mouseDClick(editor.view.viewport(), L, pos=at)
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClicks(popup.search, "norm")
    assert popup.current_unit() in ("batchnorm", "layernorm", "rmsnorm")
    qtbot.keyClick(popup.search, Qt.Key.Key_Down)
    chosen = popup.current_unit()
    qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    node = next(n for n in editor.graph().nodes.values() if n.unit == chosen)
    expected = editor.view.mapToScene(at)
    assert node.pos == pytest.approx((expected.x(), expected.y()))
    key(qtbot, editor, Qt.Key.Key_Tab)
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClick(popup.search, Qt.Key.Key_Escape)
    assert not popup.isVisible() and len(editor.graph().nodes) == 2

    # inputs added by hand get a name not taken yet
    editor.add_unit("input", (0, 300))
    editor.add_unit("input", (0, 450))
    names = [n.params["name"] for n in editor.graph().nodes.values() if n.unit == "input"]
    assert names == ["x", "x2"]


def test_new_nodes_validate_with_the_engine(editor):
    from openbrains.engine.units import get_unit

    for i, spec in enumerate(editor.catalog):
        editor.add_unit(spec.name, (i * 200.0, 0.0))
    g = editor.graph()
    assert len(g.nodes) == len(catalog_json())
    for node in g.nodes.values():
        unit = get_unit(node.unit)
        assert node.version == unit.version
        unit.check_params(node.params, where=node.uid)  # raises if a param is off


# ----- wiring --------------------------------------------------------------------------------
def test_drag_from_output_to_input_port_connects_with_live_feedback(editor, qtbot):
    editor.set_graph(float_graph(with_wires=False))
    a = port_view_pos(editor, "x", "out", output=True)
    b = port_view_pos(editor, "a", "in", output=False)

    def during() -> None:
        ports = {uid: item.inputs.get("in") for uid, item in editor.scene.nodes.items()}
        assert ports["a"].state == TARGET
        assert ports["b"].state == COMPATIBLE
        assert ports["e"].state == INCOMPATIBLE  # a token port: float cannot go in
        assert editor.scene.dragging_wire()

    drag(qtbot, editor, a, b, check=during)
    g = editor.graph()
    assert [(e.src, e.dst) for e in g.edges.values()] == [("x", "a")]
    assert not editor.scene.dragging_wire()
    assert all(p.state == NORMAL for i in editor.scene.nodes.values() for p in i.inputs.values())
    assert len(editor.scene.wires) == 1

    # a second drag, onto the node body, snaps to its input port
    drag(qtbot, editor, port_view_pos(editor, "a", "out", True), node_view_pos(editor, "b"))
    assert [(e.src, e.dst) for e in editor.graph().edges.values()] == [("x", "a"), ("a", "b")]
    assert editor.undo_stack.count() == 2


def test_incompatible_wires_are_refused_with_a_reason(editor, qtbot):
    editor.set_graph(token_graph())
    messages: list[str] = []
    editor.statusMessage.connect(messages.append)
    before = editor.graph().to_dict()

    # token ids into a float port, by mouse
    drag(
        qtbot,
        editor,
        port_view_pos(editor, "t", "out", True),
        port_view_pos(editor, "d", "in", False),
    )
    assert editor.graph().to_dict() == before
    assert messages and "token" in messages[-1]

    # float into the token port (through the API: the same path)
    assert not editor.connect_ports("d", "m")
    assert "token" in messages[-1]

    # cycles: b → a (a already feeds b), and a node into itself
    editor.set_graph(float_graph())
    assert not editor.connect_ports("b", "a")
    assert "cycle" in messages[-1]
    assert not editor.connect_ports("a", "a")
    drag(
        qtbot,
        editor,
        port_view_pos(editor, "b", "out", True),
        port_view_pos(editor, "a", "in", False),
    )
    assert "cycle" in messages[-1]
    assert len(editor.graph().edges) == 3
    assert editor.connect_ports("x", "b")  # a skip wire is fine


# ----- undo / redo ---------------------------------------------------------------------------
def test_undo_redo_restore_exactly_the_same_graph(editor, qtbot):
    editor.set_graph(float_graph())
    states = [editor.graph().to_dict()]

    def step() -> None:
        states.append(editor.graph().to_dict())

    uid = editor.add_unit("layernorm", (300, 200))
    step()
    assert editor.connect_ports("a", uid)
    step()
    assert editor.set_param("a", "width", 64)
    step()
    assert editor.rename_node("b", "head")
    step()
    editor.select(["a", "b"])
    assert editor.freeze_selection(True, also_untrainable=True)
    step()
    drag(qtbot, editor, node_view_pos(editor, "y"), node_view_pos(editor, "y") + QPoint(60, 80))
    step()
    editor.select(["a"])
    assert editor.delete_selection()  # a goes, with its three wires
    step()
    assert "a" not in editor.graph().nodes and len(editor.graph().edges) == 1
    editor.select([uid])
    editor.copy()
    editor.paste()
    step()
    assert editor.auto_layout(keep_placed=False)
    step()

    n = editor.undo_stack.count()
    assert n == len(states) - 1  # the mouse drag is one merged step
    for i in range(n, 0, -1):
        editor.undo_stack.undo()
        assert editor.graph().to_dict() == states[i - 1], f"undo to state {i - 1}"
    for i in range(1, n + 1):
        key(qtbot, editor, Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
        assert editor.graph().to_dict() == states[i], f"redo to state {i}"
    key(qtbot, editor, Qt.Key.Key_Z, CTRL)
    assert editor.graph().to_dict() == states[-2]
    # replacing the graph can be an undoable step too
    editor.set_graph(token_graph(), keep_undo=True)
    assert set(editor.graph().nodes) == set(token_graph().nodes)
    editor.undo_stack.undo()
    assert editor.graph().to_dict() == states[-2]
    # items follow the graph
    assert set(editor.scene.nodes) == set(editor.graph().nodes)
    assert set(editor.scene.wires) == set(editor.graph().edges)


# ----- clipboard, duplicate, delete ----------------------------------------------------------------
def test_copy_paste_of_a_partial_selection(editor, qtbot):
    editor.set_graph(float_graph())
    editor.select(["a", "b"])
    key(qtbot, editor, Qt.Key.Key_C, CTRL)
    mime = QGuiApplication.clipboard().mimeData()
    assert mime.hasFormat(SUBGRAPH_MIME)
    key(qtbot, editor, Qt.Key.Key_V, CTRL)
    g = editor.graph()
    new = [u for u in g.nodes if u not in float_graph().nodes]
    assert len(new) == 2 and not set(new) & set(float_graph().uids())
    assert sorted(g.nodes[u].params["width"] for u in new) == [16, 32]
    new_edges = [e for e in g.edges.values() if e.uid not in float_graph().edges]
    assert len(new_edges) == 1  # a'→b' kept; x→a' and b'→y dropped
    (e,) = new_edges
    assert {e.src, e.dst} == set(new) and e.uid not in float_graph().uids()
    a2 = next(u for u in new if g.nodes[u].params["width"] == 32)
    assert g.nodes[a2].pos == (230.0 + PASTE_OFFSET[0], PASTE_OFFSET[1])
    assert sorted(editor.selected_uids()) == sorted(new)
    # a second paste lands further off, not on top of the first
    editor.paste()
    poses = [n.pos for n in editor.graph().nodes.values()]
    assert len(poses) == len(set(poses))


def test_duplicate_and_delete_from_the_keyboard(editor, qtbot):
    editor.set_graph(float_graph())
    editor.select(["b"])
    key(qtbot, editor, Qt.Key.Key_D, CTRL)
    g = editor.graph()
    assert len(g.nodes) == 6 and len(g.edges) == 3
    (dup,) = editor.selected_uids()
    assert g.nodes[dup].unit == "dense" and g.nodes[dup].params == {"width": 16}
    editor.select(["a"])
    key(qtbot, editor, Qt.Key.Key_Delete)
    g = editor.graph()
    assert "a" not in g.nodes and [e.uid for e in g.edges.values()] == ["w3"]
    assert "a" not in editor.scene.nodes and set(editor.scene.wires) == {"w3"}
    # a selected wire alone can be deleted too
    editor.select(["w3"])
    key(qtbot, editor, Qt.Key.Key_Delete)
    assert not editor.graph().edges


# ----- freezing, renaming, inspector --------------------------------------------------------------
def test_freeze_a_subgraph_locks_nodes_and_inspector(editor, qtbot):
    editor.set_graph(float_graph())
    # rubber band around a and b
    tl = editor.view.mapFromScene(QPointF(230 - 110, -70))
    br = editor.view.mapFromScene(QPointF(460 + 110, 70))
    drag(qtbot, editor, tl, br)
    assert editor.selected_uids()[:2] == ["a", "b"]
    editor.select(["a", "b"])
    assert editor.freeze_selection(True, also_untrainable=True)
    g = editor.graph()
    assert [(g.nodes[u].frozen, g.nodes[u].trainable) for u in "ab"] == [(True, False)] * 2
    assert not g.nodes["x"].frozen and g.nodes["x"].trainable
    assert editor.scene.nodes["a"].frozen
    editor.select(["a"])
    widgets = editor.inspector.param_widgets
    assert widgets and not any(w.isEnabled() for w in widgets.values())
    assert (
        editor.inspector.frozen_box.isChecked() and not editor.inspector.trainable_box.isChecked()
    )
    assert not editor.set_param("a", "width", 8)
    editor.select(["a", "b"])
    key(qtbot, editor, Qt.Key.Key_K, CTRL | Qt.KeyboardModifier.ShiftModifier)
    g = editor.graph()
    assert not g.nodes["a"].frozen and not g.nodes["a"].trainable  # flags are separate
    editor.select(["a"])
    assert all(w.isEnabled() for w in editor.inspector.param_widgets.values())
    editor.inspector.trainable_box.click()
    assert editor.graph().nodes["a"].trainable


def test_rename_with_f2(editor, qtbot):
    editor.set_graph(float_graph())
    editor.select(["b"])
    key(qtbot, editor, Qt.Key.Key_F2)
    assert editor.rename_edit.isVisible() and editor.rename_edit.text() == "dense"
    qtbot.keyClicks(editor.rename_edit, "classifier")
    qtbot.keyClick(editor.rename_edit, Qt.Key.Key_Return)
    assert not editor.rename_edit.isVisible()
    assert editor.graph().nodes["b"].label == "classifier"
    assert editor.scene.nodes["b"].title == "classifier"
    assert editor.inspector.title.text() == "classifier"
    editor.undo_stack.undo()
    assert editor.graph().nodes["b"].label == ""
    # double-click on a node renames it too; Escape cancels
    qtbot.mouseDClick(editor.view.viewport(), L, pos=node_view_pos(editor, "a"))
    assert editor.rename_edit.isVisible() and editor.rename_edit.text() == "dense"
    qtbot.keyClicks(editor.rename_edit, "nope")
    qtbot.keyClick(editor.rename_edit, Qt.Key.Key_Escape)
    assert not editor.rename_edit.isVisible() and editor.graph().nodes["a"].label == ""


def test_inspector_edits_params_through_the_undo_stack_within_range(editor, qtbot):
    editor.set_graph(float_graph())
    uid = editor.add_unit("hebbian", (300, 300))
    editor.select(["a"])
    spin = editor.inspector.param_widgets["width"]
    assert isinstance(spin, QSpinBox) and (spin.minimum(), spin.maximum()) == (1, 4096)
    count = editor.undo_stack.count()
    spin.setValue(64)
    assert editor.graph().nodes["a"].params["width"] == 64
    assert editor.undo_stack.count() == count + 1
    spin.setValue(100_000)  # clamped to the declared maximum
    assert editor.graph().nodes["a"].params["width"] == 4096
    assert editor.undo_stack.count() == count + 1  # consecutive edits of one param merge
    combo = editor.inspector.param_widgets["activation"]
    assert isinstance(combo, QComboBox)
    combo.setCurrentIndex(combo.findData("tanh"))
    assert editor.graph().nodes["a"].params["activation"] == "tanh"
    editor.undo_stack.undo()
    editor.undo_stack.undo()
    assert editor.graph().nodes["a"].params == {"width": 32}
    assert editor.inspector.param_widgets["width"].value() == 32

    editor.select([uid])  # a log-scale float gets fine steps
    rate = editor.inspector.param_widgets["rate"]
    assert isinstance(rate, QDoubleSpinBox) and rate.decimals() >= 6
    assert rate.minimum() == pytest.approx(1e-4) and rate.maximum() == pytest.approx(0.1)
    rate.setValue(0.0005)
    assert editor.graph().nodes[uid].params["rate"] == pytest.approx(0.0005)

    messages: list[str] = []
    editor.statusMessage.connect(messages.append)
    assert not editor.set_param("a", "width", 0)
    assert "at least 1" in messages[-1]
    assert not editor.set_param("a", "activation", "swish")


# ----- layout --------------------------------------------------------------------------------
def test_auto_layout_keeps_hand_placed_positions(editor, qtbot):
    g = float_graph()
    for n in g.nodes.values():
        n.pos = None
    g.nodes["y"].pos = (900.0, 400.0)  # placed in the file: kept on load
    editor.set_graph(g)
    shown = editor.graph()
    assert shown.nodes["y"].pos == (900.0, 400.0)
    assert all(n.pos is not None for n in shown.nodes.values())
    layered = layered_positions(shown)
    assert shown.nodes["a"].pos == layered["a"]

    # the user drags b by hand; auto layout keeps it and re-lays the rest
    start = node_view_pos(editor, "b")
    drag(qtbot, editor, start, start + QPoint(40, 120))
    placed = editor.graph().nodes["b"].pos
    assert placed != layered["b"]
    assert editor.auto_layout()
    after = editor.graph()
    assert after.nodes["b"].pos == placed
    assert after.nodes["y"].pos == layered["y"]  # only positions placed by hand are kept
    assert after.nodes["a"].pos == layered["a"]
    editor.undo_stack.undo()
    assert editor.graph().nodes["y"].pos == (900.0, 400.0)
    assert editor.auto_layout(keep_placed=False)
    assert editor.graph().nodes["b"].pos == layered["b"]


# ----- follow the champion -------------------------------------------------------------------------
def test_show_graph_animated_marks_added_changed_and_keeps_removed_as_ghosts(
    editor, qtbot, monkeypatch
):
    monkeypatch.setattr(scene_mod, "GLOW_MS", 250)
    editor.set_graph(float_graph())
    dropout = editor.add_unit("dropout", (0, 300))  # an edit that the new graph replaces
    old_b = editor.scene.nodes["b"]

    new = float_graph()
    new.remove_node("b")
    new.nodes["n"] = Node(uid="n", unit="gru", params={"width": 8})  # no position yet
    new.connect("a", "n", uid="w4")
    new.connect("n", "y", uid="w5")
    new.nodes["a"].params["width"] = 48
    diff = editor.show_graph_animated(new)

    assert set(editor.scene.nodes) == set(new.nodes)
    assert set(editor.scene.wires) == set(new.edges)
    assert editor.scene.nodes["n"].glow > 0.5  # a moment's glow on what is new
    assert editor.scene.nodes["n"].mark == "added" and editor.scene.wires["w4"].mark == "added"
    assert editor.scene.nodes["a"].mark == "changed" and "width 32 → 48" in diff.changed["a"]
    assert "width 32 → 48" in editor.scene.nodes["a"].toolTip()
    assert editor.scene.nodes["x"].mark == "" and editor.scene.nodes["x"].glow == 0
    assert set(editor.scene.ghost_nodes) == {"b", dropout} and old_b.fading
    assert editor.scene.ghost_nodes["b"] is old_b
    assert set(editor.scene.ghost_wires) == {"w2", "w3"}
    assert editor.scene.node_at(old_b.pos()) is None  # out of reach of the mouse
    assert editor.undo_stack.count() == 0
    assert editor.graph().nodes["n"].pos is not None
    qtbot.waitUntil(lambda: not editor.animating(), timeout=3000)
    assert editor.scene.nodes["n"].glow == 0
    assert editor.scene.nodes["n"].mark == "added"  # marks stay until the next graph
    assert old_b.scene() is editor.scene
    want = new.to_dict()
    got = editor.graph().to_dict()
    for d in (want, got):
        for n in d["nodes"]:
            n.pop("pos")
    assert got == want
    editor.set_graph(float_graph())  # anything else shown: the marks and ghosts go
    assert old_b.scene() is None and editor.scene.ghost_wires == {}
    assert all(not i.mark for i in editor.scene.nodes.values())


# ----- checker, picture, space ------------------------------------------------------------------
def test_checker_decorates_nodes_and_grab_png_draws_the_graph(editor, qtbot, tmp_path):
    from openbrains.engine.checks import check_graph

    g = token_graph()
    g.connect("t", "d", uid="bad")  # token ids into a dense layer: the checker rejects it
    g.connect("d", "o", uid="w9")
    editor.set_checker(check_graph)
    editor.set_graph(g)
    qtbot.waitUntil(lambda: editor.last_check is not None, timeout=5000)
    item = editor.scene.nodes["d"]
    assert item.error and item.error in item.toolTip()
    # an edit is checked again after the debounce
    editor.remove_items(edge_uids=["bad"])
    assert editor.connect_ports("r", "d")
    qtbot.waitUntil(lambda: not editor.scene.nodes["d"].error, timeout=5000)
    assert editor.last_check["compiles"]
    assert editor.scene.nodes["m"].check["params"] == 256 * 16
    assert editor.scene.nodes["m"].check["shape"]["channels"] == 16
    assert editor.view.status.isVisible() and "compiles" in editor.view.status.text()

    path = editor.grab_png(tmp_path / "graph.png")
    img = QImage(str(path))
    assert not img.isNull() and img.width() > 600 and img.height() > 100
    small = img.scaled(120, 40)
    values = [small.pixelColor(x, y).lightness() for x in range(120) for y in range(40)]
    mean = sum(values) / len(values)
    variance = sum((v - mean) ** 2 for v in values) / len(values)
    assert variance > 50


def test_zoomed_out_canvas_draws_plain_cards_with_their_state(editor, qtbot):
    """Below ``LOD_SIMPLE`` cards lose their body text but keep a big title, colour and
    state outlines."""
    from PySide6.QtGui import QPainter

    from openbrains.canvas.items.node import LOD_SIMPLE, LOD_TITLE_MIN

    editor.set_graph(float_graph())
    editor.select(["a"])
    editor.freeze_selection(True)
    editor.select(["b"])
    images = []
    for zoom in (1.0, (LOD_SIMPLE + LOD_TITLE_MIN) / 2, LOD_TITLE_MIN / 2):
        editor.view.set_zoom(zoom)
        editor.view.centerOn(editor.scene.nodes["a"])
        img = QImage(editor.view.viewport().size(), QImage.Format.Format_ARGB32_Premultiplied)
        painter = QPainter(img)
        editor.view.render(painter)
        painter.end()
        centre = editor.view.mapFromScene(editor.scene.nodes["a"].scenePos())
        assert img.pixelColor(centre).lightness() > 38  # the card (48), not the canvas (30)
        images.append(img)
    assert images[0] != images[1] != images[2]


def test_space_requests_start_pause_and_f_fits(editor, qtbot):
    editor.set_graph(float_graph())
    with qtbot.waitSignal(editor.startPauseRequested, timeout=1000):
        key(qtbot, editor, Qt.Key.Key_Space)
    editor.view.set_zoom(0.2)
    key(qtbot, editor, Qt.Key.Key_F)
    assert editor.view.zoom() > 0.3
    before = editor.view.zoom()
    at = QPointF(300, 200)
    wheel = QWheelEvent(
        at,
        QPointF(editor.view.viewport().mapToGlobal(at.toPoint())),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(editor.view.viewport(), wheel)
    assert editor.view.zoom() > before * 1.2
    names = {a.text() for a in editor.actions()}
    assert {"&Copy", "&Paste", "D&uplicate", "&Delete", "&Fit view"} <= names


def test_canvas_never_imports_torch():
    code = (
        "import sys, openbrains.canvas.editor, openbrains.canvas.scene, openbrains.canvas.inspector, openbrains.canvas.palette, "
        "openbrains.canvas.commands, openbrains.canvas.theme, openbrains.canvas.catalog, "
        "openbrains.canvas.view, openbrains.canvas.items; "
        "bad = [m for m in sys.modules if m == 'torch' or m.startswith(('openbrains.nodes', 'openbrains.engine.units'))]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
