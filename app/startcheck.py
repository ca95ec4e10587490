"""What a run needs before it starts, asked in words: Python code the project names and
paths it names that this user never gave (DESIGN §12.1, ``app.trustlist``), a task, the
task's data, and a seed that compiles (or the user's yes to start from random graphs).

A mixin of ``MainWindow``, used by ``RunLink.start_pause``; it owns no widgets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

from openbrains.app.messages import plain
from openbrains.app.welcome import data_missing
from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT
from openbrains.engine.trust import is_granted, locate, user_gave

if TYPE_CHECKING:
    from PySide6.QtWidgets import QStatusBar

    from openbrains.app.project import Project
    from openbrains.canvas.editor import GraphEditor


class StartChecks:
    project: Project
    editor: GraphEditor

    if TYPE_CHECKING:  # the window class provides these

        def statusBar(self) -> QStatusBar: ...
        def choose_task(self) -> None: ...
        def show_editor_page(self) -> None: ...

    def may_start(self) -> bool:
        """Every check, in the order a person can answer them."""
        return self.confirm_code() and self.confirm_paths() and self.ready_to_start()

    def confirm_code(self) -> bool:
        """A project that names Python code runs it only once the user says so here (or
        typed it in the Task dialog): the dialog names the code and the file it would load."""
        code = self.project.code_needed()
        if code is None or is_granted(code):
            return True
        where = locate(code)
        answer = QMessageBox.question(
            self,  # type: ignore[arg-type]
            "Run Python code?",
            f"This project's task is Python code:\n\n    {code}\n    "
            + (f"from {where}" if where else "(not found from the current folder)")
            + "\n\nOpening a file never runs its code. Run it only if you wrote or installed "
            "it yourself.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            self.statusBar().showMessage(f"not started: the code {code} was not trusted", 8000)
            return False
        user_gave(code, "the window's confirmation")
        return True

    def confirm_paths(self) -> bool:
        """Paths a project names that this user never gave here are shown and must be
        confirmed before a run reads or writes them (app.trustlist)."""
        paths = self.project.untrusted_paths()
        if not paths:
            return True
        listed = "\n".join(f"    {what}: {path}" for what, path in paths)
        answer = QMessageBox.question(
            self,  # type: ignore[arg-type]
            "Use these paths?",
            "This project was not saved on this machine by you, and it names:\n\n"
            f"{listed}\n\nUse them? (No: choose the task's data with Run → Choose task…; "
            "the run folder then goes beside the project.)",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            self.statusBar().showMessage(
                "not started: the project's paths were not confirmed", 8000
            )
            return False
        self.project.given_paths.update(path for _, path in paths)
        return True

    def ready_to_start(self) -> bool:
        """What a run needs before it starts, asked in words: a task, the task's data, and
        a seed that compiles (or the user's yes to start from random graphs instead)."""
        self.show_editor_page()
        if not self.project.task.get("name"):
            self.choose_task()
            if not self.project.task.get("name"):
                return False
        missing = data_missing(self.project.task)
        if missing:
            answer = QMessageBox.question(
                self,  # type: ignore[arg-type]
                "Data needed",
                f"This project {missing}. Choose it now?",
            )
            if answer == QMessageBox.StandardButton.Yes:
                self.choose_task()
            if data_missing(self.project.task):
                return False
        problem = self.seed_problem()
        if problem:
            answer = QMessageBox.question(
                self,  # type: ignore[arg-type]
                "The seed does not compile",
                f"The graph on the canvas cannot run: {problem}.\n\nStart from random "
                "graphs for this task instead? (Your graph stays on the canvas to fix.)",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        return True

    def seed_problem(self) -> str:
        """Why the project's seed cannot be used, in words ("" when it can, or has no
        hidden units and is meant as empty)."""
        graph = self.project.graph
        if not any(n.unit not in (INPUT_UNIT, OUTPUT_UNIT) for n in graph.nodes.values()):
            return ""
        check = self.editor.last_check or self.editor.check_now() or {}
        if check.get("compiles", True):
            return ""
        titles = {uid: n.title for uid, n in graph.nodes.items()}
        return plain(str(check.get("error") or "it does not compile"), titles).text
