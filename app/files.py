"""The main window's side of projects: new, open (a file, a sample, a recent one), save,
autosave, and what is exported from a run.

A mixin of ``MainWindow`` (kept apart so each file stays readable); it owns no widgets.
Saving you can trust (docs/decisions.md, "Saving"): a sample opens as a template, so
Save asks where and nothing ever writes over a shipped sample; the autosave is keyed by
the project's identity, so a Save As leaves no stale recovery file behind; the canvas's
zoom and pan come back with the project.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from openbrains.app import recovery
from openbrains.app.messages import show_error
from openbrains.app.places import sample_name, samples_dir
from openbrains.app.project import Project
from openbrains.app.settings import add_recent
from openbrains.app.taskdialog import TaskDialog, seed_graph_for_task
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT

if TYPE_CHECKING:
    from PySide6.QtWidgets import QLabel, QStatusBar

    from openbrains.canvas.editor import GraphEditor
    from openbrains.canvas.runbar import RunBar

BOARD_GAMES = ("tictactoe", "connect4")  # the games the play window can draw
GRAPH_FILES = "Open Brains (*.graph)"


def documents_dir() -> Path:
    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(found) if found and Path(found).is_dir() else Path.home()


class ProjectFiles:
    project: Project
    session: str
    editor: GraphEditor
    runbar: RunBar
    task_label: QLabel
    opened_from: int | None
    edited_individual: bool
    run_open: bool

    if TYPE_CHECKING:  # the window class provides these

        def statusBar(self) -> QStatusBar: ...
        def setWindowTitle(self, title: str) -> None: ...
        def show_canvas_state(self) -> None: ...
        def show_run_snapshot(self) -> bool: ...
        def close_run(self) -> None: ...
        def show_editor_page(self) -> None: ...
        def refresh_start_page(self) -> None: ...
        def project_changed(self) -> None: ...

    # ----- showing the project ---------------------------------------------------------
    def show_project(self) -> None:
        self.opened_from, self.edited_individual = None, False
        self.editor.set_graph(self.project.graph)  # fits the view: sizes differ between screens
        if self.project.view:
            self.editor.set_view_state(self.project.view)  # as it was saved
        self.show_canvas_state()
        self.update_title()
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
        self.project_changed()

    def update_title(self) -> None:
        self.setWindowTitle(f"{self.project.title} — Open Brains")

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
            self.update_title()

    def confirm_discard(self) -> bool:
        """Ask before losing unsaved edits; True when it is fine to go on."""
        if not self.project.dirty:
            return True
        answer = QMessageBox.question(
            self,  # type: ignore[arg-type]
            "Unsaved changes",
            f"Save changes to {self.project.title.rstrip(' *')}?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # ----- new, open -------------------------------------------------------------------
    def new_project(self) -> bool:
        """File → New project…: the task form, then a seed that compiles for it."""
        if not self.confirm_discard():
            return False
        dialog = TaskDialog(self)  # type: ignore[arg-type]
        if not dialog.exec():
            return False
        spec = dialog.task_spec()
        try:
            graph = seed_graph_for_task(spec)
        except OpenBrainsError as exc:
            show_error(self, "Cannot make the project", str(exc))  # type: ignore[arg-type]
            return False
        project = Project(graph=graph)
        project.set_task(spec)  # chosen here: its data path is the user's own
        self.set_project(project)
        return True

    def choose_task(self) -> None:
        dialog = TaskDialog(self, self.project.task)  # type: ignore[arg-type]
        if dialog.exec():
            self.project.set_task(dialog.task_spec())
            if not any(
                n.unit not in (INPUT_UNIT, OUTPUT_UNIT) for n in self.project.graph.nodes.values()
            ):
                self.project.graph = seed_graph_for_task(self.project.task)
            self.project.dirty = True
            self.show_project()

    def set_project(self, project: Project) -> None:
        self.close_run()
        recovery.discard_autosave(self.project, self.session)
        self.project = project
        self.show_editor_page()
        self.show_project()
        self.show_run_snapshot()

    def open_dialog(self) -> bool:
        path, _ = QFileDialog.getOpenFileName(
            self,  # type: ignore[arg-type]
            "Open project",
            str(documents_dir()),
            GRAPH_FILES,
        )
        return bool(path) and self.open_path(Path(path))

    def open_path(self, path: Path) -> bool:
        if not self.confirm_discard():
            return False
        try:
            project = Project.open(path)
        except (OpenBrainsError, OSError) as exc:
            show_error(self, "Cannot open", str(exc))  # type: ignore[arg-type]
            return False
        if project.template is None:
            add_recent(path)
        self.set_project(project)
        return True

    def open_sample(self, name: str) -> bool:
        """A shipped sample, as a template: an untitled copy that Save asks a place for."""
        return self.open_path(samples_dir() / f"{name}.graph")

    # ----- save ------------------------------------------------------------------------
    def save(self) -> bool:
        path = self.project.path
        if path is None or sample_name(path) is not None:
            return self.save_as()
        return self._save_to(path)

    def save_as(self) -> bool:
        project = self.project
        if project.path is not None and sample_name(project.path) is None:
            suggested = project.path
        else:
            suggested = documents_dir() / f"{project.template or 'untitled'}.graph"
        path, _ = QFileDialog.getSaveFileName(
            self,  # type: ignore[arg-type]
            "Save project",
            str(suggested),
            GRAPH_FILES,
        )
        if not path:
            return False
        target = Path(path)
        if target.suffix != ".graph":
            target = target.with_suffix(".graph")
        if sample_name(target) is not None:
            show_error(
                self,  # type: ignore[arg-type]
                "Cannot save there",
                "The samples that come with Open Brains stay as they are: choose another "
                "place for your project.",
            )
            return False
        return self._save_to(target)

    def _save_to(self, path: Path) -> bool:
        if self.opened_from is None:
            self.project.graph = self.editor.graph()
        self.project.view = self.editor.view_state()
        try:
            self.project.save(path)
        except (OpenBrainsError, OSError) as exc:
            show_error(self, "Cannot save", str(exc))  # type: ignore[arg-type]
            return False
        recovery.discard_autosave(self.project, self.session)
        add_recent(path)
        self.update_title()
        self.statusBar().showMessage(f"saved {path}", 4000)
        self.refresh_start_page()
        return True

    def autosave(self) -> Path | None:
        if not self.project.dirty:
            return None
        return recovery.write_autosave(self.project, self.session)

    # ----- what a run gives ------------------------------------------------------------
    def export_champion(self) -> bool:
        """File → Export champion…: the best individual with its weights, as a .graph."""
        run_dir = self.project.default_run_dir()
        if not (run_dir / "run.sqlite").exists():
            self.statusBar().showMessage(
                "no champion yet: press Start, and export once individuals come in", 6000
            )
            return False
        project = self.project
        name = project.template or (project.path.stem if project.path else "brain")
        path, _ = QFileDialog.getSaveFileName(
            self,  # type: ignore[arg-type]
            "Export champion",
            str(documents_dir() / f"{name}-champion.graph"),
            GRAPH_FILES,
        )
        if not path:
            return False
        from openbrains.engine.export import export_individual

        try:
            _out, rec = export_individual(run_dir, None, Path(path))
        except (OpenBrainsError, OSError) as exc:
            show_error(self, "Cannot export", str(exc))  # type: ignore[arg-type]
            return False
        self.statusBar().showMessage(f"champion #{rec.id} exported to {path}", 8000)
        return True

    def _champion_file(self, what: str) -> Path | None:
        from openbrains.engine.export import export_individual

        path = self.project.default_run_dir() / "champion.graph"
        try:
            export_individual(self.project.default_run_dir(), None, path)
        except (OpenBrainsError, OSError) as exc:
            show_error(self, f"Cannot {what}", str(exc))  # type: ignore[arg-type]
            return None
        return path

    def play_game(self) -> None:
        """Play the champion of a game run (exported first) or any game ``.graph`` file."""
        from openbrains.app.play_window import open_play_window

        game = self.project.task.get("name")
        path: Path | None = None
        if game in BOARD_GAMES and self.run_open:
            path = self._champion_file("play")
            if path is None:
                return
        else:
            chosen, _ = QFileDialog.getOpenFileName(
                self,  # type: ignore[arg-type]
                "Play against",
                "",
                GRAPH_FILES,
            )
            if not chosen:
                return
            path = Path(chosen)
            if game not in BOARD_GAMES:
                game, ok = QInputDialog.getItem(
                    self,  # type: ignore[arg-type]
                    "Game",
                    "Game:",
                    list(BOARD_GAMES),
                    0,
                    False,
                )
                if not ok:
                    return
        self.play_window: Any = open_play_window(self, path, str(game))  # type: ignore[arg-type]

    def generate_images(self) -> None:
        """Watch the champion of a denoise run (exported first) or any ``.graph`` file
        turn noise into images."""
        from openbrains.app.samples_window import open_samples_window

        path: Path | None = None
        if self.project.task.get("name") == "denoise" and self.run_open:
            path = self._champion_file("generate images")
            if path is None:
                return
        else:
            chosen, _ = QFileDialog.getOpenFileName(
                self,  # type: ignore[arg-type]
                "Generate images from",
                "",
                GRAPH_FILES,
            )
            if not chosen:
                return
            path = Path(chosen)
        self.samples_window: Any = open_samples_window(self, path)  # type: ignore[arg-type]
