"""The Report dock: Make report runs the real `openbrains report` in its own process on a
real run folder and shows the page, figures drawn; a folder with nothing to report shows
the command's one line. Real widgets offscreen, a real subprocess."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from openbrains.app.reportdock import REPORT_NAME, ReportMaker
from openbrains.canvas.report import ReportView

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "runs" / "xor_v1"


def _make(qtbot: Any, folder: Path) -> ReportView:
    view = ReportView()
    qtbot.addWidget(view)
    maker = ReportMaker(view, lambda: folder)
    qtbot.mouseClick(view.button, Qt.MouseButton.LeftButton)
    assert not view.button.isEnabled()  # busy while the command runs
    qtbot.waitUntil(lambda: maker.process is None, timeout=240_000)
    assert view.button.isEnabled()
    return view


def test_make_report_shows_the_page_with_its_figures(qtbot: Any, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(FIXTURE, folder)
    view = _make(qtbot, folder)
    assert view.status.text() == f"Written to {folder / REPORT_NAME}"
    text = view.browser.toPlainText()
    assert "What evolution found" in text and "The champion's lineage" in text
    assert view.images == 3  # the three SVG figures, drawn as document images
    assert (folder / REPORT_NAME).read_text().startswith("<!DOCTYPE html>")


def test_a_folder_with_no_run_shows_one_line(qtbot: Any, tmp_path: Path) -> None:
    view = _make(qtbot, tmp_path)
    assert "is not a run folder" in view.status.text()
    assert "\n" not in view.status.text() and "Traceback" not in view.status.text()
    assert view.browser.toPlainText() == ""
