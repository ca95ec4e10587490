"""The Exchange dock in the real window (offscreen): a real exchange folder browsed as cards,
Open and Use as seed through checked pulls, Breed with champion in a real running search
(the engine process), File → Publish…, and a tampered brain shown as a plain dialog, never
opened."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from openbrains.app.main import MainWindow
from openbrains.app.project import Project
from openbrains.app.publishdialog import PublishChoice, PublishDialog, publish_choice
from openbrains.canvas.exchange import ExchangeDock, card_text
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.exchange.actions import browse, publish
from openbrains.engine.exchange.layout import BRAIN
from openbrains.engine.exchange.package import PublishRequest
from openbrains.engine.export import export_individual
from openbrains.engine.format import load
from openbrains.engine.format.identity import content_id
from openbrains.engine.graph import Graph
from openbrains.engine.store import Archive
from openbrains.engine.weights import decode_weights
from tests.exchange_kit import make_brain

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("home")


def _open_sample(
    qtbot: Any, tmp_path: Path, sample: str, engine: bool = False
) -> Iterator[MainWindow]:
    project_path = tmp_path / f"{sample}.graph"
    shutil.copy(ROOT / "sample_graphs" / f"{sample}.graph", project_path)
    project = Project.open(project_path)
    if engine:  # the smallest real search: two at a time, trained in the engine process
        project.evolver.update(population=2, workers=0)
    w = MainWindow(project, start_engine=engine)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.project.dirty = False
    w.close()
    w.deleteLater()


@pytest.fixture
def window(qtbot: Any, tmp_path: Path) -> Iterator[MainWindow]:
    """The xor sample: the exchange's brains are xor brains, so they fit its task."""
    yield from _open_sample(qtbot, tmp_path, "xor")


@pytest.fixture
def digits_window(qtbot: Any, tmp_path: Path) -> Iterator[MainWindow]:
    yield from _open_sample(qtbot, tmp_path, "digits")


@pytest.fixture
def running_window(qtbot: Any, tmp_path: Path) -> Iterator[MainWindow]:
    """The xor sample with its own engine process (started; the run opens on Start)."""
    yield from _open_sample(qtbot, tmp_path, "xor", engine=True)


@pytest.fixture
def exchange(tmp_path: Path) -> tuple[Path, list[str]]:
    """Two xor brains in a folder exchange (published without brain.onnx: the export is
    tested in tests/engine/test_exchange_onnx.py, and costs seconds a brain)."""
    share = tmp_path / "share"
    refs = [
        publish(
            PublishRequest(
                make_brain(tmp_path / f"{n}.graph", shift=s), name=n, license="mit", onnx=False
            ),
            share,
        )[0]
        for n, s in (("xor-one", 0.0), ("xor-two", 0.01))
    ]
    return share, refs


def _browse(qtbot: Any, w: MainWindow, place: Path) -> None:
    link = w.exchange
    link.widget.place.setEditText(str(place))
    link.widget.request_browse()
    qtbot.waitUntil(lambda: link.busy == 0 and link.widget.count() > 0, timeout=60_000)


