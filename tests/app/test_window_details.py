"""The small things that add up, on real windows offscreen: a View menu with every dock,
errors in words (the detail one click away), the Live dock's source following the task's
modality, a window that fits 1280×800 however long its texts grow, the plot legend outside
the curves, and a seed that does not compile stopped at Start."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QApplication, QMessageBox

from openbrains.app.main import FITS, MainWindow
from openbrains.app.messages import plain
from openbrains.app.places import samples_dir
from openbrains.engine.graph import Graph

pytestmark = pytest.mark.usefixtures("home")


@pytest.fixture
def open_window(open_window: Callable[..., MainWindow]) -> Callable[..., MainWindow]:
    """Windows on a sample (``None``: the start page), closed at the end by conftest's."""

    def make(sample: str | None = "digits") -> MainWindow:
        w = open_window()
        if sample:
            assert w.open_sample(sample)
        return w

    return make


def test_view_menu_brings_back_every_dock_closed_with_its_cross(
    open_window: Callable[..., MainWindow],
) -> None:
    w = open_window()
    menus = {a.text().replace("&", ""): a.menu() for a in w.menuBar().actions() if a.menu()}
    listed = {a.text() for a in menus["View"].actions()}
    titles = {d.windowTitle() for d in w.docks()}
    assert titles >= {"Palette", "Inspector", "Population", "Family tree", "Plots", "Engine log"}
    assert titles >= {"Live", "Rating"} and titles <= listed and "Run bar" in listed
    for dock in w.docks():
        dock.close()  # what the × on its title bar does
        assert not dock.isVisible()
        toggle = next(a for a in menus["View"].actions() if a.text() == dock.windowTitle())
        assert not toggle.isChecked()
        toggle.trigger()
        assert dock.isVisible(), dock.windowTitle()
    w.run_toolbar.close()
    next(a for a in menus["View"].actions() if a.text() == "Run bar").trigger()
    assert w.run_toolbar.isVisible()


def test_errors_reach_people_in_words_with_the_detail_one_click_away(
    open_window: Callable[..., MainWindow], monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = "RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn"
    words = plain(raw)
    assert "RuntimeError" not in words.text and "learn" in words.text and words.detail == raw
    assert "OpenCV" not in plain("cv2.error: OpenCV(4.9) error: (-215) !_src.empty()").text
    assert plain("ValueError: width must be at least 1").text == "width must be at least 1"
    names = {"629f6fbe": "label"}
    assert (
        plain("output node '629f6fbe' has no input", names).text
        == "output node 'label' has no input"
    )

    w = open_window()
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "open", lambda box: shown.append(box.text()))
    w.on_engine_event(
        "individual", {"id": 7, "status": "failed", "error": raw, "alive": False, "score": None}
    )
    log = w.log.toPlainText()
    assert "#7 failed" in log and "RuntimeError" not in log and "details" in log
    (key,) = w.log.details
    w.log.anchorClicked.emit(QUrl(f"detail:{key}"))  # the click on "details"
    assert shown == [raw]
    w.on_engine_event("error", {"message": raw})
    assert "RuntimeError" not in w.statusBar().currentMessage()
    w.on_engine_event("finishing", {"refit_of": 7})  # a run past its time, refitting
    assert w.statusBar().currentMessage() == "finishing: refitting champion #7"
    # a seed naming a node by its uid is told by its name
    uid = next(u for u, n in w.editor.current_graph.nodes.items() if n.unit == "output")
    w._on_reply({"ok": False, "error": f"output node '{uid}' has no input"})
    assert "'label'" in w.statusBar().currentMessage()


