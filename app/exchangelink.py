"""The window's side of the exchange: the Exchange dock fed from a folder or the Hub, its
"Open" and "Use as seed", and File → Publish….

Listing, pulling and publishing can take seconds on the Hub, so they run on a worker
thread and report back to the window's thread through a Qt signal; the window never
waits. Everything pulled is checked (``engine.exchange.pull``) and kept under our own
name, ``$OPENBRAINS_HOME/pulled/<content id>.graph``, before it is opened.

"Use as seed" sends the brain's weights with its graph when Start opens the run
(``RunLink.seed_weights``). "Breed with champion" is shown disabled, its tooltip saying
why: breeding brains from two files needs the lineage work (issue #14, ``openbrains
breed``), which is not on main yet.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openbrains.app.trustlist import data_home
from openbrains.canvas.exchange import ExchangeDock
from openbrains.engine.errors import OpenBrainsError
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox

if TYPE_CHECKING:
    from openbrains.app.main import MainWindow
    from openbrains.engine.exchange.pull import Pulled
    from openbrains.engine.graph import Graph

THUMBNAILS = 24
"""Brains whose graph is fetched for a thumbnail in one listing (the rest show text)."""


class _Relay(QObject):
    """Carries a worker thread's outcome to the window's thread."""

    finished = Signal(object, object)  # callback, value


def pulled_dir() -> Path:
    return data_home() / "pulled"


class ExchangeLink:
    """Owns the Exchange dock of one main window and what File → Publish… does."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.widget = ExchangeDock(window)
        self.dock = window._dock("Exchange", self.widget, Qt.DockWidgetArea.RightDockWidgetArea)
        population = next(
            (d for d in window.findChildren(type(self.dock)) if d.windowTitle() == "Population"),
            None,
        )
        if population is not None:
            window.tabifyDockWidget(population, self.dock)
            population.raise_()
        self.relay = _Relay(window)
        self.relay.finished.connect(lambda callback, value: callback(value))
        self.busy = 0
        self.last_message: QMessageBox | None = None
        self.widget.browseRequested.connect(self.browse)
        self.widget.openRequested.connect(self.open_brain)
        self.widget.seedRequested.connect(self.use_as_seed)

    def tell(self, title: str, text: str, icon: QMessageBox.Icon) -> None:
        """A plain dialog that does not block the window (``last_message`` for tests)."""
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self.window)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.last_message = box

    # ----- background work --------------------------------------------------------------
    def _in_background(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """``work()`` on a thread; ``done(result)`` (or the error line) back on the window's."""
        self.busy += 1

        def report(value: Any) -> None:
            self.busy -= 1
            if isinstance(value, OpenBrainsError):
                self.widget.show_status(str(value))
                self.tell("Exchange", str(value), QMessageBox.Icon.Warning)
            else:
                done(value)

        def run() -> None:
            try:
                value = work()
            except OpenBrainsError as exc:
                value = exc
            except Exception as exc:  # a bug must not kill the window silently
                value = OpenBrainsError(f"{type(exc).__name__}: {exc}")
            self.relay.finished.emit(report, value)

        threading.Thread(target=run, daemon=True, name="exchange").start()

    # ----- browse ------------------------------------------------------------------------
    def browse(self, place: str, task: str = "") -> None:
        self._in_background(
            lambda: listing(place, task or None),
            lambda entries: self.widget.set_entries(place, entries),
        )

    # ----- open / use as seed ------------------------------------------------------------
    def open_brain(self, ref: str) -> None:
        def opened(pulled: tuple[Path, Pulled]) -> None:
            path, p = pulled
            if self.window.open_path(path):
                self.window.statusBar().showMessage(
                    f"opened {p.card.name} from {ref} (checked)", 6000
                )

        self._in_background(lambda: pull_to_cache(ref), opened)

    def use_as_seed(self, ref: str) -> None:
        def seeded(pulled: tuple[Path, Pulled]) -> None:
            _, p = pulled
            project = self.window.project
            graph = p.doc.graph
            assert graph is not None
            problem = seed_problem(project.graph, graph, str(project.task.get("name") or ""))
            if problem:
                self.widget.show_status(problem)
                self.tell("Use as seed", problem, QMessageBox.Icon.Warning)
                return
            project.graph, project.weights, project.dirty = graph, dict(p.doc.weights), True
            self.window.show_project()
            task = project.task.get("name")
            what = f"Start evolves it on task {task}" if task else "choose a task, then Start"
            self.window.statusBar().showMessage(
                f"{p.card.name} is this project's seed: {what}", 8000
            )
            self.widget.show_status(f"{p.card.name} is the seed now")

        self._in_background(lambda: pull_to_cache(ref), seeded)

    # ----- publish -----------------------------------------------------------------------
    def publish_dialog(self) -> None:
        from openbrains.app.publishdialog import PublishDialog, publish_choice

        window = self.window
        run_dir = window.project.default_run_dir() if window.run_open else None
        dialog = PublishDialog(window, run_dir, self.widget.place.currentText())
        if dialog.exec() != PublishDialog.DialogCode.Accepted:
            return
        choice, dest = dialog.choice(), dialog.destination()

        def published(result: tuple[str, Any]) -> None:
            ref, package = result
            self.widget.show_status(f"published {package.name} to {ref}")
            self.tell("Published", f"{package.name} is at {ref}", QMessageBox.Icon.Information)

        self._in_background(lambda: publish_choice(choice, dest), published)


def seed_problem(current: Graph, pulled: Graph, task: str) -> str:
    """Why ``pulled`` cannot continue on this project's task ("" when it can): a seed keeps
    the task's signals, so its inputs and outputs must be the ones the project has."""
    if not task or not current.input_names:
        return ""  # no task yet: the pulled brain's own signals will do
    mine = (sorted(current.input_names), sorted(current.output_names))
    theirs = (sorted(pulled.input_names), sorted(pulled.output_names))
    if mine == theirs:
        return ""
    return (
        f"it reads {', '.join(theirs[0])} and writes {', '.join(theirs[1])}, but task {task} "
        f"gives {', '.join(mine[0])} and expects {', '.join(mine[1])}: Open it as its own project"
    )


def listing(place: str, task: str | None) -> list[dict[str, Any]]:
    """An exchange's entries as plain data, the first few with their graph for thumbnails."""
    from openbrains.engine.exchange.actions import browse, fetch
    from openbrains.engine.exchange.layout import BRAIN
    from openbrains.engine.exchange.package import read_brain

    out = []
    for i, entry in enumerate(browse(place, task=task)):
        d = entry.to_dict()
        if entry.card is not None and i < THUMBNAILS:
            try:
                doc = read_brain(fetch(entry.ref)[BRAIN], entry.ref)
                d["graph_json"] = doc.graph.to_json().decode() if doc.graph else None
            except OpenBrainsError:
                d["graph_json"] = None  # the card still shows; Open will say what is wrong
        out.append(d)
    return out


def pull_to_cache(ref: str) -> tuple[Path, Pulled]:
    """Pull and check ``ref``; keep it as ``pulled/<content id>.graph``."""
    from openbrains.engine.exchange.actions import pull

    pulled = pull(ref, None)
    folder = pulled_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{pulled.card.content_id}.graph"
    if not path.exists():
        from openbrains.engine.exchange.pull import write_brain

        write_brain(path, pulled.data)
    return path, pulled