def test_cards_open_and_use_as_seed(
    qtbot: Any, window: MainWindow, exchange: tuple[Path, list[str]]
) -> None:
    share, _refs = exchange
    link = window.exchange
    assert link.dock.windowTitle() == "Exchange"
    assert "Exchange" in [a.text() for a in window.view_menu.actions()]  # View lists it
    _browse(qtbot, window, share)
    assert link.widget.count() == 2
    texts = [link.widget.cards.item(i).text() for i in range(2)]
    assert all("xor (vector) · accuracy" in t and "mit" in t for t in texts)
    assert "individual #7 of run 'xor'" in texts[0]
    assert not link.widget.cards.item(0).icon().isNull()  # the topology thumbnail

    task_before = dict(window.project.task)
    link.widget.cards.setCurrentRow(0)
    ref = link.widget.selected_ref()
    link.widget.seed_button.click()
    qtbot.waitUntil(lambda: link.busy == 0 and window.project.dirty, timeout=60_000)
    pulled = load(Path(ref) / BRAIN)
    assert window.project.graph.to_dict() == pulled.graph.to_dict()
    assert content_id(window.project.graph, window.project.weights) == content_id(
        pulled.graph, pulled.weights
    )
    assert window.project.task == task_before  # continue on this project's task
    assert "is this project's seed" in window.statusBar().currentMessage()
    # Start sends the seed's trained weights with its graph (the engine keeps them)
    settings = window.run_settings()
    [sent] = window.seed_weights(settings)
    assert decode_weights(base64.b64decode(sent)).keys() == pulled.weights.keys()
    for name, tensor in decode_weights(base64.b64decode(sent)).items():
        assert torch.equal(tensor, pulled.weights[name])

    window.project.dirty = False
    link.widget.open_button.click()
    qtbot.waitUntil(
        lambda: (
            link.busy == 0
            and window.project.path is not None
            and "pulled" in str(window.project.path)
        ),
        timeout=60_000,
    )
    assert window.project.path.name == f"{content_id(pulled.graph, pulled.weights)}.graph"
    assert window.project.path.read_bytes() == (Path(ref) / BRAIN).read_bytes()


def test_a_brain_for_another_task_is_not_made_the_seed(
    qtbot: Any, digits_window: MainWindow, exchange: tuple[Path, list[str]]
) -> None:
    window = digits_window
    share, _refs = exchange
    link = window.exchange
    _browse(qtbot, window, share)
    before = window.project.graph.to_dict()
    link.widget.seed_button.click()
    qtbot.waitUntil(lambda: link.busy == 0 and link.last_message is not None, timeout=60_000)
    text = link.last_message.text()
    assert "task digits gives" in text and "Open it as its own project" in text
    assert "\n" not in text
    assert window.project.graph.to_dict() == before and not window.project.dirty
    link.last_message.close()
    # no run, no champion: Breed is off, and its tooltip says why in words
    assert not link.widget.breed_button.isEnabled()
    assert "start the run first" in link.widget.breed_button.toolTip()


