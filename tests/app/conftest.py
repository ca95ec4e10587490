"""Fixtures the window and command tests share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings, recent files, autosaves and pulled brains go to a private folder (a module
    that touches them says ``pytestmark = pytest.mark.usefixtures("home")``)."""
    folder = tmp_path / "home"
    monkeypatch.setenv("OPENBRAINS_HOME", str(folder))
    return folder


@pytest.fixture
def open_window(qtbot: Any) -> Iterator[Callable[..., Any]]:
    """Make windows (``open_window(project=None, start_engine=False)``); at the end close
    each without a prompt (and stop its engine)."""
    from openbrains.app.main import MainWindow, make_app

    made: list[MainWindow] = []
    make_app()

    def make(project: Any = None, start_engine: bool = False) -> MainWindow:
        w = MainWindow(project, start_engine=start_engine)
        made.append(w)
        w.show()
        qtbot.waitExposed(w)
        return w

    yield make
    for w in made:
        w.project.dirty = False
        w.close()
        w.deleteLater()
