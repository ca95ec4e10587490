"""The way in: the start page (samples shipped in the package, recent projects), the New
project form, the Help menu, and `openbrains screenshot OUT.png` without a project."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QLabel,
    QSpinBox,
    QTextBrowser,
)

from openbrains.app.main import MainWindow, screenshot
from openbrains.app.places import sample_paths, samples_dir
from openbrains.app.taskdialog import TaskDialog
from openbrains.engine.samples import SAMPLES

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("home")


def test_the_samples_ship_inside_the_package(tmp_path: Path) -> None:
    assert [p.stem for p in sample_paths()] == list(SAMPLES)
    assert samples_dir().parent.name == "openbrains" or (samples_dir() / "__init__.py").exists()
    # a wheel built from a copy of the sources carries every sample
    src = tmp_path / "src"
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    out = subprocess.run(
        [*pip, str(src), "-w", str(tmp_path / "wheel")], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in SAMPLES:
        assert f"openbrains/sample_graphs/{name}.graph" in names


def test_the_start_page_shows_every_sample_as_a_card_and_opens_it_as_a_template(
    open_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    w = open_window()
    assert w.on_start_page() and w.windowTitle() == "Open Brains"
    assert not w.run_toolbar.isVisible()  # the docks and the run bar step aside
    assert not any(d.isVisible() for d in w.docks())
    assert list(w.start_page.sample_buttons) == list(SAMPLES)
    for name, card in w.start_page.sample_buttons.items():
        assert card.isVisible() and card.card.title and card.card.line, name
        picture = card.findChildren(QLabel)[0].pixmap().toImage()
        assert not picture.isNull() and _ink(picture) > 0.02, f"{name}: blank picture"
    needs = w.start_page.sample_buttons["mnist"].card.needs
    assert needs.startswith("needs your data") and "MNIST" in needs

    qtbot.mouseClick(w.start_page.sample_buttons["xor"], _left())
    assert not w.on_start_page() and w.run_toolbar.isVisible()
    assert w.project.template == "xor" and w.project.path is None
    assert w.windowTitle().startswith("xor (sample)")
    assert any(d.isVisible() for d in w.docks())
    # File → Start page goes back; the docks come back as they were when it is left
    w.show_start_page()
    assert w.on_start_page() and not w.run_toolbar.isVisible()
    w.show_editor_page()
    assert w.run_toolbar.isVisible()


def test_recent_projects_appear_on_the_start_page(
    open_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    project = tmp_path / "mine.graph"
    shutil.copy(samples_dir() / "xor.graph", project)
    w = open_window()
    assert w.open_path(project)
    w.show_start_page()
    assert str(project.resolve()) in w.start_page.recent_buttons
    other = open_window()
    qtbot.mouseClick(other.start_page.recent_buttons[str(project.resolve())], _left())
    assert other.project.path == project.resolve() and other.project.template is None


def test_new_project_form_offers_options_as_widgets_and_says_what_is_wrong(
    qapp: QApplication, qtbot: Any, tmp_path: Path
) -> None:
    dialog = TaskDialog()
    qtbot.addWidget(dialog)
    dialog.show()

    def choose(name: str) -> None:
        dialog.name.setCurrentIndex(dialog.name.findData(name))

    choose("xor")
    assert not dialog.data_row.isVisible() and not dialog.options_box.isVisible()
    choose("digits")  # no data to choose; keep only N labelled images, answer with views
    assert not dialog.data_row.isVisible()
    assert list(dialog.option_widgets) == ["labelled", "views"]
    views = dialog.option_widgets["views"]
    assert isinstance(views, QCheckBox) and views.isChecked()  # on unless unticked
    views.setChecked(False)
    assert dialog.task_spec()["views"] is False
    choose("mnist")
    assert dialog.data_row.isVisible() and "idx" in dialog.data_help.text()
    assert isinstance(dialog.option_widgets["patch"], QComboBox)
    validation = dialog.option_widgets["validation"]
    assert isinstance(validation, QDoubleSpinBox)
    assert (validation.minimum(), validation.maximum()) == (0.01, 0.5)
    choose("images")
    assert isinstance(dialog.option_widgets["color"], QCheckBox)
    size = dialog.option_widgets["size"]
    assert isinstance(size, QSpinBox) and size.maximum() == 256
    choose("text")
    stride = dialog.option_widgets["stride"]
    assert isinstance(stride, QSpinBox) and stride.text() == "default"  # left to the task
    assert "stride" not in dialog.task_spec()
    stride.setValue(32)
    assert dialog.task_spec()["stride"] == 32
    # a data file that is not there: said in the form, which stays open
    dialog.data.setText(str(tmp_path / "nowhere.txt"))
    dialog.accept()
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.error.isVisible() and "nowhere.txt" in dialog.error.text()
    assert "Traceback" not in dialog.error.text()
    text = tmp_path / "story.txt"
    text.write_text("once upon a time " * 400)
    dialog.data.setText(str(text))
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.task_spec() == {"name": "text", "data": str(text), "stride": 32}


def test_file_new_makes_a_seed_that_compiles(
    open_window: Callable[..., MainWindow], monkeypatch: pytest.MonkeyPatch
) -> None:
    w = open_window()

    def answer(dialog: TaskDialog) -> int:
        dialog.name.setCurrentIndex(dialog.name.findData("xor"))
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(TaskDialog, "exec", answer)
    assert w.new_project()
    assert not w.on_start_page() and w.project.task == {"name": "xor"}
    hidden = [n for n in w.project.graph.nodes.values() if n.unit not in ("input", "output")]
    assert hidden and w.project.graph.edges
    assert w.editor.check_now()["compiles"]


def test_help_menu_getting_started_shortcuts_and_about(
    open_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    w = open_window()
    menus = {a.text().replace("&", ""): a.menu() for a in w.menuBar().actions() if a.menu()}
    assert list(menus) == ["File", "Edit", "View", "Run", "Help"]
    items = {a.text().replace("&", ""): a for a in menus["Help"].actions() if a.text()}
    assert set(items) >= {"Getting started", "Keyboard shortcuts", "About Open Brains"}
    for name, title in (
        ("Getting started", "Getting started"),
        ("Keyboard shortcuts", "Keyboard shortcuts"),
        ("About Open Brains", "About Open Brains"),
    ):
        items[name].trigger()
        dialogs = [d for d in w.findChildren(QDialog) if d.windowTitle() == title]
        assert dialogs and dialogs[-1].isVisible(), name
        body = dialogs[-1].findChildren(QTextBrowser)[0].toPlainText()
        assert len(body) > 40
        if name == "Keyboard shortcuts":
            assert "Undo" in body and "Ctrl+Z" in body
            assert "Inject edited graph" in body and "Ctrl+I" in body
            assert "Family tree" in body
        dialogs[-1].close()


def test_screenshot_without_a_project_renders_the_start_page(tmp_path: Path) -> None:
    out = tmp_path / "start.png"
    done = subprocess.run(
        [sys.executable, "-m", "openbrains", "screenshot", str(out)],
        capture_output=True,
        text=True,
        env={**_env(tmp_path)},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    seen: list[bool] = []
    reference = screenshot(
        tmp_path / "reference.png", prepare=lambda w: seen.append(w.on_start_page())
    )
    assert seen == [True]
    a, b = QImage(str(out)), QImage(str(reference))
    assert (a.width(), a.height()) == (b.width(), b.height()) == (1440, 900)
    assert _difference(a, b) < 0.02  # the same page


# ----- helpers -----------------------------------------------------------------------------
def _left() -> Any:
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def _ink(img: QImage) -> float:
    """Share of pixels that are drawn (not transparent)."""
    small = img.scaled(64, 32)
    return sum(small.pixelColor(x, y).alpha() > 40 for x in range(64) for y in range(32)) / 2048


def _difference(a: QImage, b: QImage) -> float:
    sa, sb = a.scaled(160, 100), b.scaled(160, 100)
    diff = sum(
        abs(sa.pixelColor(x, y).lightness() - sb.pixelColor(x, y).lightness()) > 24
        for x in range(160)
        for y in range(100)
    )
    return diff / 16000


def _env(tmp_path: Path) -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["OPENBRAINS_HOME"] = str(tmp_path / "cli-home")
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def test_new_project_form_takes_a_users_own_game_by_its_code_name(
    qapp: QApplication, qtbot: Any
) -> None:
    dialog = TaskDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.name.setEditText("mygames.board:Board")  # typed: the user's own hands
    assert dialog.options.isVisible() and not dialog.options_box.isVisible()
    assert not dialog.data_row.isVisible() and "package.module:Class" in dialog.summary.text()
    dialog.options.setText("n=6, sims=20")
    assert dialog.task_spec() == {"name": "mygames.board:Board", "n": "6", "sims": "20"}
    dialog.name.setCurrentIndex(dialog.name.findData("xor"))  # back to a built-in task
    assert not dialog.options.isVisible() and dialog.task_spec() == {"name": "xor"}
