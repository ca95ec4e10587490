"""The main window as a user meets it: real widgets offscreen, real project files, the real
engine service process for the live run. Dialogs are the only thing answered by the test."""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from openbrains.app import recovery
from openbrains.app.main import WINDOW_SIZE, MainWindow, make_app, offer_recovery, screenshot
from openbrains.app.project import Project
from openbrains.app.settings import recent_files
from openbrains.canvas.plots import SYMBOL_PX
from openbrains.engine.compile import compile_graph
from openbrains.engine.evolve.inherit import child_brain
from openbrains.engine.evolve.mutate import mutate
from openbrains.engine.evolve.random import SizeBounds
from openbrains.engine.graph import Graph

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_graphs"
SAMPLE_NAMES = ("xor", "digits", "text")
SHOTS = ROOT / "docs" / "screenshots"
CTRL = Qt.KeyboardModifier.ControlModifier
Button = QMessageBox.StandardButton


@pytest.fixture(scope="module", autouse=True)
def themed(qapp: QApplication) -> Iterator[None]:
    """The app's own look for this module, then the test session's look back."""
    palette, font, sheet = qapp.palette(), qapp.font(), qapp.styleSheet()
    style = qapp.style().name()
    make_app()
    yield
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setFont(font)
    qapp.setStyle(style)


pytestmark = pytest.mark.usefixtures("home")


def sample_copy(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.graph"
    shutil.copy(SAMPLES / f"{name}.graph", path)
    return path


class Asked:
    """Stands in for ``QMessageBox.question``: records the question, gives ``answer``."""

    def __init__(self, answer: Button) -> None:
        self.answer = answer
        self.titles: list[str] = []

    def __call__(self, _parent: Any, title: str, _text: str, *_: Any) -> Button:
        self.titles.append(title)
        return self.answer


def focus_canvas(qtbot: Any, w: MainWindow) -> None:
    w.activateWindow()
    w.editor.view.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is w.editor.view)


# ----- projects --------------------------------------------------------------------------
def test_open_edit_save_as_and_open_again_round_trip(
    open_window: Callable[..., MainWindow], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = sample_copy(tmp_path, "digits")
    original = Project.open(src)
    w = open_window(Project.open(src))
    assert w.editor.graph().to_dict() == original.graph.to_dict()
    uid = w.editor.add_unit("dropout", (300.0, 260.0))
    assert uid is not None and w.project.dirty and w.windowTitle().startswith("digits.graph *")
    w.runbar.workers.setValue(2)  # a run setting, through the run bar's own widget
    assert w.project.evolver["workers"] == 2

    out = tmp_path / "saved" / "mine.graph"
    out.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    assert w.save_as()
    assert not w.project.dirty and "*" not in w.windowTitle()
    saved = Project.open(out)
    assert saved.graph.to_json() == w.editor.graph().to_json()
    assert uid in saved.graph.nodes
    assert saved.task == original.task
    assert saved.evolver == {**original.evolver, "workers": 2}
    assert saved.extra == original.extra  # notes and anything else a project carries
    assert saved.view and "zoom" in saved.view

    again = open_window()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(out), ""))
    again.open_dialog()
    assert again.project.path == out
    assert again.editor.graph().to_json() == saved.graph.to_json()
    assert again.project.to_file().project == saved.to_file().project
    assert again.runbar.workers.value() == 2
    assert str(out.resolve()) in recent_files()


