"""The graph editor widget: scene + view + undo stack + actions, over one ``Graph``.

The ``Graph`` held by the editor's document is the single source of truth. Every edit —
from the mouse, the keyboard, the inspector or this class's public methods — is a
``QUndoCommand`` (``canvas.commands``) that changes the graph; the scene items are then
brought in step with it. What needs torch (shapes, parameter counts, errors) comes from a
checker callback the app supplies, run ~150 ms after the last edit.

Public API (what ``app/`` uses)::

    editor = GraphEditor(parent)
    editor.set_catalog(catalog_json())          # the units, as plain data
    editor.set_checker(check_graph)             # Graph -> {"compiles", "error", "params", "nodes"}
    editor.set_graph(graph, keep_undo=False)    # show a graph (keep_undo: as an undoable step)
    editor.insert_graph(graph, text, select, on_apply)  # an app-made edit (a graft), one step
    editor.graph()                              # a copy of the graph being edited
    editor.show_graph_animated(graph)           # follow the champion: fresh layout, changes marked
    editor.palette, editor.inspector            # widgets to dock
    editor.actions()                            # QActions with shortcuts, for menus
    signals: graphChanged(), selectionChanged(list), statusMessage(str), startPauseRequested()
"""

from __future__ import annotations

import atexit
import copy
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson
from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeyEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import QLineEdit, QMenu, QVBoxLayout, QWidget

from openbrains.canvas import theme
from openbrains.canvas.catalog import TOKENS, Catalog
from openbrains.canvas.commands import (
    AddItemsCommand,
    InsertGraphCommand,
    MoveNodesCommand,
    RemoveItemsCommand,
    RenameCommand,
    ReplaceGraphCommand,
    SetFlagsCommand,
    SetParamCommand,
)
from openbrains.canvas.follow import GraphDiff, show_changes
from openbrains.canvas.inspector import Inspector
from openbrains.canvas.items.node import WIDTH as NODE_WIDTH
from openbrains.canvas.palette import QuickAddPopup, UnitPalette
from openbrains.canvas.scene import GraphScene
from openbrains.canvas.view import GraphView
from openbrains.engine.errors import GraphError
from openbrains.engine.graph import Edge, Graph, Node, new_uid
from openbrains.engine.layout import LAYER_DX, ROW_DY, layered_positions

SUBGRAPH_MIME = "application/x-openbrains-subgraph"
_clipboard_release_registered = False


def _release_clipboard_at_exit() -> None:
    """Our QMimeData has a Python wrapper; left in the clipboard, Qt frees it from its own
    exit handlers after Python has finalised, which crashes the process (SIGSEGV in
    shiboken). Clearing our copy while Python still runs avoids that."""
    global _clipboard_release_registered
    if _clipboard_release_registered:
        return
    _clipboard_release_registered = True

    def release() -> None:
        if QGuiApplication.instance() is None:
            return
        clipboard = QGuiApplication.clipboard()
        mime = clipboard.mimeData()
        if mime is not None and mime.hasFormat(SUBGRAPH_MIME):
            clipboard.clear()

    atexit.register(release)


SUBGRAPH_FORMAT = "openbrains.subgraph"
CHECK_DELAY_MS = 150
PASTE_OFFSET = (40.0, 40.0)
CONTEXT_MENU = (
    "quick_add",
    None,
    "cut",
    "copy",
    "paste",
    "duplicate",
    "delete",
    "rename",
    None,
    "freeze",
    "freeze_untrainable",
    "unfreeze",
    None,
    "auto_layout",
    "fit",
)

Checker = Callable[[Graph], dict[str, Any]]
PointLike = QPointF | tuple[float, float] | list[float]


class _Document:
    """What the undo commands edit: the graph, plus a hook back to the editor."""

    def __init__(self, editor: GraphEditor) -> None:
        self.graph = Graph()
        self._editor = editor

    def graph_edited(self, kind: str, select: list[str] | None = None) -> None:
        self._editor._on_edited(kind, select)


def _point(p: PointLike) -> tuple[float, float]:
    if isinstance(p, QPointF):
        return (float(p.x()), float(p.y()))
    return (float(p[0]), float(p[1]))


