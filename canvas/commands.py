"""Every edit of the canvas as a ``QUndoCommand`` on the editor's ``QUndoStack``.

Commands change the editor's ``Graph`` (the single source of truth) and then tell the
document what changed; the scene items are rebuilt from the graph. Undo restores the
graph exactly, insertion order included, so ``graph.to_dict()`` after undo equals the one
before the edit (the file writer and crossover both care about order).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from PySide6.QtGui import QUndoCommand

from openbrains.engine.graph import Edge, Graph, Node

MOVE_ID = 1001
PARAM_ID = 1002

Pos = tuple[float, float] | None
_MISSING = object()


class Document(Protocol):
    """What commands edit: the graph, and a hook to refresh everything that shows it."""

    graph: Graph

    def graph_edited(self, kind: str, select: list[str] | None = None) -> None: ...


def _insert_at(d: dict[str, Any], index: int, key: str, value: Any) -> None:
    """Insert ``key`` at position ``index`` of ``d`` in place (dicts keep order)."""
    items = list(d.items())
    items.insert(min(index, len(items)), (key, value))
    d.clear()
    d.update(items)


class EditCommand(QUndoCommand):
    kind = "edit"

    def __init__(self, doc: Document, text: str) -> None:
        super().__init__(text)
        self.doc = doc

    def _redo(self) -> list[str] | None:
        raise NotImplementedError

    def _undo(self) -> list[str] | None:
        raise NotImplementedError

    def redo(self) -> None:
        select = self._redo()
        self.doc.graph_edited(self.kind, select)

    def undo(self) -> None:
        select = self._undo()
        self.doc.graph_edited(self.kind, select)


class AddItemsCommand(EditCommand):
    """Add nodes and wires (a new unit, a wire, a paste, a duplicate)."""

    kind = "structure"

    def __init__(
        self,
        doc: Document,
        nodes: Iterable[Node] = (),
        edges: Iterable[Edge] = (),
        text: str = "Add",
    ) -> None:
        super().__init__(doc, text)
        self.nodes = [copy.deepcopy(n) for n in nodes]
        self.edges = [copy.deepcopy(e) for e in edges]

    def _redo(self) -> list[str]:
        g = self.doc.graph
        for n in self.nodes:
            g.nodes[n.uid] = copy.deepcopy(n)
        for e in self.edges:
            g.edges[e.uid] = copy.deepcopy(e)
        return [n.uid for n in self.nodes]

    def _undo(self) -> list[str]:
        g = self.doc.graph
        for e in self.edges:
            g.edges.pop(e.uid, None)
        for n in self.nodes:
            g.nodes.pop(n.uid, None)
        return []


class RemoveItemsCommand(EditCommand):
    """Remove nodes (with every wire touching them) and wires; undo puts each back at its
    old place in the graph's order."""

    kind = "structure"

    def __init__(
        self,
        doc: Document,
        node_uids: Iterable[str] = (),
        edge_uids: Iterable[str] = (),
        text: str = "Delete",
    ) -> None:
        super().__init__(doc, text)
        g = doc.graph
        self.node_uids = [u for u in g.nodes if u in set(node_uids)]
        gone = set(self.node_uids)
        wanted = set(edge_uids)
        self.edge_uids = [
            e.uid for e in g.edges.values() if e.uid in wanted or e.src in gone or e.dst in gone
        ]
        self._nodes: list[tuple[int, Node]] = []
        self._edges: list[tuple[int, Edge]] = []

    def _redo(self) -> list[str]:
        g = self.doc.graph
        node_index = {u: i for i, u in enumerate(g.nodes)}
        edge_index = {u: i for i, u in enumerate(g.edges)}
        self._nodes = [(node_index[u], g.nodes[u]) for u in self.node_uids if u in g.nodes]
        self._edges = [(edge_index[u], g.edges[u]) for u in self.edge_uids if u in g.edges]
        for _, e in self._edges:
            del g.edges[e.uid]
        for _, n in self._nodes:
            del g.nodes[n.uid]
        return []

    def _undo(self) -> list[str]:
        g = self.doc.graph
        for i, n in sorted(self._nodes, key=lambda t: t[0]):
            _insert_at(g.nodes, i, n.uid, n)
        for i, e in sorted(self._edges, key=lambda t: t[0]):
            _insert_at(g.edges, i, e.uid, e)
        return [n.uid for _, n in self._nodes] or [e.uid for _, e in self._edges]