def test_unsaved_changes_prompt_cancel_keeps_the_window_discard_closes(
    open_window: Callable[..., MainWindow], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = open_window(Project.open(sample_copy(tmp_path, "xor")))
    asked = Asked(Button.Cancel)
    monkeypatch.setattr(QMessageBox, "question", asked)
    assert w.close()  # nothing edited: closes without asking
    assert asked.titles == []

    w = open_window(Project.open(sample_copy(tmp_path, "xor")))
    w.editor.add_unit("dense", (200.0, 200.0))
    assert w.project.dirty
    assert not w.close()
    assert asked.titles == ["Unsaved changes"] and w.isVisible()
    asked.answer = Button.Discard
    assert w.close()
    assert asked.titles == ["Unsaved changes"] * 2 and not w.isVisible()
    assert Project.open(tmp_path / "xor.graph").graph.to_json() != w.editor.graph().to_json()


def test_autosave_writes_a_recovery_file_and_the_next_start_recovers_it(
    open_window: Callable[..., MainWindow],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: Any,
) -> None:
    src = sample_copy(tmp_path, "xor")
    w = open_window(Project.open(src))
    w.autosave_timer.setInterval(50)  # the minute, shortened
    w.autosave_timer.start()
    path = recovery.autosave_path(w.project, w.session)
    qtbot.wait(150)
    assert not path.exists()  # nothing unsaved, nothing written
    w.editor.add_unit("layernorm", (200.0, 180.0))
    edited = w.editor.graph()
    qtbot.waitUntil(path.exists, timeout=5000)
    # the crash: no closeEvent, so the file stays; the next start offers it
    w.autosave_timer.stop()
    asked = Asked(Button.Yes)
    monkeypatch.setattr(QMessageBox, "question", asked)
    nxt = open_window()
    offer_recovery(nxt)
    assert asked.titles == ["Recover unsaved work"]
    assert nxt.project.path == src and nxt.project.dirty and "*" in nxt.windowTitle()
    assert nxt.editor.graph().to_json() == edited.to_json()
    assert nxt.project.task == {"name": "xor"}
    assert not path.exists() and recovery.find_recoverable() == []
    # saving the recovered work writes the original file; a clean close leaves nothing
    assert nxt.save()
    assert Project.open(src).graph.to_json() == edited.to_json()
    w.project.dirty = False
    assert w.close() and nxt.close()
    assert recovery.find_recoverable() == []


# ----- freezing --------------------------------------------------------------------------
def test_frozen_subgraph_survives_many_engine_mutations(
    open_window: Callable[..., MainWindow], tmp_path: Path, qtbot: Any
) -> None:
    """Freeze conv2d → pool with the mouse and Ctrl+K; the seed the window gives the engine
    then keeps them, params and weights, through 150 mutations."""
    w = open_window(Project.open(sample_copy(tmp_path, "digits")))
    g = w.editor.current_graph
    conv = next(u for u, n in g.nodes.items() if n.unit == "conv2d")
    pool = next(u for u, n in g.nodes.items() if n.unit == "pool")
    focus_canvas(qtbot, w)
    view = w.editor.view
    a, b = w.editor.scene.nodes[conv], w.editor.scene.nodes[pool]
    top_left = view.mapFromScene(a.sceneBoundingRect().topLeft() - QPointF(20, 20))
    bottom_right = view.mapFromScene(b.sceneBoundingRect().bottomRight() + QPointF(20, 20))
    vp = view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=top_left)
    for i in range(1, 7):
        qtbot.mouseMove(vp, top_left + (bottom_right - top_left) * (i / 6))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=bottom_right)
    assert sorted(w.editor.scene.selected_node_uids()) == sorted([conv, pool])
    qtbot.keyClick(vp, Qt.Key.Key_K, CTRL)
    assert w.project.graph.nodes[conv].frozen and w.project.graph.nodes[pool].frozen
    assert w.editor.scene.nodes[conv].frozen

    seed = w.seed_graph()
    assert seed is not None
    frozen = [conv, pool]
    before = {u: seed.nodes[u].to_dict() for u in frozen}
    prefixes = tuple(f"node/{u}/" for u in frozen)
    bounds = SizeBounds(max_nodes=10, max_width=48)
    for chain in range(3):
        rng = random.Random(chain)
        graph = seed.copy()
        brain = compile_graph(graph, seed=chain)
        reference = {k: v.clone() for k, v in brain.weights().items() if k.startswith(prefixes)}
        assert reference
        for step in range(50):
            m = mutate(graph, brain.weights(), rng, bounds)
            brain, _ = child_brain(m.graph, m.weights, seed=step)
            graph = m.graph
            for u in frozen:
                assert graph.nodes[u].to_dict() == before[u], (chain, step, m.detail)
            now = {k: v for k, v in brain.weights().items() if k.startswith(prefixes)}
            assert now.keys() == reference.keys(), (chain, step, m.detail)
            for k, t in reference.items():
                assert torch.equal(now[k], t), (chain, step, k, m.detail)


