"""A newcomer's first use, scripted: the start page → the digits sample → Start → after the
first champion, the family tree → export the champion.

Every step is done the way a person would find it: a click on a widget that is visible on
the screen, or a menu item found by its visible title. Only the file dialog is answered by
the test. The engine is the real service process, training for real.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QWidget

from openbrains.app.main import FITS, MainWindow, make_app
from openbrains.app.places import samples_dir
from openbrains.engine.format import load

LEFT = Qt.MouseButton.LeftButton


pytestmark = pytest.mark.usefixtures("home")


@pytest.fixture
def window(qapp: QApplication, qtbot: Any) -> Iterator[MainWindow]:
    make_app()
    w = MainWindow(None, start_engine=True)  # what `openbrains` opens on a first start
    w.resize(*FITS)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.project.dirty = False
    w.close()
    w.deleteLater()


def on_screen(w: QWidget) -> bool:
    """Shown (not behind another tab, not closed) with some size, inside its window."""
    if not w.isVisible() or w.width() < 8 or w.height() < 8:
        return False
    top = w.window()
    corner = w.mapTo(top, QPoint(0, 0))
    return top.rect().intersects(w.rect().translated(corner))


def click(qtbot: Any, widget: QWidget, pos: QPoint | None = None) -> None:
    assert on_screen(widget), f"{widget} is not on the screen"
    qtbot.mouseClick(widget, LEFT, pos=pos or widget.rect().center())


def menu_item(w: MainWindow, menu_title: str, item: str) -> QAction:
    """The action a person finds under ``menu_title`` in the menu bar, by its words."""
    menus = {a.text().replace("&", ""): a.menu() for a in w.menuBar().actions() if a.menu()}
    assert menu_title in menus, f"no {menu_title} menu in {list(menus)}"
    menu: QMenu = menus[menu_title]
    for action in menu.actions():
        if action.text().replace("&", "") == item:
            assert action.isVisible() and action.isEnabled(), item
            return action
    raise AssertionError(f"no {item!r} in the {menu_title} menu")


def test_a_newcomer_grows_a_champion_and_exports_it(
    window: MainWindow, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = window
    sample = samples_dir() / "digits.graph"
    sample_bytes = sample.read_bytes()

    # 1. the start page: the samples are there, as cards
    assert w.on_start_page() and on_screen(w.start_page)
    card = w.start_page.sample_buttons["digits"]
    assert "Handwritten digits" in card.accessibleName()
    click(qtbot, card)

    # 2. the sample opens as a template: its seed on the canvas, the run bar above it
    assert not w.on_start_page()
    qtbot.waitUntil(lambda: on_screen(w.editor.view) and on_screen(w.runbar), timeout=5000)
    assert w.project.template == "digits" and w.project.path is None
    assert w.windowTitle().startswith("digits (sample)")
    qtbot.waitUntil(lambda: w.client.running(), timeout=30_000)

    # 3. Start: the button at the top
    assert w.runbar.start_button.text() == "Start"
    click(qtbot, w.runbar.start_button)
    qtbot.waitUntil(lambda: w.run_open and w.running, timeout=120_000)
    assert w.minimumSizeHint().width() <= FITS[0] and w.minimumSizeHint().height() <= FITS[1]
    qtbot.waitUntil(lambda: w.population.champion is not None, timeout=240_000)
    champion = w.population.champion
    assert w.minimumSizeHint().width() <= FITS[0], "the window grew wider than 1280 px"
    # the run lives in the user's data folder, not beside the sample
    run_dir = w.project.default_run_dir()
    assert w.project.run_base == "data" and not Path(w.project.run_dir or "/").is_absolute()
    assert (run_dir / "run.sqlite").exists() and not (samples_dir() / "digits.run").exists()

    # 4. the family tree: Run → Family tree
    menu_item(w, "Run", "Family tree").trigger()
    qtbot.waitUntil(lambda: on_screen(w.family.view), timeout=5000)
    qtbot.waitUntil(lambda: bool(w.family.ids()), timeout=10_000)
    shown = w.family.focus
    assert shown is not None and shown in w.family.ids()
    # a click on a card opens that individual on the canvas
    qtbot.mouseClick(w.family.view.viewport(), LEFT, pos=w.family.card_center(shown).toPoint())
    qtbot.waitUntil(lambda: w.opened_from == shown, timeout=20_000)
    assert f"#{shown}" in w.canvas_label.text()

    # 5. export the champion: File → Export champion… (the file dialog answered)
    out = tmp_path / "exported" / "my-digits.graph"
    out.parent.mkdir()
    asked: list[str] = []

    def save_dialog(_parent: Any, title: str, suggested: str, *_: Any, **__: Any) -> tuple:
        asked.append(title)
        return str(out), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    menu_item(w, "File", "Export champion…").trigger()
    assert asked == ["Export champion"]
    doc = load(out)
    assert doc.weights and doc.graph is not None
    assert doc.graph.lineage.get("id") is not None
    assert int(doc.graph.lineage["id"]) >= int(champion)  # a newer champion may have come
    assert sample.read_bytes() == sample_bytes  # the sample was never written to

    # pausing: the same button
    click(qtbot, w.runbar.start_button)
    qtbot.waitUntil(lambda: not w.running, timeout=60_000)
