"""The main window: the start page or the canvas in the middle; palette, inspector,
population, family tree, plots and the run bar around it, wired to an engine service
process. Only app/ knows both Qt and torch.

The window's jobs are split into mixins, one file each: ``app.files.ProjectFiles``
(projects: new, open, save, export), ``app.runlink.RunLink`` (the run and its docks),
``app.lineage.LineageLink`` (family tree, parent | child), ``app.startcheck.StartChecks``
(what a run needs before it starts); menus are built by ``app.menus``.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QStackedWidget,
    QWidget,
)

from openbrains.app import help as help_dialogs
from openbrains.app import recovery
from openbrains.app.client import EngineClient
from openbrains.app.exchangelink import ExchangeLink
from openbrains.app.files import ProjectFiles
from openbrains.app.lineage import LineageLink
from openbrains.app.menus import build_menus
from openbrains.app.panels import install_live_and_rating_docks
from openbrains.app.project import Project
from openbrains.app.reportdock import install_report_dock
from openbrains.app.runlink import RunLink
from openbrains.app.settings import recent_files
from openbrains.app.startcheck import StartChecks
from openbrains.app.teacherlink import install_teacher
from openbrains.app.tray import RunTray
from openbrains.app.welcome import sample_cards
from openbrains.canvas.editor import GraphEditor
from openbrains.canvas.lineage import FamilyTreeView
from openbrains.canvas.logview import LogView
from openbrains.canvas.plots import PlotsView
from openbrains.canvas.population import PopulationView
from openbrains.canvas.runbar import RunBar
from openbrains.canvas.startpage import StartPage
from openbrains.engine.graph import INPUT_UNIT

WINDOW_SIZE = (1440, 900)
FITS = (1280, 800)  # the window must fit a 1280×800 screen at every moment


def initial_size() -> tuple[int, int]:
    """WINDOW_SIZE, or less on a smaller screen (never less than it can be)."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return WINDOW_SIZE
    room = screen.availableGeometry()
    if room.width() < 1024:  # offscreen or a tiny virtual screen: the documented size
        return WINDOW_SIZE
    return (min(WINDOW_SIZE[0], room.width()), min(WINDOW_SIZE[1], room.height()))