def test_breed_with_champion_joins_the_running_search(
    qtbot: Any, running_window: MainWindow, exchange: tuple[Path, list[str]]
) -> None:
    """A real search on xor: the brain from the exchange, pulled and checked, is crossed
    with the champion in the engine; the child trains there and the archive keeps it with
    the champion as its parent, and both brains as its parents by content id."""
    w = running_window
    share, refs = exchange
    link = w.exchange
    _browse(qtbot, w, share)
    link.widget.cards.setCurrentRow(0)
    outside = browse(share)[0]
    assert link.widget.selected_ref() == outside.ref
    button = link.widget.breed_button
    assert not button.isEnabled() and "start the run first" in button.toolTip()
    seen: list[dict[str, Any]] = []
    w.client.event.connect(lambda kind, data: seen.append(data) if kind == "individual" else None)

    w.start_pause()
    _wait_engine(qtbot, w, lambda: w.population.champion is not None and button.isEnabled())
    assert "champion" in button.toolTip() and "cannot" not in button.toolTip()
    champion = w.population.champion
    button.click()

    def bred() -> list[dict[str, Any]]:  # the search's own crossovers say nothing of it
        return [d for d in seen if f"bred with {outside.name}" in str(d.get("detail"))]

    _wait_engine(qtbot, w, lambda: bool(bred()))
    child = bred()[0]  # (one, or one per sibling when the run trains siblings together)
    assert child["origin"] == "crossover" and child["status"] == "done", child
    assert child["parents"] == [champion]
    # an unrelated file: aligned by global id, none of its genes is the champion's
    assert "the child trains next (0 genes shared)" in link.widget.status.text()

    # a brain altered after it was listed: its pull is refused, a plain line, nothing sent
    two = next(r for r in refs if r != outside.ref)  # the other card
    data = bytearray((Path(two) / BRAIN).read_bytes())
    data[100] ^= 0xFF
    (Path(two) / BRAIN).write_bytes(bytes(data))
    link.widget.cards.setCurrentRow(link.widget.entries_order().index(two))
    assert button.isEnabled()
    births = len(seen)
    button.click()
    qtbot.waitUntil(lambda: link.busy == 0 and link.last_message is not None, timeout=60_000)
    text = link.last_message.text()
    assert "does not match the sha256" in text and "\n" not in text
    assert link.last_message.windowTitle() == "Exchange"
    link.last_message.close()
    assert not any(Path(two).name in str(d.get("detail")) for d in seen[births:])

    # a brain that came from this run (its champion, exported and published) shares genes
    run_dir = w.project.default_run_dir()
    ours, _ = export_individual(run_dir, None, w.project.path.parent / "ours.graph")
    ours_ref, _ = publish(PublishRequest(ours, name="xor-ours", onnx=False), share)
    _browse(qtbot, w, share)
    link.widget.cards.setCurrentRow(link.widget.entries_order().index(ours_ref))
    _wait_engine(qtbot, w, button.isEnabled)
    button.click()
    _wait_engine(qtbot, w, lambda: "xor-ours × champion" in link.widget.status.text())
    shared = int(link.widget.status.text().split("(")[-1].split()[0])
    assert shared >= 2, link.widget.status.text()  # at least the interface, by gid
    w.start_pause()  # pause
    qtbot.waitUntil(lambda: not w.running, timeout=20_000)

    archive = Archive(run_dir, readonly=True)
    try:
        rec = archive.get(int(child["id"]))
        mine = archive.get(champion)
        mine_id = content_id(
            Graph.from_json(mine.graph_json), decode_weights(archive.weights(champion))
        )
    finally:
        archive.close()
    assert rec.parents == [champion]
    parents = Graph.from_json(rec.graph_json).lineage["parents"]
    assert parents == [
        {"id": mine_id, "relation": "crossover"},
        {"id": outside.card.content_id, "relation": "crossover"},
    ]
    # exported, the child names both parents in its file
    path, _ = export_individual(run_dir, int(child["id"]), w.project.path.parent / "child.graph")
    exported = load(path).graph.lineage
    assert [p["id"] for p in exported["parents"]] == [mine_id, outside.card.content_id]
    assert exported["run_parents"] == [champion]


def _wait_engine(qtbot: Any, w: MainWindow, cond: Any, timeout: int = 90_000) -> None:
    try:
        qtbot.waitUntil(cond, timeout=timeout)
    except qtbot.TimeoutError:
        log = w.log.toPlainText()[-3000:]
        raise AssertionError(f"timed out after {timeout} ms; engine log:\n{log}") from None


def test_a_tampered_brain_is_a_plain_dialog_and_is_not_opened(
    qtbot: Any, window: MainWindow, exchange: tuple[Path, list[str]], home: Path
) -> None:
    share, _refs = exchange
    link = window.exchange
    _browse(qtbot, window, share)
    target = Path(link.widget.selected_ref())
    data = bytearray((target / BRAIN).read_bytes())
    data[100] ^= 0xFF
    (target / BRAIN).write_bytes(bytes(data))
    before = window.project.path
    link.widget.open_button.click()
    qtbot.waitUntil(lambda: link.busy == 0 and link.last_message is not None, timeout=60_000)
    assert "does not match the sha256" in link.last_message.text()
    assert link.last_message.icon() == QMessageBox.Icon.Warning
    assert "does not match" in link.widget.status.text()
    assert window.project.path == before
    assert not (home / "pulled").exists() or list((home / "pulled").iterdir()) == []
    link.last_message.close()


