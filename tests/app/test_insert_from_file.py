"""Edit → Insert from file… in the real window (offscreen): another sample graph shown
read-only, nodes picked in it, grafted in as one undoable step that computes what the graph
computed before; bad input is a plain one-line dialog and changes nothing."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFileDialog, QMessageBox

from openbrains.app.insertlink import graft_into_canvas, insert_from_file, read_source
from openbrains.app.main import MainWindow
from openbrains.app.project import Project
from openbrains.canvas.insertdialog import UID, InsertFromFileDialog
from openbrains.engine.compile import compile_graph
from openbrains.engine.graph import Graph

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_graphs"
GRU, DENSE = "6baa9455", "42485e3a"  # text.graph's recurrent body and its read-out
CLASSIFIER, CONV = "82e2e662", "c2094cac"  # digits.graph's classifier and its first conv


pytestmark = pytest.mark.usefixtures("home")


@pytest.fixture
def window(qtbot: Any, tmp_path: Path) -> Iterator[MainWindow]:
    """The digits sample (trained weights in the project), no engine process."""
    path = tmp_path / "digits.graph"
    shutil.copy(SAMPLES / "digits.graph", path)
    w = MainWindow(Project.open(path), start_engine=False)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.project.dirty = False
    w.close()
    w.deleteLater()


def _outputs(graph: Graph, weights: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    brain = compile_graph(graph)
    brain.load_weights(weights, strict=True)
    gen = torch.Generator().manual_seed(0)
    xs = [
        torch.randn(4, brain.input_specs[n].time or 3, brain.input_specs[n].channels, generator=gen)
        for n in brain.input_names
    ]
    with torch.no_grad():
        out = brain.eval()(*xs)
    return list(out) if isinstance(out, tuple) else [out]


def _pick_file(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))


def test_insert_grafts_the_chosen_nodes_as_one_undoable_step(
    qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = window
    before, before_weights = w.editor.graph().to_dict(), dict(w.project.weights)
    steps = w.editor.undo_stack.count()
    _pick_file(monkeypatch, SAMPLES / "text.graph")
    answered: list[tuple[list[str], str | None]] = []

    def answer() -> None:  # the user's clicks, in the real dialog
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, InsertFromFileDialog)
        text = read_source(SAMPLES / "text.graph").graph
        assert set(dialog.scene.nodes) == set(text.nodes)  # drawn as the canvas draws it
        insert = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert not insert.isEnabled()  # nothing chosen yet
        for i in range(dialog.nodes.count()):  # pick two in the list…
            item = dialog.nodes.item(i)
            item.setSelected(item.data(UID) in (GRU, DENSE))
        assert sorted(dialog.scene.selected_node_uids()) == sorted([GRU, DENSE])  # …shown there
        assert "2 nodes: gru" in dialog.summary.text() and insert.isEnabled()
        answered.append(dialog.chosen())
        dialog.accept()

    QTimer.singleShot(0, answer)
    w.menu_actions["insert_from_file"].trigger()
    assert answered == [([GRU, DENSE], None)]
    after = w.project.graph
    # two nodes copied, one boundary adapter, one closed gate: 6 + 4
    assert len(after.nodes) == len(before["nodes"]) + 4
    assert sum(n.unit == "gru" for n in after.nodes.values()) == 1
    assert w.editor.undo_stack.count() == steps + 1
    assert w.editor.undo_stack.undoText() == "Insert 2 nodes from text.graph"
    assert set(w.editor.selected_uids()) >= {u for u, n in after.nodes.items() if n.unit == "gru"}
    assert w.project.dirty
    # function-preserving: the new graph with the project's new weights computes the old
    old = _outputs(Graph.from_dict(before), before_weights)
    for a, b in zip(old, _outputs(after, w.project.weights), strict=True):
        torch.testing.assert_close(b, a, rtol=0, atol=1e-5)
    after_dict, after_weights = after.to_dict(), dict(w.project.weights)

    w.editor.undo_stack.undo()
    assert w.project.graph.to_dict() == before
    assert w.project.weights.keys() == before_weights.keys()
    assert all(torch.equal(w.project.weights[k], v) for k, v in before_weights.items())
    w.editor.undo_stack.redo()
    assert w.project.graph.to_dict() == after_dict
    assert all(torch.equal(w.project.weights[k], v) for k, v in after_weights.items())


def _refused(qtbot: Any, w: MainWindow, box: QMessageBox | None, words: str) -> None:
    assert box is not None and box.icon() == QMessageBox.Icon.Warning
    assert words in box.text() and "\n" not in box.text(), box.text()
    assert "Traceback" not in box.text()
    box.close()


def test_bad_input_is_a_plain_line_and_changes_nothing(
    qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    w = window
    before, steps = w.project.graph.to_dict(), w.editor.undo_stack.count()

    def unchanged() -> None:
        assert w.project.graph.to_dict() == before and not w.project.dirty
        assert w.editor.undo_stack.count() == steps

    corrupt = tmp_path / "corrupt.graph"
    corrupt.write_bytes((SAMPLES / "xor.graph").read_bytes()[:300])  # cut short
    _pick_file(monkeypatch, corrupt)
    _refused(qtbot, w, insert_from_file(w), "corrupt.graph")
    unchanged()

    newer = tmp_path / "newer.graph"  # a file from a future version of the format
    out = io.BytesIO()
    with (
        zipfile.ZipFile(SAMPLES / "xor.graph") as src,
        zipfile.ZipFile(out, "w") as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "manifest.json":
                manifest = json.loads(data)
                manifest["format_version"] = 99
                data = json.dumps(manifest).encode()
            dst.writestr(info, data)
    newer.write_bytes(out.getvalue())
    _pick_file(monkeypatch, newer)
    _refused(qtbot, w, insert_from_file(w), "99")
    unchanged()

    own = read_source(SAMPLES / "digits.graph")
    _refused(qtbot, w, graft_into_canvas(w, own, ["nope1234"], None), "no node 'nope1234'")
    unchanged()
    # the classifier reads the flatten node; attached at the conv before it, its copy would
    # read what it feeds
    box = graft_into_canvas(w, own, [CLASSIFIER], CONV)
    assert box is not None and "choose another node to attach at" in box.text()
    _refused(qtbot, w, box, "would make a cycle")
    unchanged()
