"""The window joins a search that another process owns (a headless `openbrains run`, as the
systemd service runs it) instead of starting a second one, and the tray icon follows that
search; closing the window hides it to the tray while the search goes on. Real processes,
real sockets, real widgets offscreen."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from openbrains.app.icons import apply_identity
from openbrains.app.main import MainWindow
from openbrains.app.project import Project
from openbrains.app.tray import RunTray
from openbrains.engine import runlock
from openbrains.engine.store import Archive

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("home")


@pytest.fixture
def headless(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen]]:
    """A project and a headless run of it in its default run folder (``xor.run``), with a
    first individual already in the archive."""
    project = tmp_path / "xor.graph"
    shutil.copy(ROOT / "sample_graphs" / "xor.graph", project)
    run_dir = Project.open(project).default_run_dir()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "openbrains", "run", str(project), "--run-dir", str(run_dir)),
            *("--workers", "0", "--population", "4", "--budget-steps", "30", "--quiet"),
        ],
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        owner = runlock.owner(run_dir)
        if owner is not None and owner.control and (run_dir / "run.sqlite").exists():
            with Archive(run_dir, readonly=True) as archive:
                if archive.count() > 0:
                    break
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.2)
    else:
        raise AssertionError("the headless run did not start")
    yield project, proc
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=60)


def open_window(qtbot: Any, project: Path) -> MainWindow:
    window = MainWindow(Project.open(project), start_engine=True)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_the_window_attaches_to_the_running_search_and_drives_it(
    qtbot: Any, headless: tuple[Path, subprocess.Popen]
) -> None:
    project, proc = headless
    window = open_window(qtbot, project)
    try:
        assert window.client.attached and window.run_open
        assert not window.client.proc.processId(), "no second engine was started"
        born: list[int] = []
        window.client.event.connect(
            lambda kind, data: born.append(data["id"]) if kind == "individual" else None
        )
        qtbot.waitUntil(lambda: window.running, timeout=30_000)
        qtbot.waitUntil(lambda: len(born) >= 2, timeout=60_000)  # the owner's births arrive
        qtbot.waitUntil(lambda: "champion" in window.tray.champion_text, timeout=60_000)
        assert window.tray.pause_action.text() == "Pause"
        assert window.population.model.get(born[-1]) is not None or born[-1] in (
            window.population.champion,
        )

        window.tray.pause_action.trigger()  # the tray pauses the owner's search
        qtbot.waitUntil(lambda: not window.running, timeout=30_000)
        assert window.tray.pause_action.text() == "Resume"
        with Archive(project.with_suffix(".run"), readonly=True) as archive:
            time.sleep(1.0)
            before = archive.count()
            time.sleep(2.0)
            assert archive.count() == before, "a paused search made new individuals"
        window.start_pause()  # and the run bar's Start resumes it
        qtbot.waitUntil(lambda: window.running, timeout=30_000)
    finally:
        window.project.dirty = False
        window.close()
    assert not window.client.attached
    time.sleep(0.5)
    assert proc.poll() is None, "closing the window stopped the background search"


def test_closing_hides_to_the_tray_while_the_search_goes_on(
    qtbot: Any, headless: tuple[Path, subprocess.Popen], monkeypatch: pytest.MonkeyPatch
) -> None:
    project, proc = headless
    monkeypatch.setattr(RunTray, "available", staticmethod(lambda: True))  # offscreen has none
    quits: list[bool] = []
    monkeypatch.setattr(QApplication, "quit", staticmethod(lambda: quits.append(True)))
    window = open_window(qtbot, project)
    qtbot.waitUntil(lambda: window.running, timeout=30_000)
    assert window.close() is False
    assert not window.isVisible() and window.client.attached
    window.tray.open_action.trigger()
    assert window.isVisible()
    window.project.dirty = False
    window.tray.quit_action.trigger()  # Quit really closes: the window detaches
    assert quits == [True] and not window.isVisible() and not window.client.attached
    time.sleep(0.5)
    assert proc.poll() is None


def test_without_a_running_search_closing_closes(qtbot: Any, qapp: QApplication) -> None:
    apply_identity(qapp)  # what make_app does for the program
    window = MainWindow(None, start_engine=False)
    window.show()
    qtbot.waitExposed(window)
    sizes = {s.width() for s in window.windowIcon().availableSizes()}
    assert sizes >= {16, 32, 48, 256}, "the window shows the app's icon"
    assert window.tray.pause_action.text() == "Start"
    assert window.close() is True