def layout_missing(graph: Graph) -> Graph:
    """Give nodes without a position a layered one; placed nodes keep theirs (in place)."""
    if all(n.pos is not None for n in graph.nodes.values()):
        return graph
    try:
        positions = layered_positions(graph)
    except Exception:  # a cycle (a broken file): lay out in insertion order
        positions = {u: (i * LAYER_DX, 0.0) for i, u in enumerate(graph.nodes)}
    placed = [n.pos for n in graph.nodes.values() if n.pos is not None]
    for uid, node in graph.nodes.items():
        if node.pos is None:
            node.pos = _free_spot(positions[uid], placed)
            placed.append(node.pos)
    return graph


_QUOTED_UID = re.compile(r"'([a-z0-9_]{1,32})'")


def named_check(result: dict[str, Any], graph: Graph) -> dict[str, Any]:
    """The checker's result with the nodes its messages name by uid (``node '629f6fbe'``)
    named as the canvas shows them (``node 'label'``): a uid means nothing to a person."""

    def name(text: Any) -> Any:
        if not isinstance(text, str):
            return text
        return _QUOTED_UID.sub(
            lambda m: (
                f"'{graph.nodes[m.group(1)].title}'" if m.group(1) in graph.nodes else m.group(0)
            ),
            text,
        )

    out = dict(result)
    out["error"] = name(result.get("error"))
    nodes = result.get("nodes")
    if isinstance(nodes, dict):
        out["nodes"] = {
            uid: ({**info, "error": name(info.get("error"))} if isinstance(info, dict) else info)
            for uid, info in nodes.items()
        }
    return out


def _free_spot(
    p: tuple[float, float], taken: list[tuple[float, float] | None]
) -> tuple[float, float]:
    """``p``, moved down a row at a time until no node sits on it."""
    x, y = p
    for _ in range(200):
        if not any(
            q is not None and abs(q[0] - x) < NODE_WIDTH and abs(q[1] - y) < ROW_DY * 0.75
            for q in taken
        ):
            break
        y += ROW_DY
    return (x, y)