class MainWindow(QMainWindow, ProjectFiles, RunLink, LineageLink, StartChecks):
    """The whole tool in one window."""

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
        self.editor.graphChanged.connect(self.on_graph_edited)
        self.editor.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.editor.startPauseRequested.connect(self.start_pause)
        self.start_page = StartPage(self)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.start_page)
        self.pages.addWidget(self.editor)
        self.setCentralWidget(self.pages)

        self.population = PopulationView(self)
        self.plots = PlotsView(self)
        self.family = FamilyTreeView(self)
        self.log = LogView(self)
        self.log.detailRequested.connect(self.show_detail)
        area = Qt.DockWidgetArea
        palette_dock = self._dock("Palette", self.editor.palette, area.LeftDockWidgetArea)
        inspector_dock = self._dock("Inspector", self.editor.inspector, area.RightDockWidgetArea)
        population_dock = self._dock("Population", self.population, area.RightDockWidgetArea)
        self.family_dock = self._dock("Family tree", self.family, area.RightDockWidgetArea)
        plots_dock = self._dock("Plots", self.plots, area.BottomDockWidgetArea)
        log_dock = self._dock("Engine log", self.log, area.BottomDockWidgetArea)
        self.tabifyDockWidget(plots_dock, log_dock)
        self.tabifyDockWidget(population_dock, self.family_dock)
        self.feedback_docks = install_live_and_rating_docks(self, self.client)
        self.tabifyDockWidget(inspector_dock, self.feedback_docks.live_dock)
        self.tabifyDockWidget(plots_dock, self.feedback_docks.rating_dock)
        self.report_dock = install_report_dock(self, lambda: self.project.default_run_dir())
        self.tabifyDockWidget(plots_dock, self.report_dock)
        inspector_dock.raise_()
        plots_dock.raise_()
        population_dock.raise_()
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._initial_docks = (palette_dock, inspector_dock, population_dock, plots_dock)
        self._hidden_for_start: list[QWidget] = []

        self.runbar = RunBar(self)
        self.run_toolbar = self.addToolBar("Run")
        self.run_toolbar.setObjectName("RunToolbar")
        self.run_toolbar.addWidget(self.runbar)
        self.teacher = install_teacher(self, self.run_toolbar)  # app/teacherlink.py
        self.canvas_label = QLabel(self)
        self.task_label = QLabel(self)
        for label in (self.canvas_label, self.task_label):
            label.setContentsMargins(10, 0, 10, 0)
            # long task paths must not widen the window (it fits 1280×800)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            label.setMinimumWidth(60)
        self.statusBar().addPermanentWidget(self.canvas_label, 1)
        self.statusBar().addPermanentWidget(self.task_label, 1)
        self.connect_run()
        self.connect_lineage()
        self.exchange = ExchangeLink(self)  # the Exchange dock; File → Publish… in menus

        build_menus(self)
        self.tray = RunTray(self)
        self.start_page.sampleChosen.connect(self.open_sample)
        self.start_page.recentChosen.connect(lambda p: self.open_path(Path(p)))
        self.start_page.newRequested.connect(self.new_project)
        self.start_page.openRequested.connect(self.open_dialog)
        self.start_page.helpRequested.connect(lambda: help_dialogs.getting_started(self))
        self.start_page.set_samples(sample_cards())
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(recovery.AUTOSAVE_INTERVAL_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        self.resize(*initial_size())
        self.arrange_docks()
        self.show_project()
        self.show_run_snapshot()
        if project is None:
            self.show_start_page()
        else:
            self.show_editor_page()
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

    def reset_layout(self) -> None:
        """View → Reset the layout: every dock back where it starts."""
        for dock in self.docks():
            dock.setFloating(False)
        for dock in (
            *self._initial_docks,
            self.family_dock,
            self.exchange.dock,
            *self.feedback_docks_list(),
        ):
            dock.show()
        self.run_toolbar.show()
        self._initial_docks[1].raise_()
        self._initial_docks[2].raise_()
        self._initial_docks[3].raise_()
        self.arrange_docks()

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.replace(" ", ""))
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def docks(self) -> list[QDockWidget]:
        """Every dock, in the order the View menu lists them."""
        order = (
            "Palette",
            "Inspector",
            "Population",
            "Family tree",
            "Exchange",
            "Plots",
            "Live",
            "Rating",
            "Report",
        )
        found = {d.windowTitle(): d for d in self.findChildren(QDockWidget)}
        return [found[t] for t in order if t in found] + [
            d for t, d in found.items() if t not in order
        ]

    def feedback_docks_list(self) -> list[QDockWidget]:
        return [self.feedback_docks.live_dock, self.feedback_docks.rating_dock]

    # ----- start page ------------------------------------------------------------------
    def on_start_page(self) -> bool:
        return self.pages.currentWidget() is self.start_page

    def show_start_page(self) -> None:
        """The way in: samples, new project, recent projects. The docks and the run bar
        step aside (and come back as they were)."""
        self.refresh_start_page()
        if self.on_start_page() and self._hidden_for_start:
            return
        bars: list[QWidget] = [*self.docks(), self.run_toolbar]
        if self.isVisible():
            self._hidden_for_start = [w for w in bars if w.isVisible() and not _floating(w)]
        else:  # still being built: everything shows once a project is open
            self._hidden_for_start = bars
        for w in bars:
            if not _floating(w):
                w.hide()
        self.pages.setCurrentWidget(self.start_page)
        for label in (self.canvas_label, self.task_label):  # they speak of a project
            label.hide()
        self.setWindowTitle("Open Brains")

    def show_editor_page(self) -> None:
        if not self.on_start_page():
            return
        self.pages.setCurrentWidget(self.editor)
        for w in (*self._hidden_for_start, self.canvas_label, self.task_label):
            w.show()
        self._hidden_for_start = []
        self.update_title()

    def refresh_start_page(self) -> None:
        self.start_page.set_recent(recent_files())

    def project_changed(self) -> None:
        """The Live dock's source follows the modality of the project's input."""
        first = next((n for n in self.project.graph.nodes.values() if n.unit == INPUT_UNIT), None)
        modality = str(first.params.get("modality", "")) if first is not None else ""
        self.feedback_docks.live.set_modality(modality)

    def show_detail(self, detail: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Details", detail, parent=self)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.open()

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
        self.close_compare()
        event.accept()


def _floating(w: QWidget) -> bool:
    return isinstance(w, QDockWidget) and w.isFloating()


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
    answer = QMessageBox.question(
        window,
        "Recover unsaved work",
        f"Open Brains did not close cleanly. Recover the unsaved edits to {item.name}?",
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
    ``out``, for docs and checks; without ``path``, the start page. ``prepare(window)``
    may select or open things first."""
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
    if not window.project.view:
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
