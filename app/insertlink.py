"""Edit → Insert from file…: nodes of another `.graph` grafted into the graph on the canvas.

The user picks a file and, in ``canvas.insertdialog``, the nodes to copy and where they
attach; the engine's graft (``engine.graft.graft_files``: boundary adapters and a residual
gate that starts closed) makes the new graph and its weights, so the graph computes what it
computed before until it trains. The canvas gets it as one undoable command; the weights
ride along (``on_apply``): when the canvas shows the project's seed they become the
project's weights, and undo puts the old ones back. On an individual of the run only the
graph changes (its weights live in the run; Inject inherits them, the gate keeps them
meaning what they meant). Bad input is a plain one-line dialog and changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

from openbrains.app.messages import show_error
from openbrains.engine.errors import OpenBrainsError

if TYPE_CHECKING:
    from openbrains.app.main import MainWindow
    from openbrains.engine.format import GraphFile

TITLE = "Insert from file"


def insert_from_file(w: MainWindow) -> QMessageBox | None:
    """The whole gesture: choose a file, choose nodes, graft. Returns the error dialog, if
    one was shown."""
    start = str(w.project.path.parent) if w.project.path is not None else ""
    path, _ = QFileDialog.getOpenFileName(w, TITLE, start, "Open Brains graphs (*.graph)")
    if not path:
        return None
    try:
        doc = read_source(Path(path))
    except OpenBrainsError as exc:
        return show_error(w, TITLE, str(exc))
    from openbrains.canvas.insertdialog import InsertFromFileDialog

    assert doc.graph is not None
    dialog = InsertFromFileDialog(
        w, doc.graph, Path(path).name, w.editor.current_graph, w.editor.catalog
    )
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    nodes, at = dialog.chosen()
    return graft_into_canvas(w, doc, nodes, at, Path(path).name)


def read_source(path: Path) -> GraphFile:
    """The other file, read as data (a corrupt, truncated or newer file: one line)."""
    from openbrains.engine.format import load

    doc = load(path)
    if doc.graph is None:
        raise OpenBrainsError(f"{path.name} is a {doc.kind} file with no graph to take nodes from")
    return doc


def in_window_words(text: str) -> str:
    """The graft's command-line words (``--at``, ``--nodes``) as the dialog names them."""
    return (
        text.replace("choose another --at", "choose another node to attach at")
        .replace(" (--at)", "")
        .replace("--at ", "the node to attach at, ")
        .replace(" (--nodes UID[,UID…])", "")
    )


def graft_into_canvas(
    w: MainWindow, src: GraphFile, nodes: list[str], at: str | None, name: str = "the file"
) -> QMessageBox | None:
    """Graft ``nodes`` of ``src`` into the canvas graph (at ``at``) as one undoable step;
    a plain dialog (returned) and no change when the graft is refused."""
    from openbrains.engine.format import GraphFile
    from openbrains.engine.graft import graft_files

    on_seed = w.opened_from is None
    dst = w.editor.graph()
    old_weights = dict(w.project.weights)
    try:
        doc, done = graft_files(
            src,
            nodes,
            GraphFile(kind="graph", graph=dst, weights=old_weights if on_seed else {}),
            at,
        )
    except OpenBrainsError as exc:
        names = {uid: n.title for uid, n in dst.nodes.items()}
        return show_error(w, TITLE, in_window_words(str(exc).splitlines()[0]), names)
    assert doc.graph is not None
    new_weights = dict(doc.weights)

    def apply(forward: bool) -> None:
        if on_seed:
            w.project.weights = dict(new_weights if forward else old_weights)

    n = len(done.uids)
    w.editor.insert_graph(
        doc.graph,
        f"Insert {n} node{'s' if n != 1 else ''} from {name}",
        select=list(done.uids.values()),
        on_apply=apply,
    )
    gate = doc.graph.nodes[done.gate].title if done.gate in doc.graph.nodes else "a gate"
    w.statusBar().showMessage(
        f"inserted {n} node{'s' if n != 1 else ''} from {name} behind {gate}, closed: the "
        "graph computes what it did until it trains (Ctrl+Z undoes it)",
        8000,
    )
    return None