def test_the_live_and_rating_docks_say_engine_errors_in_words_too(
    open_window: Callable[..., MainWindow], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error the engine sends to a panel (a live source that broke, a failed rating) is
    said in words there, the original behind its "details" link; a message the engine
    already words well (which camera, what to check) is shown as it is."""
    w = open_window()
    live, rating = w.feedback_docks.live, w.feedback_docks.rating
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "open", lambda box: shown.append(box.text()))
    raw = "cv2.error: OpenCV(4.9.0) color.cpp:182: error: (-215) !_src.empty() in cvtColor"
    w.client.event.emit("live_error", {"message": raw})
    assert "OpenCV" not in live.message.text() and "images" in live.message.text()
    assert "details" in live.message.text()
    live.message.linkActivated.emit("detail")  # the click on "details"
    assert shown == [raw]
    worded = "camera 7 could not be opened (is it connected, or used by another program?)"
    w.client.event.emit("live_error", {"message": worded})
    assert live.message.text() == worded  # nothing to add: no details link
    codec = "video 'a.mkv' could not be opened (not a video, or a codec OpenCV lacks)"
    w.client.event.emit("recorded", {"count": 0, "label": "left", "error": codec})
    assert codec in live.message.text() and "failed" in live.record_text.text()
    w.client.event.emit("live_error", {"message": "RuntimeError: element 0 of tensors x"})
    assert "RuntimeError" not in live.message.text()
    rating.message.linkActivated.emit("detail")  # no detail there: nothing opens
    assert len(shown) == 1


def test_the_live_source_follows_the_modality_of_the_task(
    open_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    w = open_window("digits")
    live = w.feedback_docks.live
    assert live.source_spec() == "camera"  # an image task: not the microphone
    live.source.setCurrentText("text")
    with qtbot.assertNotEmitted(live.startRequested):
        live.start_button.click()
    assert "reads images" in live.message.text() and "camera" in live.message.text()
    assert not live.typed.isEnabled()
    w.open_sample("text")
    assert live.source_spec() == "text"
    w.open_sample("spoken_digits")
    assert live.source_spec() == "mic"
    w.open_sample("xor")
    assert "numbers" in live.message.text()


def test_the_window_fits_1280_by_800_whatever_the_texts_say(
    open_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    w = open_window(None)
    hint = w.minimumSizeHint()
    assert hint.width() <= FITS[0] and hint.height() <= FITS[1]  # the start page
    project = tmp_path / ("a-very-long-folder-name-" * 6) / "project.graph"
    project.parent.mkdir()
    shutil.copy(samples_dir() / "digits.graph", project)
    assert w.open_path(project)
    w.project.task["data"] = str(project.parent / "data-that-has-a-long-name" / ("x" * 80))
    w.show_project()
    w.on_engine_event("started", {})
    w.on_engine_event(
        "progress",
        {
            "individuals": 123456,
            "per_minute": 98.7,
            "species": 42,
            "best": {"id": 99999, "score": 0.987654, "params": 12345678, "metric": "accuracy"},
        },
    )
    w.statusBar().showMessage("individual #99999: accuracy 0.9877, 12,345,678 params — " * 4)
    QApplication.processEvents()  # the layouts take the new texts
    hint = w.minimumSizeHint()
    assert hint.width() <= FITS[0], f"the window wants {hint.width()} px"
    assert hint.height() <= FITS[1]
    w.resize(*FITS)
    assert w.width() <= FITS[0] and w.height() <= FITS[1]


def test_the_plot_legend_sits_outside_the_curves(open_window: Callable[..., MainWindow]) -> None:
    w = open_window()
    plot = w.plots.progress
    assert plot.legend is None  # no legend box drawn over the data
    title = plot.titleLabel.text
    assert "best" in title and "median" in title
    w.plots.flush()
    assert not plot.titleLabel.sceneBoundingRect().intersects(plot.vb.sceneBoundingRect())


def test_a_seed_that_does_not_compile_is_not_started_quietly(
    open_window: Callable[..., MainWindow], monkeypatch: pytest.MonkeyPatch
) -> None:
    w = open_window("xor")
    graph: Graph = w.editor.graph()
    dense = next(u for u, n in graph.nodes.items() if n.unit == "dense")
    for e in graph.out_edges(dense):
        w.editor.remove_items(edge_uids=[e.uid])  # the output is left unfed
    assert not w.editor.check_now()["compiles"]
    out = next(n for n in graph.nodes.values() if n.unit == "output")
    shown = w.editor.view.status.text() + str(w.editor.last_check["error"])
    assert out.uid not in shown and f"'{out.title}'" in shown  # the node by its name
    questions: list[tuple[str, str]] = []

    def no(_parent: Any, title: str, text: str, *_: Any, **__: Any) -> Any:
        questions.append((title, text))
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", no)
    sent: list[str] = []
    monkeypatch.setattr(w.client, "send", lambda cmd, *a, **k: sent.append(cmd))
    w.start_pause()
    assert [t for t, _ in questions] == ["The seed does not compile"]
    assert sent == [] and not w.run_open
    text = questions[0][1]
    assert not any(u in text for u in w.editor.current_graph.nodes)  # names, not uids
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    w.start_pause()  # yes: from random graphs (the canvas graph is not sent as the seed)
    assert sent == ["open_run"]


def test_a_late_reply_never_replaces_what_the_person_looks_at(
    open_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    """Replies about individuals come when the engine gets to them: one asked for before
    another, a champion to follow after following was turned off, or a new champion while
    the person edits the one on the canvas, is dropped."""
    from openbrains.app.snapshot import read_individual
    from tests.app.run_folder import make_run

    path = tmp_path / "study.graph"
    shutil.copy(samples_dir() / "xor.graph", path)
    w = open_window(None)
    assert w.open_path(path)
    family = make_run(w.project.assign_run_dir())
    a, b = family.line[1], family.line[2]
    reply_b = read_individual(w.project.default_run_dir(), b)
    stale = w.open_asked + 1  # the number the next ask gets
    w.open_individual(a)
    assert w.opened_from == a and w.open_asked == stale
    w.open_individual(a)  # asked again: the first ask's reply is now late
    w._on_individual(reply_b, False, stale)
    assert w.opened_from == a
    w._on_individual(reply_b, True, None)  # a champion while not following
    assert w.opened_from == a
    w.set_follow(True)
    uid = w.editor.add_unit("dropout", (0.0, 0.0))
    assert uid and w.edited_individual
    w._on_individual(reply_b, True, w.open_asked)
    assert w.opened_from == a and uid in w.editor.current_graph.nodes  # the edit is kept
    assert f"#{b}" in w.statusBar().currentMessage()
