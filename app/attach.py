"""A window that opens a project whose run another process owns (the background service,
a headless `openbrains run`, another window) attaches to that search instead of starting a
second one: the run's lock names the owner and its control socket (engine.runlock), the
engine client connects there, and the docks fill from the owner's replies and events.

Functions of the main window (they use what ``RunLink`` uses), kept apart from its wiring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openbrains.engine import runlock

if TYPE_CHECKING:
    from openbrains.app.main import MainWindow


def attach_if_owned(window: MainWindow) -> bool:
    """Attach ``window`` to the owner of its project's run, if there is one that listens
    (and it is not the window's own engine). True when attached."""
    if window.client.attached:
        return True
    owner = runlock.owner(window.project.default_run_dir())
    if owner is None or not owner.control:
        return False
    own = int(window.client.proc.processId() or 0)
    if owner.pid is not None and owner.pid == own:
        return False
    if not window.client.attach(owner.control):
        return False
    window.run_open = True
    text = f"attached to the search running in process {owner.pid} (closing detaches)"
    window.statusBar().showMessage(text, 10_000)
    window.append_log(text)
    window.client.send("status", lambda reply: _on_status(window, reply))
    window.client.send("history", window._on_history)
    window.client.send("population", window._on_population)
    return True


def _on_status(window: MainWindow, reply: dict[str, Any]) -> None:
    if not reply.get("ok"):
        window._on_reply(reply)
        return
    progress = reply.get("progress") or {}
    window.set_metric(progress.get("metric"))
    window.running = bool(reply.get("running")) and not reply.get("paused")
    window.runbar.set_running(window.running)
    window.tray.refresh()  # it last heard an event from before the state was known
    window.runbar.set_progress(progress)
    if reply.get("references"):
        window.plots.set_references(reply["references"])