class MoveNodesCommand(EditCommand):
    """Node positions before → after. Moves with the same ``merge_key`` (one mouse drag)
    merge into a single undo step; auto layout is one of these too."""

    kind = "move"

    def __init__(
        self,
        doc: Document,
        before: dict[str, Pos],
        after: dict[str, Pos],
        text: str = "Move",
        merge_key: int | None = None,
    ) -> None:
        super().__init__(doc, text)
        self.before = dict(before)
        self.after = dict(after)
        self.merge_key = merge_key

    def id(self) -> int:
        return MOVE_ID if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, MoveNodesCommand) or other.merge_key != self.merge_key:
            return False
        for uid, pos in other.before.items():
            self.before.setdefault(uid, pos)
        self.after.update(other.after)
        return True

    def _apply(self, positions: dict[str, Pos]) -> None:
        g = self.doc.graph
        for uid, pos in positions.items():
            if uid in g.nodes:
                g.nodes[uid].pos = None if pos is None else (float(pos[0]), float(pos[1]))

    def _redo(self) -> None:
        self._apply(self.after)

    def _undo(self) -> None:
        self._apply(self.before)


class SetParamCommand(EditCommand):
    """One param of one node; consecutive edits of the same param merge into one step."""

    kind = "params"

    def __init__(self, doc: Document, uid: str, name: str, value: Any) -> None:
        node = doc.graph.nodes[uid]
        super().__init__(doc, f"Set {node.title}.{name}")
        self.uid, self.name, self.value = uid, name, value
        old = node.params.get(name, _MISSING)
        self.old = old if old is _MISSING else copy.deepcopy(old)

    def id(self) -> int:
        return PARAM_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetParamCommand) or (other.uid, other.name) != (
            self.uid,
            self.name,
        ):
            return False
        self.value = other.value
        if self.old is not _MISSING and self.old == self.value:
            self.setObsolete(True)
        return True

    def _redo(self) -> None:
        self.doc.graph.nodes[self.uid].params[self.name] = copy.deepcopy(self.value)

    def _undo(self) -> None:
        params = self.doc.graph.nodes[self.uid].params
        if self.old is _MISSING:
            params.pop(self.name, None)
        else:
            params[self.name] = copy.deepcopy(self.old)


class RenameCommand(EditCommand):
    """A node's label (empty: show the unit name or the input/output name)."""

    kind = "label"

    def __init__(self, doc: Document, uid: str, label: str) -> None:
        node = doc.graph.nodes[uid]
        super().__init__(doc, f"Rename {node.title}")
        self.uid, self.label, self.old = uid, label, node.label

    def _redo(self) -> None:
        self.doc.graph.nodes[self.uid].label = self.label

    def _undo(self) -> None:
        self.doc.graph.nodes[self.uid].label = self.old


class SetFlagsCommand(EditCommand):
    """``frozen``/``trainable`` on a set of nodes in one step (None leaves a flag alone)."""

    kind = "flags"

    def __init__(
        self,
        doc: Document,
        uids: Iterable[str],
        frozen: bool | None = None,
        trainable: bool | None = None,
        text: str = "Set flags",
    ) -> None:
        super().__init__(doc, text)
        g = doc.graph
        self.old = {u: (g.nodes[u].frozen, g.nodes[u].trainable) for u in uids if u in g.nodes}
        self.new = {
            u: (
                f if frozen is None else bool(frozen),
                t if trainable is None else bool(trainable),
            )
            for u, (f, t) in self.old.items()
        }

    def is_noop(self) -> bool:
        return self.old == self.new

    def _apply(self, flags: dict[str, tuple[bool, bool]]) -> None:
        g = self.doc.graph
        for uid, (frozen, trainable) in flags.items():
            g.nodes[uid].frozen = frozen
            g.nodes[uid].trainable = trainable

    def _redo(self) -> None:
        self._apply(self.new)

    def _undo(self) -> None:
        self._apply(self.old)


class ReplaceGraphCommand(EditCommand):
    """Show another graph as an undoable step (``set_graph(g, keep_undo=True)``)."""

    kind = "replace"

    def __init__(self, doc: Document, graph: Graph, text: str = "Replace graph") -> None:
        super().__init__(doc, text)
        self.old = doc.graph.copy()
        self.new = graph.copy()

    def _redo(self) -> None:
        self.doc.graph = self.new.copy()

    def _undo(self) -> None:
        self.doc.graph = self.old.copy()


class InsertGraphCommand(ReplaceGraphCommand):
    """A graph the app made from the one being edited (Edit → Insert from file…: a graft)
    as one step. What belongs with each state but is not the canvas' to hold (the graft's
    weights) goes through ``on_apply(True)`` on redo and ``on_apply(False)`` on undo."""

    kind = "structure"

    def __init__(
        self,
        doc: Document,
        graph: Graph,
        text: str,
        select: Iterable[str] = (),
        on_apply: Callable[[bool], None] | None = None,
    ) -> None:
        super().__init__(doc, graph, text)
        self.select = list(select)
        self.on_apply = on_apply

    def _redo(self) -> list[str]:
        super()._redo()
        if self.on_apply is not None:
            self.on_apply(True)
        return self.select

    def _undo(self) -> list[str]:
        super()._undo()
        if self.on_apply is not None:
            self.on_apply(False)
        return []
