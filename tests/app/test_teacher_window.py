"""The Teacher section in the main window (offscreen): an order chosen before the run
waits in memory and goes to the engine when the run starts, engine events update the
section, and the project never holds the order."""

from __future__ import annotations

from typing import Any

from openbrains.app.main import MainWindow


def test_the_window_carries_a_teacher_section(qtbot: Any, tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("OPENBRAINS_HOME", str(tmp_path / "home"))
    window = MainWindow(start_engine=False)
    qtbot.addWidget(window)
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(window.client, "send", lambda cmd, cb=None, **a: sent.append((cmd, a)))
    link = window.teacher
    order = {"spec": "openai:m@http://127.0.0.1:8080/v1", "role": "rate", "key_env": ""}
    link.section.orderChosen.emit(order)
    assert sent == [] and link.pending == order  # no run yet: it waits
    assert "rate" in link.section.label.text()
    window.client.event.emit("started", {})
    assert sent == [("teacher", {"order": order})] and link.pending is None
    window.client.event.emit("teacher", {**order, "state": "idle", "cached": 7})
    assert "7 answers cached" in link.section.label.text()
    window.client.event.emit("teacher_error", {"message": "the teacher at x is unreachable"})
    assert "teacher: the teacher at x is unreachable" in window.log.toPlainText()
    assert "openai:m@" not in str(window.project.__dict__)
    window.project.dirty = False
    window.close()
