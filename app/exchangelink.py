"""The window's side of the exchange: the Exchange dock fed from a folder or the Hub, its
"Open", "Use as seed" and "Breed with champion", and File → Publish….

Listing, pulling and publishing can take seconds on the Hub, so they run on a worker
thread and report back to the window's thread through a Qt signal; the window never
waits. Everything pulled is checked (``engine.exchange.pull``) and kept under our own
name, ``$OPENBRAINS_HOME/pulled/<content id>.graph``, before it is opened.

"Use as seed" sends the brain's weights with its graph when Start opens the run
(``RunLink.seed_weights``). "Breed with champion" sends the pulled, checked brain the same
way (graph JSON and base64 safetensors) to the running search, whose engine crosses it
with the champion (``engine.run.crossing``, genes aligned by global id as ``openbrains
breed`` aligns them); the child trains next, with the champion as its parent in the run
and both brains as its parents by content id. The button is enabled only when that can
work (``breed_problem`` says why not).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox

from openbrains.app.trustlist import data_home
from openbrains.canvas.exchange import ExchangeDock
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.graph import Graph

if TYPE_CHECKING:
    from openbrains.app.main import MainWindow
    from openbrains.engine.exchange.pull import Pulled

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
        self.widget.breedRequested.connect(self.breed_with_champion)
        self.widget.breed_check = self.breed_problem
        self._graphs: dict[str, Graph | None] = {}  # a listing's graphs, read once
        # the run's state decides Breed: re-ask on each of its events and when it ends
        window.client.event.connect(lambda *_a: self.widget.refresh_breed())
        window.client.finished.connect(lambda *_a: self.widget.refresh_breed())

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
        def show(entries: list[dict[str, Any]]) -> None:
            self._graphs.clear()
            self.widget.set_entries(place, entries)

        self._in_background(lambda: listing(place, task or None), show)

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

    # ----- breed with champion ----------------------------------------------------------
    def breed_problem(self, entry: dict[str, Any]) -> str:
        """Why ``entry`` cannot be bred with the champion now ("" when it can), in words."""
        w = self.window
        if w.metric_name == "elo":
            return "a game run rates its players in the arena, not on a validation split"
        if not w.run_open:
            return "start the run first: the child is bred in the running search"
        if w.population.champion is None:
            return "the run has no champion yet: wait for its first individual"
        graph = self._listed_graph(entry)
        if graph is None:
            return "its brain could not be read and checked with this listing (Open says why)"
        problem = seed_problem(w.project.graph, graph, str(w.project.task.get("name") or ""))
        return problem.replace(": Open it as its own project", "") if problem else ""

    def _listed_graph(self, entry: dict[str, Any]) -> Graph | None:
        ref = str(entry.get("ref"))
        if ref not in self._graphs:
            text = entry.get("graph_json")
            try:
                self._graphs[ref] = Graph.from_json(text) if text else None
            except OpenBrainsError:
                self._graphs[ref] = None
        return self._graphs[ref]

    def breed_with_champion(self, ref: str) -> None:
        """Pull and check ``ref``, then send it to the running search to be crossed with
        the champion; the reply (or its one-line refusal) comes back as a message."""
        why = self.widget.breed_problem()
        if why:
            self.tell("Breed with champion", why, QMessageBox.Icon.Warning)
            return

        def send(pulled: tuple[Path, Pulled]) -> None:
            import base64

            from openbrains.engine.weights import encode_weights

            _, p = pulled
            w = self.window
            graph = p.doc.graph
            assert graph is not None
            problem = seed_problem(w.project.graph, graph, str(w.project.task.get("name") or ""))
            champion = w.population.champion
            if not problem and (not w.run_open or champion is None):
                problem = "the run stopped before the brain arrived; start it and try again"
            if problem:
                self.refused("Breed with champion", problem)
                return
            self.widget.show_status(f"breeding {p.card.name} with champion #{champion}…")
            w.client.send(
                "breed",
                lambda reply: self._bred(reply, p.card.name),
                graph=graph.to_json().decode(),
                weights=base64.b64encode(encode_weights(dict(p.doc.weights))).decode("ascii"),
                champion=int(champion),
                name=p.card.name,
            )

        self._in_background(lambda: pull_to_cache(ref), send)

    def _bred(self, reply: dict[str, Any], name: str) -> None:
        if not reply.get("ok"):
            from openbrains.app.messages import plain

            self.refused("Breed with champion", plain(str(reply.get("error"))).text)
            return
        text = (
            f"{name} × champion #{reply.get('champion')}: the child trains next "
            f"({reply.get('matched', 0)} genes shared)"
        )
        self.widget.show_status(text)
        self.window.statusBar().showMessage(text, 8000)
        self.window.append_log(str(reply.get("detail") or text))

    def refused(self, title: str, why: str) -> None:
        """One line in the dock and a plain dialog; nothing else changes."""
        line = why.strip().splitlines()[0] if why.strip() else "it did not work"
        self.widget.show_status(line)
        self.tell(title, line, QMessageBox.Icon.Warning)

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
            without = "".join(f" (without {n}: {why})" for n, why in package.missing.items())
            self.tell(
                "Published", f"{package.name} is at {ref}{without}", QMessageBox.Icon.Information
            )

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
                doc = read_brain(fetch(entry.ref, extras=False)[BRAIN], entry.ref)
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
