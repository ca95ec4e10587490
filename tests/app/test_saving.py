"""Saving you can trust, on real windows offscreen with real files: recovery keyed by the
project (not its path), samples that are never written to, run folders in the data folder
or beside the project and stored relative, zoom and pan restored, and a reopened project
browsable without a running search."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from openbrains.app import recovery
from openbrains.app.main import MainWindow, offer_recovery
from openbrains.app.places import runs_home, samples_dir
from openbrains.app.project import Project
from openbrains.engine.format import load
from tests.app.run_folder import make_run

pytestmark = pytest.mark.usefixtures("home")


class Asked:
    """Stands in for a question dialog: records what was asked, answers ``answer``."""

    def __init__(self, answer: QMessageBox.StandardButton) -> None:
        self.answer = answer
        self.titles: list[str] = []

    def __call__(self, _parent: Any, title: str, *_: Any, **__: Any) -> Any:
        self.titles.append(title)
        return self.answer


def save_dialog_answers(monkeypatch: pytest.MonkeyPatch, path: Path) -> list[str]:
    asked: list[str] = []

    def answer(_parent: Any, title: str, suggested: str, *_: Any, **__: Any) -> tuple:
        asked.append(suggested)
        return str(path), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", answer)
    return asked


def test_save_as_then_quit_then_start_shows_no_recovery_prompt(
    open_window: Callable[..., MainWindow], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = tmp_path / "first.graph"
    shutil.copy(samples_dir() / "xor.graph", first)
    w = open_window(Project.open(first))
    w.editor.add_unit("dense", (300.0, 200.0))
    written = w.autosave()  # the minute went by: an autosave of the edited project
    assert written is not None and written.exists()
    second = tmp_path / "second.graph"
    save_dialog_answers(monkeypatch, second)
    assert w.save_as()
    assert w.project.path == second and not written.exists()
    assert w.close()  # a clean quit
    asked = Asked(QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QMessageBox, "question", asked)
    again = open_window()  # the next start
    offer_recovery(again)
    assert asked.titles == [] and recovery.find_recoverable() == []


def test_a_crash_after_save_as_recovers_under_the_new_name(
    open_window: Callable[..., MainWindow], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = tmp_path / "first.graph"
    shutil.copy(samples_dir() / "xor.graph", first)
    w = open_window(Project.open(first))
    second = tmp_path / "second.graph"
    save_dialog_answers(monkeypatch, second)
    assert w.save_as()
    uid = w.editor.add_unit("layernorm", (200.0, 200.0))
    assert w.autosave() is not None
    w.autosave_timer.stop()  # the crash: no clean close
    found = recovery.find_recoverable()
    assert [item.original for item in found] == [str(second)]
    monkeypatch.setattr(QMessageBox, "question", Asked(QMessageBox.StandardButton.Yes))
    nxt = open_window()
    offer_recovery(nxt)
    assert nxt.project.path == second and uid in nxt.project.graph.nodes


def test_a_sample_is_a_template_ctrl_s_asks_where_and_never_writes_the_sample(
    open_window: Callable[..., MainWindow], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample = samples_dir() / "digits.graph"
    before = sample.read_bytes()
    w = open_window()
    assert w.open_sample("digits")
    w.editor.add_unit("dropout", (100.0, 300.0))
    # Save As pointed at the sample itself is refused, in words
    save_dialog_answers(monkeypatch, sample)
    monkeypatch.setattr(QMessageBox, "open", lambda box: None)
    assert not w.save()
    assert sample.read_bytes() == before and w.project.dirty
    # Ctrl+S: asks where (suggesting a place of the user's), writes there
    mine = tmp_path / "mine.graph"
    suggested = save_dialog_answers(monkeypatch, mine)
    w.menu_actions["save"].trigger()
    assert suggested and Path(suggested[0]).name == "digits.graph"
    assert Path(suggested[0]).parent != samples_dir()
    assert w.project.path == mine and w.project.template is None and not w.project.dirty
    assert sample.read_bytes() == before
    assert w.windowTitle().startswith("mine.graph")
    # File → Open of a sample's own file opens a template too
    other = open_window()
    assert other.open_path(sample)
    assert other.project.path is None and other.project.template == "digits"


def test_run_folders_live_in_the_data_folder_or_beside_the_project_stored_relative(
    tmp_path: Path,
) -> None:
    template = Project.open(samples_dir() / "xor.graph")
    run = template.assign_run_dir()
    assert template.run_base == "data" and run.parent == runs_home()
    assert not Path(template.run_dir or "").is_absolute() and template.dirty
    # saved somewhere, the run stays in the data folder, named relative to it
    (tmp_path / "a").mkdir()
    template.save(tmp_path / "a" / "xor.graph")
    stored = load(tmp_path / "a" / "xor.graph").project or {}
    assert stored["run_base"] == "data" and stored["run_dir"] == run.name
    assert Project.open(tmp_path / "a" / "xor.graph").default_run_dir() == run

    own = tmp_path / "b" / "mine.graph"
    own.parent.mkdir()
    shutil.copy(samples_dir() / "xor.graph", own)
    project = Project.open(own)
    assert project.assign_run_dir() == own.with_suffix(".run")
    project.save()
    stored = load(own).project or {}
    assert stored["run_base"] == "project" and stored["run_dir"] == "mine.run"
    assert str(tmp_path) not in str(stored)  # nothing of this machine's folders
    # Save As into another folder: the same run, reached from there
    (tmp_path / "c").mkdir()
    project.save(tmp_path / "c" / "renamed.graph")
    moved = Project.open(tmp_path / "c" / "renamed.graph")
    assert moved.default_run_dir().resolve() == own.with_suffix(".run").resolve()
    assert moved.run_dir == "../b/mine.run"
    # an older project with an absolute run folder is still read, once the user gave it
    # (a path in a file is used only with the user's say: app.trustlist)
    legacy = Project.open(own)
    legacy.run_dir = str(tmp_path / "elsewhere.run")
    assert legacy.default_run_dir() == own.with_suffix(".run")
    legacy.given_paths.add(legacy.run_dir)
    assert legacy.default_run_dir() == tmp_path / "elsewhere.run"


def test_a_shared_project_folder_keeps_its_history(
    open_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    """The project and its run folder copied to another place (another person's machine):
    the population is there, since nothing pointed at the author's folders."""
    author = tmp_path / "author"
    author.mkdir()
    shutil.copy(samples_dir() / "xor.graph", author / "xor-study.graph")
    project = Project.open(author / "xor-study.graph")
    family = make_run(project.assign_run_dir())
    project.save()
    shared = tmp_path / "someone-else" / "copy"
    shutil.copytree(author, shared)
    shutil.rmtree(author)
    w = open_window(Project.open(shared / "xor-study.graph"))
    assert w.population.count() == len(family.graphs)
    assert w.population.champion == family.champion


def test_zoom_and_pan_come_back_with_the_project(
    open_window: Callable[..., MainWindow],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: Any,
) -> None:
    path = tmp_path / "view.graph"
    shutil.copy(samples_dir() / "digits.graph", path)
    w = open_window(Project.open(path))
    w.editor.view.set_zoom(1.7)
    w.editor.view.centerOn(410.0, 35.0)
    state = w.editor.view_state()
    save_dialog_answers(monkeypatch, path)
    assert w.save()
    again = open_window(Project.open(path))
    qtbot.wait(300)  # past the first fit a freshly shown canvas gets
    got = again.editor.view_state()
    assert got["zoom"] == pytest.approx(state["zoom"], abs=0.01)
    assert got["center"] == pytest.approx(state["center"], abs=2.0)


def test_a_reopened_project_shows_its_population_and_opens_individuals_without_a_run(
    open_window: Callable[..., MainWindow], tmp_path: Path, qtbot: Any
) -> None:
    path = tmp_path / "study.graph"
    shutil.copy(samples_dir() / "xor.graph", path)
    project = Project.open(path)
    family = make_run(project.assign_run_dir())
    project.save()
    w = open_window(Project.open(path))
    assert not w.run_open and not w.client.running()
    assert w.population.count() == len(family.graphs)
    assert w.plots.count() == len(family.graphs)
    assert w.population.champion == family.champion
    # a click on a card opens that individual, read from the run folder
    target = family.line[2]
    w.population.list.scrollTo(w.population.model.index(w.population.model.rows[target]))
    rect = w.population.card_rect(target)
    qtbot.mouseClick(w.population.list.viewport(), _left(), pos=rect.center())
    qtbot.waitUntil(lambda: w.opened_from == target, timeout=5000)
    assert set(w.editor.current_graph.nodes) == set(family.graphs[target].nodes)
    assert w.plots.curve_data()[0] == target
    # and its family tree and parent | child too
    w.show_family_tree()
    assert w.family.focus == family.champion and set(w.family.ids()) >= set(family.line)
    view = w.compare_with_parent(target)
    assert view is not None and view.isVisible()
    view.close()


def test_the_family_tree_waits_for_the_pointer_before_it_redraws(
    open_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    """A new champion while the pointer is over the family tree: the tree stays as it is
    (a click opens the card aimed at) and is redrawn for the champion when it leaves."""
    from PySide6.QtCore import QEvent

    path = tmp_path / "study.graph"
    shutil.copy(samples_dir() / "xor.graph", path)
    project = Project.open(path)
    family = make_run(project.assign_run_dir())
    project.save()
    w = open_window(Project.open(path))
    older = family.line[2]
    w.show_family_tree(older)
    assert w.family.focus == older
    viewport = w.family.view.viewport()
    QApplication.sendEvent(viewport, QEvent(QEvent.Type.Enter))
    w.champion_changed(family.champion)
    assert w.family.focus == older and w.family.waiting == family.champion
    assert f"#{family.champion}" in w.family.title.text()
    QApplication.sendEvent(viewport, QEvent(QEvent.Type.Leave))
    assert w.family.focus == family.champion and w.family.waiting is None
    w.show_family_tree(older)
    w.champion_changed(family.champion)  # the pointer is elsewhere: at once
    assert w.family.focus == family.champion


def _left() -> Any:
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton
