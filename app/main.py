"""The main window: canvas in the middle, palette, inspector, population, plots and the
run bar around it, wired to an engine service process. Only app/ knows both Qt and torch."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openbrains.app import recovery
from openbrains.app.client import EngineClient
from openbrains.app.panels import install_live_and_rating_docks
from openbrains.app.project import Project
from openbrains.app.runlink import RunLink
from openbrains.app.settings import add_recent, recent_files
from openbrains.app.taskdialog import TaskDialog, io_graph_for_task
from openbrains.app.teacherlink import install_teacher
from openbrains.app.tray import RunTray
from openbrains.canvas.editor import GraphEditor
from openbrains.canvas.plots import PlotsView
from openbrains.canvas.population import PopulationView
from openbrains.canvas.runbar import RunBar
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QWidget,
)

BOARD_GAMES = ("tictactoe", "connect4")  # the games the play window can draw

WINDOW_SIZE = (1440, 900)


class MainWindow(QMainWindow, RunLink):
    """The whole tool in one window; the run side lives in ``app.runlink.RunLink``."""

    def __init__(self, project: Project | None = None, start_engine: bool = True) -> None:
        super().__init__()
        from openbrains.engine.catalog import catalog_json
        from openbrains.engine.checks import check_graph

        self.session = uuid.uuid4().hex[:8]
        self.project = project or Project()
        self.client = EngineClient(self)
        self.run_open = False
        self.running = False
        self.opened_from: int | None = None
        self.edited_individual = False
        self.follow_champion = False
        self.metric_name = "score"

        self.editor = GraphEditor(self)
        self.editor.set_catalog(catalog_json())
        self.editor.set_checker(check_graph)
        self.setCentralWidget(self.editor)
        self.editor.graphChanged.connect(self.on_graph_edited)
        self.editor.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.editor.startPauseRequested.connect(self.start_pause)

        self.population = PopulationView(self)
        self.plots = PlotsView(self)
        self.log = QPlainTextEdit(self)
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        palette_dock = self._dock(
            "Palette", self.editor.palette, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        inspector_dock = self._dock(
            "Inspector", self.editor.inspector, Qt.DockWidgetArea.RightDockWidgetArea
        )
        population_dock = self._dock(
            "Population", self.population, Qt.DockWidgetArea.RightDockWidgetArea
        )
        plots_dock = self._dock("Plots", self.plots, Qt.DockWidgetArea.BottomDockWidgetArea)
        log_dock = self._dock("Engine log", self.log, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(plots_dock, log_dock)
        self.feedback_docks = install_live_and_rating_docks(self, self.client)
        self.tabifyDockWidget(inspector_dock, self.feedback_docks.live_dock)
        self.tabifyDockWidget(plots_dock, self.feedback_docks.rating_dock)
        inspector_dock.raise_()
        plots_dock.raise_()
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._initial_docks = (palette_dock, inspector_dock, population_dock, plots_dock)

        self.runbar = RunBar(self)
        toolbar = self.addToolBar("Run")
        toolbar.setObjectName("RunToolbar")
        toolbar.addWidget(self.runbar)
        self.teacher = install_teacher(self, toolbar)  # app/teacherlink.py
        self.canvas_label = QLabel(self)
        self.task_label = QLabel(self)
        for label in (self.canvas_label, self.task_label):
            label.setContentsMargins(10, 0, 10, 0)
        self.statusBar().addPermanentWidget(self.canvas_label)
        self.statusBar().addPermanentWidget(self.task_label)
        self.connect_run()

        self._build_menus()
        self.tray = RunTray(self)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(recovery.AUTOSAVE_INTERVAL_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        self.resize(*WINDOW_SIZE)
        self.arrange_docks()
        self.show_project()
        self.show_run_snapshot()
        if start_engine:
            self.client.start()

    # ----- layout --------------------------------------------------------------------
    def arrange_docks(self) -> None:
        """Canvas gets the most room; plots a strip below it; palette and docks at the sides."""
        palette, inspector, population, plots = self._initial_docks
        width, height = self.width(), self.height()
        self.resizeDocks([palette], [int(width * 0.13)], Qt.Orientation.Horizontal)
        self.resizeDocks(
            [inspector, population], [int(width * 0.25)] * 2, Qt.Orientation.Horizontal
        )
        self.resizeDocks(
            [inspector, population],
            [int(height * 0.42), int(height * 0.58)],
            Qt.Orientation.Vertical,
        )
        self.resizeDocks([plots], [int(height * 0.28)], Qt.Orientation.Vertical)

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.replace(" ", ""))
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, menu: Any, text: str, slot: Any, shortcut: Any = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        f = bar.addMenu("&File")
        self._action(f, "&New project…", self.new_project, QKeySequence.StandardKey.New)
        self._action(f, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.recent_menu = f.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._action(f, "&Save", self.save, QKeySequence.StandardKey.Save)
        self._action(f, "Save &as…", self.save_as, QKeySequence.StandardKey.SaveAs)
        f.addSeparator()
        self._action(f, "Export &champion…", self.export_champion)
        self._action(f, "&Play a game against a brain…", self.play_game)
        self._action(f, "&Generate images from a denoiser…", self.generate_images)
        f.addSeparator()
        self._action(f, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        e = bar.addMenu("&Edit")
        for action in self.editor.actions():
            e.addAction(action)
        r = bar.addMenu("&Run")
        self._action(r, "Choose &task…", self.choose_task)
        self._action(r, "Start / pause", self.start_pause)
        self._action(r, "&Inject edited graph", self.inject, "Ctrl+I")
        r.addSeparator()
        self._action(r, "Show the &seed", self.show_seed)
        self._action(r, "&Use the canvas graph as the seed", self.use_as_seed)
        r.addSeparator()
        self.follow_action = self._action(r, "&Follow champion", lambda on: self.set_follow(on))
        self.follow_action.setCheckable(True)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in recent_files():
            self._action(self.recent_menu, path, lambda _=False, p=path: self.open_path(Path(p)))

    # ----- project -------------------------------------------------------------------
    def show_project(self) -> None:
        self.opened_from, self.edited_individual = None, False
        self.editor.set_graph(self.project.graph)  # fits the view: sizes differ between screens
        self.show_canvas_state()
        self.setWindowTitle(f"{self.project.title} — Open Brains")
        task = self.project.task
        self.task_label.setText(
            f"task: {task.get('name', 'none')}" + (f" ({task['data']})" if task.get("data") else "")
        )
        ev = self.project.evolver
        self.runbar.blockSignals(True)
        self.runbar.set_values(
            workers=int(ev.get("workers", 1)),
            cpu_cap=float(ev.get("cpu_cap", 0)),
            tradeoff=float(ev.get("tradeoff", 0.02)),
        )
        self.runbar.blockSignals(False)
        self.runbar.neighbour.set_values(ev)

    def on_graph_edited(self) -> None:
        """An edit of the seed dirties the project; an edit of an individual is for Inject."""
        if self.opened_from is not None:
            if not self.edited_individual:
                self.edited_individual = True
                self.show_canvas_state()
            return
        self.project.graph = self.editor.graph()
        if not self.project.dirty:
            self.project.dirty = True
            self.setWindowTitle(f"{self.project.title} — Open Brains")

    def confirm_discard(self) -> bool:
        """Ask before losing unsaved edits; True when it is fine to go on."""
        if not self.project.dirty:
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"Save changes to {self.project.title.rstrip(' *')}?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_project(self) -> None:
        if not self.confirm_discard():
            return
        dialog = TaskDialog(self)
        if not dialog.exec():
            return
        project = Project(graph=io_graph_for_task(dialog.task_spec()))
        project.set_task(dialog.task_spec())
        self.set_project(project)

    def choose_task(self) -> None:
        dialog = TaskDialog(self, self.project.task)
        if dialog.exec():
            self.project.set_task(dialog.task_spec())
            if not any(
                n.unit not in (INPUT_UNIT, OUTPUT_UNIT) for n in self.project.graph.nodes.values()
            ):
                self.project.graph = io_graph_for_task(self.project.task)
            self.project.dirty = True
            self.show_project()

    def set_project(self, project: Project) -> None:
        self.close_run()
        recovery.discard_autosave(self.project, self.session)
        self.project = project
        self.show_project()
        self.show_run_snapshot()

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", "Open Brains (*.graph)")
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> bool:
        if not self.confirm_discard():
            return False
        try:
            project = Project.open(path)
        except OpenBrainsError as exc:
            QMessageBox.warning(self, "Cannot open", str(exc))
            return False
        add_recent(path)
        self.set_project(project)
        return True

    def save(self) -> bool:
        if self.project.path is None:
            return self.save_as()
        return self._save_to(self.project.path)

    def save_as(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save project", "untitled.graph", "Open Brains (*.graph)"
        )
        return bool(path) and self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        if self.opened_from is None:
            self.project.graph = self.editor.graph()
            self.project.view = self.editor.view_state()
        try:
            self.project.save(path)
        except OpenBrainsError as exc:
            QMessageBox.warning(self, "Cannot save", str(exc))
            return False
        recovery.discard_autosave(self.project, self.session)
        add_recent(path)
        self.setWindowTitle(f"{self.project.title} — Open Brains")
        self.statusBar().showMessage(f"saved {path}", 4000)
        return True

    def autosave(self) -> Path | None:
        if not self.project.dirty:
            return None
        return recovery.write_autosave(self.project, self.session)

    def export_champion(self) -> None:
        if not self.run_open:
            self.statusBar().showMessage("no run yet: start one first", 4000)
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export champion", "champion.graph", "Open Brains (*.graph)"
        )
        if path:
            from openbrains.engine.export import export_individual

            try:
                export_individual(self.project.default_run_dir(), None, Path(path))
            except OpenBrainsError as exc:
                QMessageBox.warning(self, "Cannot export", str(exc))

    def play_game(self) -> None:
        """Play the champion of a game run (exported first) or any game ``.graph`` file."""
        from openbrains.app.play_window import open_play_window

        game = self.project.task.get("name")
        path: Path | None = None
        if game in BOARD_GAMES and self.run_open:
            from openbrains.engine.export import export_individual

            path = self.project.default_run_dir() / "champion.graph"
            try:
                export_individual(self.project.default_run_dir(), None, path)
            except OpenBrainsError as exc:
                QMessageBox.warning(self, "Cannot play", str(exc))
                return
        else:
            chosen, _ = QFileDialog.getOpenFileName(
                self, "Play against", "", "Open Brains (*.graph)"
            )
            if not chosen:
                return
            path = Path(chosen)
            if game not in BOARD_GAMES:
                game, ok = QInputDialog.getItem(self, "Game", "Game:", list(BOARD_GAMES), 0, False)
                if not ok:
                    return
        self.play_window = open_play_window(self, path, str(game))

    def generate_images(self) -> None:
        """Watch the champion of a denoise run (exported first) or any ``.graph`` file
        turn noise into images."""
        from openbrains.app.samples_window import open_samples_window

        path: Path | None = None
        if self.project.task.get("name") == "denoise" and self.run_open:
            from openbrains.engine.export import export_individual

            path = self.project.default_run_dir() / "champion.graph"
            try:
                export_individual(self.project.default_run_dir(), None, path)
            except OpenBrainsError as exc:
                QMessageBox.warning(self, "Cannot generate images", str(exc))
                return
        else:
            chosen, _ = QFileDialog.getOpenFileName(
                self, "Generate images from", "", "Open Brains (*.graph)"
            )
            if not chosen:
                return
            path = Path(chosen)
        self.samples_window = open_samples_window(self, path)

    # ----- closing -------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if self.tray.hide_instead_of_closing(event):
            return
        if not self.confirm_discard():
            event.ignore()
            return
        self.autosave_timer.stop()
        self.client.stop()
        recovery.discard_autosave(self.project, self.session)
        event.accept()


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName("Open Brains")
    app.setOrganizationName("Open Brains")
    from openbrains.app.icons import apply_identity
    from openbrains.canvas.theme import apply_theme

    apply_identity(app)
    apply_theme(app)
    return app


def offer_recovery(window: MainWindow) -> None:
    found = recovery.find_recoverable()
    if not found:
        return
    item = found[0]
    name = item.original or "an untitled project"
    answer = QMessageBox.question(
        window,
        "Recover unsaved work",
        f"Open Brains did not close cleanly. Recover the unsaved edits to {name}?",
    )
    if answer == QMessageBox.StandardButton.Yes:
        window.set_project(recovery.recover(item))
    for other in found:
        other.path.unlink(missing_ok=True)


def run_window(path: str | None = None) -> int:
    app = make_app()
    project = Project.open(Path(path)) if path else None
    window = MainWindow(project)
    window.show()
    if project is None:
        offer_recovery(window)
    return app.exec()


def screenshot(
    out: Path,
    path: Path | None = None,
    size: tuple[int, int] = WINDOW_SIZE,
    prepare: Callable[[MainWindow], None] | None = None,
) -> Path:
    """Render the main window with ``path`` (and its run folder, if any) offscreen into
    ``out``, for docs and checks; ``prepare(window)`` may select or open things first."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = make_app()
    window = MainWindow(Project.open(path) if path else None, start_engine=False)
    window.resize(*size)
    window.show()
    app.processEvents()
    window.arrange_docks()
    for _ in range(5):
        app.processEvents()
    window.editor.fit()
    window.editor.check_now()  # cards show parameter counts and shapes, as after an edit
    if prepare is not None:
        prepare(window)
    window.plots.flush()  # redraws are throttled by a timer that has not fired yet
    app.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):
        raise OSError(f"cannot write {out}")
    window.project.dirty = False
    window.close()
    window.deleteLater()
    return out