# ----- the live run ----------------------------------------------------------------------
def wait_engine(qtbot: Any, w: MainWindow, cond: Callable[[], bool], timeout: int) -> None:
    """``qtbot.waitUntil``, failing with the engine's log (its stderr) for a reason."""
    try:
        qtbot.waitUntil(cond, timeout=timeout)
    except qtbot.TimeoutError:
        log = w.log.toPlainText()[-3000:]
        raise AssertionError(f"timed out after {timeout} ms; engine log:\n{log}") from None


def test_live_run_on_xor_updates_docks_follows_the_champion_and_injects(
    open_window: Callable[..., MainWindow], tmp_path: Path, qtbot: Any
) -> None:
    """The real engine process: the docks take each individual in place, the canvas follows
    the champion, a plot click opens an individual, and its edit joins with its lineage."""
    w = open_window(Project.open(sample_copy(tmp_path, "xor")), start_engine=True)
    seen: list[tuple[dict[str, Any], int, int]] = []
    model = w.population.model

    def on_event(kind: str, data: dict[str, Any]) -> None:  # runs after the window's slot
        if kind == "individual":
            seen.append((data, w.plots.count(), w.population.count()))

    w.client.event.connect(on_event)
    dense = next(u for u, n in w.editor.current_graph.nodes.items() if n.unit == "dense")
    w.editor.select([dense])
    assert w.editor.freeze_selection(True)
    w.population.follow_box.click()  # follow the champion, from the population dock
    assert w.follow_champion and w.follow_action.isChecked()
    redraws = w.plots.redraws
    w.start_pause()
    wait_engine(qtbot, w, lambda: len(seen) >= 5 and w.population.count() >= 3, 60_000)
    assert w.run_open and w.running and w.runbar.start_button.text() != "Start"

    # in place: every event was in the plots the moment it arrived, nothing was rebuilt
    for k, (_data, plotted, _alive) in enumerate(seen, start=1):
        assert plotted == k
    assert w.population.model is model
    done = [d for d, _, _ in seen if d["status"] == "done"]
    assert done and all(w.population.entry(d["id"]) is not None for d in done[-3:])
    qtbot.waitUntil(lambda: w.plots.redraws > redraws, timeout=5000)
    assert w.plots.best_series() and w.plots.pareto_points()
    w.plots.flush()
    assert w.plots.scatter_item.data.size == len(w.plots.s_ids) == len(done)
    assert w.population.champion is not None
    # the frozen node came back unchanged in every individual the engine made
    for d, _, _ in seen:
        node = Graph.from_json(d["graph"]).nodes[dense]
        assert node.frozen and node.params == w.project.graph.nodes[dense].params

    # the canvas follows the champion (with its loss curve); a newer one may come meanwhile
    qtbot.waitUntil(
        lambda: (
            w.opened_from is not None
            and w.opened_from == w.population.champion
            and w.plots.curve_data()[0] == w.opened_from
        ),
        timeout=10_000,
    )
    champ = w.opened_from
    champ_graph = Graph.from_json(next(d["graph"] for d, _, _ in seen if d["id"] == champ))
    assert set(w.editor.current_graph.nodes) == set(champ_graph.nodes)
    assert f"#{champ}" in w.canvas_label.text()
    assert w.project.graph.nodes[dense].frozen  # the seed is untouched by what is shown

    # a click on a point of the size/score plot opens that individual
    w.population.follow_box.click()
    assert not w.follow_champion and not w.follow_action.isChecked()
    for _attempt in range(3):  # points keep arriving while the run goes on
        w.plots.flush()
        aim = next(i for i in w.plots.s_ids if i != w.opened_from)
        with qtbot.waitSignal(w.plots.individualActivated, timeout=2000, raising=False) as clicked:
            click_scatter_point(qtbot, w, aim)
        if clicked.signal_triggered:
            break
    assert clicked.signal_triggered, "no click on a plotted point opened an individual"
    target = clicked.args[0]  # the aimed one, or one drawn under the same click
    gap = point_pos(w, target) - point_pos(w, aim)
    assert target == aim or gap.manhattanLength() <= SYMBOL_PX, (target, aim, gap)
    qtbot.waitUntil(lambda: w.opened_from == target, timeout=10_000)
    target_graph = Graph.from_json(next(d["graph"] for d, _, _ in seen if d["id"] == target))
    assert w.editor.graph().to_dict()["edges"] == target_graph.to_dict()["edges"]
    assert w.plots.curve_data()[0] == target
    assert w.population.current_id() in (target, None)  # it may have retired meanwhile

    # edit it by hand (unfreeze, change the activation) and inject: its parent is the target
    w.editor.select([dense])
    assert w.editor.freeze_selection(False)
    assert w.editor.set_param(dense, "activation", "relu")
    assert "edited" in w.canvas_label.text()
    assert w.project.graph.nodes[dense].params["activation"] == "tanh"  # the seed is not edited
    w.inject()
    wait_engine(qtbot, w, lambda: any(d.get("origin") == "hand" for d, _, _ in seen), 60_000)
    hand = next(d for d, _, _ in seen if d.get("origin") == "hand")
    assert hand["parents"] == [target] and f"#{target}" in hand["detail"]
    assert Graph.from_json(hand["graph"]).nodes[dense].params["activation"] == "relu"
    w.start_pause()  # pause
    qtbot.waitUntil(lambda: not w.running, timeout=20_000)
    w.use_as_seed()  # Run > Use the canvas graph as the seed
    assert w.opened_from is None and "seed" in w.canvas_label.text() and w.project.dirty
    assert w.project.graph.nodes[dense].params["activation"] == "relu"
    w.show_seed()
    assert w.editor.graph().to_json() == w.project.graph.to_json()

    # reopened later, the project shows its run (read from the run folder) before any Start
    assert w.save()
    w.close()
    again = open_window(Project.open(tmp_path / "xor.graph"))
    assert again.plots.count() >= len(seen) and again.population.count() >= 3
    assert again.population.champion is not None and again.metric_name == "accuracy"
    assert again.plots.curve_data()[0] == again.population.champion