class GraphEditor(QWidget):
    graphChanged = Signal()
    selectionChanged = Signal(list)
    statusMessage = Signal(str)
    startPauseRequested = Signal()
    checked = Signal(object)  # the checker's latest result

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = _Document(self)
        self.catalog = Catalog()
        self.undo_stack = QUndoStack(self)
        self.scene = GraphScene(self)
        self.scene.can_wire = lambda s, sp, d, dp: self.can_connect(s, d, dp, src_port=sp)
        self.view = GraphView(self.scene, self)
        # the palette and inspector are separate widgets for the app to dock
        self.palette = UnitPalette()
        self.inspector = Inspector()
        self.quick_add = QuickAddPopup(self)
        self.rename_edit = QLineEdit(self.view.viewport())
        self.rename_edit.hide()
        self.rename_edit.installEventFilter(self)
        self.rename_edit.setStyleSheet(
            f"background: {theme.COLORS['panel']}; border: 1px solid {theme.COLORS['accent']};"
            "border-radius: 4px; padding: 1px 4px;"
        )
        self._rename_uid: str | None = None

        self._checker: Checker | None = None
        self.last_check: dict[str, Any] | None = None
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self.check_now)
        self._placed: set[str] = set()  # nodes the user placed by hand in this session
        self._syncing = False
        self._last_selection: list[str] = []
        self._quick_add_pos = QPointF()
        self._shown_once = False
        self.last_diff = GraphDiff()  # what the last followed graph changed
        self._pending_view: dict[str, Any] | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)

        s = self.scene
        s.wireRequested.connect(lambda a, ap, b, bp: self.connect_ports(a, b, bp, src_port=ap))
        s.nodesDragged.connect(self._on_nodes_dragged)
        s.dragFinished.connect(lambda uids: self._placed.update(uids))
        s.renameRequested.connect(self.rename)
        s.quickAddRequested.connect(self.open_quick_add)
        s.selectionChanged.connect(self._on_scene_selection)
        self.view.unitDropped.connect(lambda name, pos: self.add_unit(name, pos))
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.palette.unitActivated.connect(lambda name: self.add_unit(name))
        self.quick_add.chosen.connect(lambda name: self.add_unit(name, self._quick_add_pos))
        self.inspector.paramEdited.connect(self.set_param)
        self.inspector.labelEdited.connect(self.rename_node)
        self.inspector.flagsEdited.connect(self.set_flags)
        self._build_actions()
        self._sync_all()

    # ----- actions ----------------------------------------------------------------------
    def _build_actions(self) -> None:
        ctx = Qt.ShortcutContext.WidgetWithChildrenShortcut
        self.action_map: dict[str, QAction] = {}

        def add(
            key: str,
            text: str,
            slot: Callable[[], Any] | None,
            shortcuts: Iterable[QKeySequence | str] = (),
            context: Qt.ShortcutContext = ctx,
            target: QWidget | None = None,
            action: QAction | None = None,
        ) -> QAction:
            a = action or QAction(text, self)
            seqs = [QKeySequence(s) if isinstance(s, str) else s for s in shortcuts]
            if seqs:
                a.setShortcuts(seqs)
            a.setShortcutContext(context)
            if slot is not None:
                a.triggered.connect(lambda _checked=False: slot())
            (target or self).addAction(a)
            self.action_map[key] = a
            return a

        def separator() -> None:
            sep = QAction(self)
            sep.setSeparator(True)
            self.addAction(sep)

        win = Qt.ShortcutContext.WindowShortcut
        add(
            "undo",
            "&Undo",
            None,
            [QKeySequence.StandardKey.Undo],
            win,
            action=self.undo_stack.createUndoAction(self, "&Undo"),
        )
        add(
            "redo",
            "&Redo",
            None,
            ["Ctrl+Shift+Z", "Ctrl+Y"],
            win,
            action=self.undo_stack.createRedoAction(self, "&Redo"),
        )
        separator()
        add("cut", "Cu&t", self.cut, [QKeySequence.StandardKey.Cut])
        add("copy", "&Copy", self.copy, [QKeySequence.StandardKey.Copy])
        add("paste", "&Paste", self.paste, [QKeySequence.StandardKey.Paste])
        add("duplicate", "D&uplicate", self.duplicate, ["Ctrl+D"])
        add("delete", "&Delete", self.delete_selection, ["Del", "Backspace"])
        add("select_all", "Select &all", self.select_all, [QKeySequence.StandardKey.SelectAll])
        add("rename", "&Rename node", lambda: self.rename(), ["F2"])
        add("quick_add", "Add &unit…", lambda: self.open_quick_add(), ["Tab"])
        separator()
        add("freeze", "&Freeze selection", lambda: self.freeze_selection(True), ["Ctrl+K"])
        add(
            "freeze_untrainable",
            "Freeze selection and stop &training it",
            lambda: self.freeze_selection(True, also_untrainable=True),
            ["Ctrl+Alt+K"],
        )
        add(
            "unfreeze",
            "U&nfreeze selection",
            lambda: self.freeze_selection(False),
            ["Ctrl+Shift+K"],
        )
        separator()
        add("auto_layout", "Auto &layout", lambda: self.auto_layout(), ["Ctrl+L"])
        add(
            "auto_layout_all",
            "Auto layout &everything",
            lambda: self.auto_layout(keep_placed=False),
            ["Ctrl+Shift+L"],
        )
        add("fit", "&Fit view", self.fit, ["F"])
        # Space belongs to the canvas only (not the Edit menu): it starts/pauses the run.
        add(
            "start_pause",
            "Start / pause evolution",
            self.startPauseRequested.emit,
            ["Space"],
            target=self.view,
        )

    def action(self, key: str) -> QAction:
        return self.action_map[key]

    def _context_menu(self, pos: QPoint) -> None:
        scene_pos = self.view.mapToScene(pos)
        node = self.scene.node_at(scene_pos)
        if node is not None and not node.isSelected():
            self.select([node.uid])
        menu = QMenu(self)
        for key in CONTEXT_MENU:
            if key is None:
                menu.addSeparator()
            else:
                menu.addAction(self.action_map[key])
        self._quick_add_pos = scene_pos
        menu.exec(self.view.viewport().mapToGlobal(pos))

    # ----- catalog, checker, graph ---------------------------------------------------------
    def set_catalog(self, catalog: list[dict[str, Any]] | Catalog) -> None:
        self.catalog = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
        self.palette.set_catalog(self.catalog)
        self.quick_add.set_catalog(self.catalog)
        self.inspector.set_catalog(self.catalog)
        self._sync_all()

    def set_checker(self, fn: Checker | None) -> None:
        """``fn(graph) -> {"compiles", "error", "params", "nodes": {uid: {...}}}``, or None."""
        self._checker = fn
        if fn is None:
            self._check_timer.stop()
            self.last_check = None
            self.scene.set_check(None)
            self._refresh_inspector()
            self._update_status_chip()
        else:
            self._schedule_check()

    def set_graph(self, graph: Graph, keep_undo: bool = False, relayout: bool = False) -> None:
        """Show ``graph`` (a copy). Nodes without a position get a layered one; with
        ``relayout`` every node does (``canvas.follow``: an evolved graph, whose stored
        positions are its ancestors'). With ``keep_undo`` the replacement is an undoable
        step; otherwise the history is cleared."""
        g = graph.copy() if relayout else layout_missing(graph.copy())
        self._cancel_gestures()
        if keep_undo:
            self.undo_stack.push(ReplaceGraphCommand(self.doc, g, "Replace graph"))
            return
        self.undo_stack.clear()
        self.doc.graph = g
        self._placed = set()
        self.last_check = None
        self.last_diff = GraphDiff()
        self._pending_view = None  # a view saved for another graph
        self.scene.clear_ghosts()
        if relayout:
            show_changes(self.scene, g, None, self.catalog)
        self._sync_all()
        self.scene.set_marks({})
        self.scene.set_check(None)
        self._update_status_chip()
        self._schedule_check()
        self.fit()

    def insert_graph(
        self,
        graph: Graph,
        text: str,
        select: Iterable[str] = (),
        on_apply: Callable[[bool], None] | None = None,
    ) -> None:
        """Replace the graph with ``graph``, which the app made from it (Edit → Insert from
        file…), as one undoable step that selects ``select``; ``on_apply`` carries what
        goes with it (``canvas.commands.InsertGraphCommand``)."""
        self._cancel_gestures()
        self.undo_stack.push(InsertGraphCommand(self.doc, graph, text, select, on_apply))

    def graph(self) -> Graph:
        """A copy of the graph being edited."""
        return self.doc.graph.copy()

    @property
    def current_graph(self) -> Graph:
        """The live graph (read it, do not change it: edits go through commands)."""
        return self.doc.graph

    def check_now(self) -> dict[str, Any] | None:
        """Run the checker at once (normally debounced after each edit)."""
        self._check_timer.stop()
        if self._checker is None:
            return None
        try:
            result = self._checker(self.doc.graph.copy())
        except Exception as exc:  # the checker must never take the editor down
            result = {"compiles": False, "error": f"check failed: {exc}", "params": 0, "nodes": {}}
        raw = str(result.get("error") or "")
        result = named_check(result, self.doc.graph)
        self.last_check = result
        self.scene.set_check(result, raw)
        self._refresh_inspector()
        self._update_status_chip()
        self.checked.emit(result)
        return result

    def _schedule_check(self) -> None:
        if self._checker is not None:
            self._check_timer.start()

    def _update_status_chip(self) -> None:
        r = self.last_check
        if r is None or not self.doc.graph.nodes:
            self.view.set_status("", None)
            return
        if r.get("compiles"):
            self.view.set_status(f"compiles · {int(r.get('params') or 0):,} parameters", True)
        else:
            err = str(r.get("error") or "does not compile")
            self.view.set_status(err if len(err) < 110 else err[:107] + "…", False)

    # ----- keeping the widgets in step --------------------------------------------------------
    def _sync_all(self) -> None:
        self._syncing = True
        try:
            self.scene.sync(self.doc.graph, self.catalog)
        finally:
            self._syncing = False
        self._on_scene_selection(force=True)

    def _on_edited(self, kind: str, select: list[str] | None) -> None:
        self._syncing = True
        try:
            self.scene.sync(self.doc.graph, self.catalog)
            if select:
                self.scene.select_uids(select)
        finally:
            self._syncing = False
        if kind == "move":
            self._on_scene_selection()
        else:
            self._on_scene_selection(force=True)
            self._schedule_check()
        if not self.doc.graph.nodes:
            self._update_status_chip()
        self.graphChanged.emit()

    def _on_scene_selection(self, force: bool = False) -> None:
        if self._syncing:
            return
        uids = self.selected_uids()
        if uids != self._last_selection:
            self._last_selection = uids
            self.selectionChanged.emit(uids)
            self._refresh_inspector()
        elif force:
            self._refresh_inspector()

    def _refresh_inspector(self) -> None:
        self.inspector.show_nodes(self.doc.graph, self.scene.selected_node_uids(), self.last_check)

    def _cancel_gestures(self) -> None:
        self.scene.cancel_wire()
        self._finish_rename(commit=False)
        self.quick_add.hide()

    # ----- selection ----------------------------------------------------------------------
    def selected_uids(self) -> list[str]:
        """Selected node uids (graph order), then selected wire uids."""
        return self.scene.selected_node_uids() + self.scene.selected_wire_uids()

    def select(self, uids: Iterable[str]) -> None:
        self.scene.select_uids(list(uids))

    def select_all(self) -> None:
        self.select(self.doc.graph.nodes)

    # ----- edits --------------------------------------------------------------------------
    def add_unit(self, name: str, pos: PointLike | None = None) -> str | None:
        """Add a node of unit ``name`` centred at ``pos`` (scene coordinates; the view's
        centre by default). Returns its uid, or None for a unit the catalog lacks."""
        spec = self.catalog.get(name)
        if spec is None:
            self.statusMessage.emit(f"Unknown unit {name!r}")
            return None
        g = self.doc.graph
        xy = _point(pos) if pos is not None else _point(self.view.center())
        node = Node(
            uid=new_uid(taken=g.uids()),
            unit=name,
            params=self.catalog.new_params(name, g),
            version=spec.version,
            pos=xy,
        )
        self.undo_stack.push(AddItemsCommand(self.doc, [node], text=f"Add {name}"))
        self._placed.add(node.uid)
        return node.uid

    def can_connect(
        self, src_uid: str, dst_uid: str, dst_port: str = "in", src_port: str = "out"
    ) -> tuple[bool, str]:
        """Would a wire ``src.src_port → dst.dst_port`` be accepted? ``(ok, reason)``."""
        g = self.doc.graph
        src, dst = g.nodes.get(src_uid), g.nodes.get(dst_uid)
        if src is None or dst is None:
            return False, f"no node {src_uid if src is None else dst_uid!r}"
        if src_uid == dst_uid:
            return False, "a node cannot feed itself"
        sp = next((p for p in self.catalog.output_ports(src, g) if p.name == src_port), None)
        if sp is None:
            return False, f"{src.title} has no output {src_port!r}"
        dp = next((p for p in self.catalog.input_ports(dst, g) if p.name == dst_port), None)
        if dp is None:
            return False, f"{dst.title} has no input {dst_port!r}"
        if not dp.accepts(sp.kind):
            if sp.kind == TOKENS:
                return False, (
                    f"{src.title} gives token ids, which only a token port (an embedding) "
                    f"takes; {dst.title} takes float features"
                )
            return False, (
                f"{dst.title} takes token ids; only an input with a vocabulary can feed it"
            )
        for e in g.edges.values():
            if (e.src, e.src_port, e.dst, e.dst_port) == (src_uid, src_port, dst_uid, dst_port):
                return False, f"{src.title} already feeds {dst.title}"
        if dp.kind == TOKENS and g.in_edges(dst_uid, dst_port):
            return False, f"the token port of {dst.title} takes exactly one wire"
        if g.would_cycle(src_uid, dst_uid):
            return False, (
                f"that wire would make a cycle: {src.title} already depends on {dst.title}"
            )
        return True, ""

    def connect_ports(
        self, src_uid: str, dst_uid: str, dst_port: str = "in", src_port: str = "out"
    ) -> bool:
        """Wire ``src → dst`` as the mouse does; refused wires say why in statusMessage."""
        ok, reason = self.can_connect(src_uid, dst_uid, dst_port, src_port)
        if not ok:
            self.statusMessage.emit(f"Cannot connect: {reason}")
            return False
        g = self.doc.graph
        edge = Edge(
            uid=new_uid(taken=g.uids()),
            src=src_uid,
            dst=dst_uid,
            src_port=src_port,
            dst_port=dst_port,
        )
        text = f"Connect {g.nodes[src_uid].title} → {g.nodes[dst_uid].title}"
        self.undo_stack.push(AddItemsCommand(self.doc, edges=[edge], text=text))
        return True

    def remove_items(self, node_uids: Iterable[str] = (), edge_uids: Iterable[str] = ()) -> bool:
        nodes = [u for u in node_uids if u in self.doc.graph.nodes]
        edges = [u for u in edge_uids if u in self.doc.graph.edges]
        if not nodes and not edges:
            return False
        if nodes:
            text = f"Delete {len(nodes)} node{'s' if len(nodes) > 1 else ''}"
        else:
            text = f"Delete {len(edges)} wire{'s' if len(edges) > 1 else ''}"
        self.undo_stack.push(RemoveItemsCommand(self.doc, nodes, edges, text=text))
        return True

    def delete_selection(self) -> bool:
        return self.remove_items(self.scene.selected_node_uids(), self.scene.selected_wire_uids())

    def move_nodes(self, positions: dict[str, PointLike], text: str = "Move") -> None:
        """Move nodes (centres, scene coordinates) as one undoable step."""
        g = self.doc.graph
        after = {u: _point(p) for u, p in positions.items() if u in g.nodes}
        before = {u: g.nodes[u].pos for u in after}
        if before != after:
            self.undo_stack.push(MoveNodesCommand(self.doc, before, after, text=text))
            self._placed.update(after)

    def _on_nodes_dragged(
        self,
        before: dict[str, tuple[float, float]],
        after: dict[str, tuple[float, float]],
        key: int,
    ) -> None:
        self.undo_stack.push(MoveNodesCommand(self.doc, before, after, "Move", merge_key=key))

    def set_param(self, uid: str, name: str, value: Any) -> bool:
        """Change one param (checked against its declared type and range)."""
        node = self.doc.graph.nodes.get(uid)
        if node is None:
            return False
        if node.frozen:
            self.statusMessage.emit(f"{node.title} is frozen; unfreeze it to change its params")
            self._refresh_inspector()
            return False
        spec = self.catalog.get(node.unit)
        ps = spec.param(name) if spec is not None else None
        if ps is None:
            self.statusMessage.emit(f"{node.unit} has no param {name!r}")
            return False
        ok, value, reason = ps.check(value)
        if not ok:
            self.statusMessage.emit(f"Cannot set {node.title}.{name}: {reason}")
            self._refresh_inspector()
            return False
        if (
            name in node.params
            and node.params[name] == value
            and type(node.params[name]) is type(value)
        ):
            return True
        self.undo_stack.push(SetParamCommand(self.doc, uid, name, value))
        return True

    def rename_node(self, uid: str, label: str) -> bool:
        node = self.doc.graph.nodes.get(uid)
        if node is None:
            return False
        label = label.strip()
        default = str(node.params.get("name") or node.unit)
        if label == default and not node.label:
            label = ""
        if label == node.label:
            return False
        self.undo_stack.push(RenameCommand(self.doc, uid, label))
        return True

    def set_flags(
        self, uids: Iterable[str], frozen: bool | None = None, trainable: bool | None = None
    ) -> bool:
        cmd = SetFlagsCommand(self.doc, list(uids), frozen, trainable, text="Set flags")
        if cmd.is_noop():
            self._refresh_inspector()
            return False
        self.undo_stack.push(cmd)
        return True

    def freeze_selection(self, frozen: bool = True, also_untrainable: bool = False) -> bool:
        """Freeze (or unfreeze) the selected nodes in one undoable step. ``also_untrainable``
        also stops gradients (freezing) or restores them (unfreezing)."""
        uids = self.scene.selected_node_uids()
        if not uids:
            self.statusMessage.emit("Select the nodes to " + ("freeze" if frozen else "unfreeze"))
            return False
        trainable = (not frozen) if also_untrainable else None
        n = len(uids)
        what = f"{n} node{'s' if n > 1 else ''}"
        cmd = SetFlagsCommand(
            self.doc, uids, frozen, trainable, text=("Freeze " if frozen else "Unfreeze ") + what
        )
        if cmd.is_noop():
            return False
        self.undo_stack.push(cmd)
        if frozen:
            extra = " and stops training them" if also_untrainable else ""
            self.statusMessage.emit(f"Froze {what}: evolution keeps them as they are{extra}")
        else:
            self.statusMessage.emit(f"Unfroze {what}")
        return True

    def auto_layout(self, keep_placed: bool = True) -> bool:
        """Lay the graph out in layers (topological generations). Nodes the user placed by
        hand in this session keep their place unless ``keep_placed`` is False."""
        g = self.doc.graph
        probe = g.copy()
        keep = self._placed if keep_placed else set()
        for uid, node in probe.nodes.items():
            if uid not in keep:
                node.pos = None
        layout_missing(probe)
        before = {u: n.pos for u, n in g.nodes.items()}
        after = {u: probe.nodes[u].pos for u in g.nodes}
        if before == after:
            self.statusMessage.emit("The graph is already laid out")
            return False
        self.undo_stack.push(MoveNodesCommand(self.doc, before, after, text="Auto layout"))
        if not keep_placed:
            self._placed.clear()
        return True

    # ----- clipboard ----------------------------------------------------------------------
    def selection_subgraph(self) -> dict[str, Any]:
        """The selected nodes and the wires among them, as plain data."""
        g = self.doc.graph
        uids = set(self.scene.selected_node_uids())
        return {
            "format": SUBGRAPH_FORMAT,
            "version": 1,
            "nodes": [n.to_dict() for u, n in g.nodes.items() if u in uids],
            "edges": [e.to_dict() for e in g.edges.values() if e.src in uids and e.dst in uids],
        }

    def copy(self) -> bool:
        data = self.selection_subgraph()
        if not data["nodes"]:
            self.statusMessage.emit("Nothing selected to copy")
            return False
        raw = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
        mime = QMimeData()
        mime.setData(SUBGRAPH_MIME, raw)
        mime.setText(raw.decode())
        QGuiApplication.clipboard().setMimeData(mime)
        _release_clipboard_at_exit()
        n = len(data["nodes"])
        self.statusMessage.emit(f"Copied {n} node{'s' if n > 1 else ''}")
        return True

    def cut(self) -> bool:
        return self.copy() and self.delete_selection()

    def paste(self) -> list[str]:
        """Paste the clipboard's sub-graph with fresh uids, offset from the originals;
        wires to nodes outside it are dropped. Returns the new node uids."""
        mime = QGuiApplication.clipboard().mimeData()
        raw: bytes | None = None
        if mime is not None and mime.hasFormat(SUBGRAPH_MIME):
            raw = bytes(mime.data(SUBGRAPH_MIME).data())
        elif mime is not None and mime.hasText():
            raw = mime.text().encode()
        if not raw:
            self.statusMessage.emit("The clipboard holds no graph")
            return []
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            self.statusMessage.emit("The clipboard holds no graph")
            return []
        return self.insert_subgraph(data, text="Paste")

    def duplicate(self) -> list[str]:
        data = self.selection_subgraph()
        if not data["nodes"]:
            self.statusMessage.emit("Nothing selected to duplicate")
            return []
        return self.insert_subgraph(data, text="Duplicate")

    def insert_subgraph(self, data: Any, text: str = "Paste") -> list[str]:
        try:
            if not isinstance(data, dict):
                raise GraphError("not an object")
            nodes = [Node.from_dict(d) for d in data.get("nodes") or []]
            edges = [Edge.from_dict(d) for d in data.get("edges") or []]
        except GraphError as exc:
            self.statusMessage.emit(f"Cannot paste: {exc}")
            return []
        if not nodes:
            self.statusMessage.emit("The clipboard holds no nodes")
            return []
        g = self.doc.graph
        taken = set(g.uids())
        mapping: dict[str, str] = {}
        for n in nodes:
            new = new_uid(taken=taken)
            taken.add(new)
            mapping[n.uid] = new
            n.uid = new
        kept: list[Edge] = []
        for e in edges:
            if e.src in mapping and e.dst in mapping:
                e.uid = new_uid(taken=taken)
                taken.add(e.uid)
                e.src, e.dst = mapping[e.src], mapping[e.dst]
                kept.append(e)
        centre = _point(self.view.center())
        for i, n in enumerate(nodes):
            if n.pos is None:
                n.pos = (centre[0] + i * 30.0, centre[1] + i * 30.0)
        existing = {n.pos for n in g.nodes.values()}
        k = 1
        while k < 50 and any(
            (n.pos[0] + PASTE_OFFSET[0] * k, n.pos[1] + PASTE_OFFSET[1] * k) in existing
            for n in nodes
        ):
            k += 1
        for n in nodes:
            n.pos = (n.pos[0] + PASTE_OFFSET[0] * k, n.pos[1] + PASTE_OFFSET[1] * k)
        self.undo_stack.push(AddItemsCommand(self.doc, nodes, kept, text=text))
        return [n.uid for n in nodes]

    # ----- rename, quick add ------------------------------------------------------------------
    def rename(self, uid: str | None = None) -> bool:
        """Open the inline label editor on ``uid`` (default: the single selected node)."""
        if uid is None:
            sel = self.scene.selected_node_uids()
            if len(sel) != 1:
                self.statusMessage.emit("Select one node to rename")
                return False
            uid = sel[0]
        item = self.scene.nodes.get(uid)
        node = self.doc.graph.nodes.get(uid)
        if item is None or node is None:
            return False
        self.view.ensureVisible(item, 20, 20)
        rect = self.view.mapFromScene(item.mapToScene(item.header_rect())).boundingRect()
        self._rename_uid = uid
        self.rename_edit.setText(node.title)
        self.rename_edit.setGeometry(rect.adjusted(2, 1, -2, -1))
        self.rename_edit.show()
        self.rename_edit.selectAll()
        self.rename_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    def _finish_rename(self, commit: bool) -> None:
        uid, self._rename_uid = self._rename_uid, None
        if uid is None:
            return
        self.rename_edit.hide()
        if commit:
            self.rename_node(uid, self.rename_edit.text())
        self.view.setFocus()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.rename_edit:
            if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
                if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                    self._finish_rename(commit=True)
                    return True
                if event.key() == Qt.Key.Key_Escape:
                    self._finish_rename(commit=False)
                    return True
            elif event.type() == QEvent.Type.FocusOut and self._rename_uid is not None:
                self._finish_rename(commit=True)
        return super().eventFilter(obj, event)

    def open_quick_add(self, scene_pos: QPointF | None = None) -> None:
        """The quick-add search at ``scene_pos`` (default: the mouse, or the view centre)."""
        pos = scene_pos if scene_pos is not None else self.view.cursor_scene_pos()
        self._quick_add_pos = QPointF(pos)
        at = self.view.viewport().mapToGlobal(self.view.mapFromScene(pos))
        self.quick_add.popup(at)

    # ----- view -----------------------------------------------------------------------------
    def fit(self) -> None:
        self.view.fit_rect(self.scene.items_rect())

    def view_state(self) -> dict[str, Any]:
        return self.view.view_state()

    def set_view_state(self, state: dict[str, Any]) -> None:
        """Zoom and centre as saved; before the canvas is first shown (it has its real
        size only then) they wait, and take the place of the first fit."""
        if self._shown_once:
            self.view.set_view_state(state)
        else:
            self._pending_view = dict(state)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._shown_once:  # the view has its real size only now
            self._shown_once = True
            QTimer.singleShot(0, self._first_view)

    def _first_view(self) -> None:
        state, self._pending_view = self._pending_view, None
        if state:
            self.view.set_view_state(state)
        else:
            self.fit()

    def grab_png(self, path: str | Path, scale: float = 1.0) -> Path:
        """The whole graph on the canvas background as a PNG (independent of zoom)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        img = self.scene.render_image(scale=scale)
        if not img.save(str(path), "PNG"):
            raise OSError(f"cannot write {path}")
        return path

    # ----- live: follow the champion ----------------------------------------------------------
    def show_graph_animated(self, graph: Graph) -> GraphDiff:
        """Follow the champion: show ``graph`` laid out afresh (``canvas.follow``), its
        added, changed and removed nodes and wires marked against the graph shown before
        until the next one comes; what was added glows for a moment. Not an edit: the undo
        history is cleared."""
        new = graph.copy()
        old = self.doc.graph
        self._cancel_gestures()
        self.undo_stack.clear()
        self.doc.graph = new
        self._placed = set()
        self._syncing = True
        try:
            self.last_diff = show_changes(self.scene, new, old, self.catalog)
        finally:
            self._syncing = False
        self._on_scene_selection(force=True)
        self.scene.glow([u for u in self.last_diff.added if u in new.nodes], theme.color("new"))
        self._schedule_check()
        self.fit()
        return self.last_diff

    def animating(self) -> bool:
        return self.scene.animating()

    # ----- misc -------------------------------------------------------------------------------
    def uids_for(self, unit: str) -> list[str]:
        """Uids of the nodes of ``unit`` (graph order); handy for scripts and tests."""
        return [u for u, n in self.doc.graph.nodes.items() if n.unit == unit]

    def node(self, uid: str) -> Node:
        """A copy of one node."""
        return copy.deepcopy(self.doc.graph.nodes[uid])