def test_file_publish_puts_a_brain_in_the_exchange(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    action = window.menu_actions["publish"]
    assert action in window.menuBar().actions()[0].menu().actions()
    brain = make_brain(tmp_path / "mine.graph")
    filled: list[PublishDialog] = []

    def fill() -> None:  # the user's answers, typed into the real dialog
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, PublishDialog)
        dialog.brain.setEditText(str(brain))
        dialog.dest.setText(str(tmp_path / "ex"))
        dialog.name.setText("mine")
        dialog.licence.setEditText("cc-by-4.0")
        dialog.description.setText("grown on a laptop")
        filled.append(dialog)
        dialog.accept()

    QTimer.singleShot(0, fill)
    action.trigger()
    assert filled
    link = window.exchange
    qtbot.waitUntil(lambda: link.busy == 0 and link.last_message is not None, timeout=60_000)
    assert link.last_message.windowTitle() == "Published", link.last_message.text()
    [entry] = browse(tmp_path / "ex")
    assert entry.card.description == "grown on a laptop" and entry.card.license == "cc-by-4.0"
    assert (Path(entry.ref) / BRAIN).read_bytes() == brain.read_bytes()
    assert (Path(entry.ref) / "brain.onnx").is_file() and "brain.onnx" in entry.card.files
    assert "without" not in link.last_message.text()
    link.last_message.close()

    # the run's champion, exported on the way (no run here: a one-line refusal)
    with pytest.raises(OpenBrainsError):
        publish_choice(
            PublishChoice(tmp_path / "no.run", None, None, "mit", ""), str(tmp_path / "ex")
        )
    assert len(browse(tmp_path / "ex")) == 1


def test_the_dock_alone(qtbot: Any) -> None:
    dock = ExchangeDock()
    qtbot.addWidget(dock)
    asked: list[tuple[str, str]] = []
    dock.browseRequested.connect(lambda place, task: asked.append((place, task)))
    dock.hub_button.click()
    assert asked == [("hf:", "")]
    assert not dock.open_button.isEnabled()
    card = {
        "name": "digits-3fa2", "params": 4521, "nodes": 9, "modality": "image", "license": "mit",
        "tasks": [{"name": "digits", "metric": "accuracy", "test": 0.97, "validation": 0.98}],
        "lineage": "individual #812 of run 'digits'", "base_models": ["alice/digits-small"],
        "plan": {"id": "mnist-10k", "version": 1, "sha256": "0" * 64},
    }  # fmt: skip
    entries = [
        {"ref": "hf:bob/digits-3fa2", "name": "digits-3fa2", "card": card},
        {
            "ref": "hf:eve/broken",
            "name": "broken",
            "card": None,
            "problem": "not an Open Brains card",
        },
    ]
    dock.set_entries("hf:", entries)
    assert dock.count() == 2 and dock.selected_ref() == "hf:bob/digits-3fa2"
    assert "4,521 params" in card_text(entries[0]) and "plan mnist-10k v1" in card_text(entries[0])
    assert "from alice/digits-small" in card_text(entries[0])
    opened: list[str] = []
    dock.openRequested.connect(opened.append)
    dock.open_button.click()
    assert opened == ["hf:bob/digits-3fa2"]
    # alone, the dock has no run to breed in, and says so; the app's check decides
    assert not dock.breed_button.isEnabled()
    assert "needs the main window's run" in dock.breed_button.toolTip()
    dock.breed_check = lambda entry: "" if entry["name"] == "digits-3fa2" else "not this one"
    dock.refresh_breed()
    assert dock.breed_button.isEnabled()
    bred: list[str] = []
    dock.breedRequested.connect(bred.append)
    dock.breed_button.click()
    assert bred == ["hf:bob/digits-3fa2"]
    dock.cards.setCurrentRow(1)  # a card that could not be read opens nothing
    assert not dock.open_button.isEnabled() and not dock.seed_button.isEnabled()
    assert not dock.breed_button.isEnabled()
    assert "its card could not be read" in dock.breed_button.toolTip()