def point_pos(w: MainWindow, ind: int) -> QPoint:
    """Where the size/score plot draws ``ind``, in its widget's pixels (after applying any
    pending auto-range, which pyqtgraph otherwise leaves until the next paint)."""
    w.plots.pareto.vb.prepareForPaint()
    i = w.plots.s_ids.index(ind)
    x, y = float(w.plots.s_logp.view()[i]), float(w.plots.s_score.view()[i])
    return w.plots.pareto_w.mapFromScene(w.plots.pareto.vb.mapViewToScene(QPointF(x, y)))


def click_scatter_point(qtbot: Any, w: MainWindow, ind: int) -> None:
    """A mouse click on the size/score plot's point of ``ind`` (pyqtgraph's own hit test)."""
    qtbot.mouseClick(w.plots.pareto_w.viewport(), Qt.MouseButton.LeftButton, pos=point_pos(w, ind))


# ----- screenshots ------------------------------------------------------------------------
def pixel_variance(img: QImage) -> float:
    small = img.scaled(160, 100)
    values = [small.pixelColor(x, y).lightness() for x in range(160) for y in range(100)]
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / len(values)


def dark_share(img: QImage) -> float:
    small = img.scaled(160, 100)
    dark = sum(small.pixelColor(x, y).lightness() < 80 for x in range(160) for y in range(100))
    return dark / 16000


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_screenshot_of_each_sample_is_a_real_dark_window(tmp_path: Path, name: str) -> None:
    out = screenshot(tmp_path / "shots" / f"{name}.png", SAMPLES / f"{name}.graph")
    img = QImage(str(out))
    assert (img.width(), img.height()) == WINDOW_SIZE
    assert pixel_variance(img) > 100, "blank screenshot"
    assert dark_share(img) > 0.6, "not the dark theme"
    committed = QImage(str(SHOTS / f"{name}.png"))  # the copies in docs/ (scripts/screenshots.py)
    assert (committed.width(), committed.height()) == WINDOW_SIZE
    assert pixel_variance(committed) > 100
