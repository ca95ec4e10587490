"""The Report dock wired to the command: Make report runs ``openbrains report RUN_DIR``
in its own process (the window stays responsive and loads no torch), then shows the page
it wrote (RUN_DIR/report.html, ready to attach to a shared brain). A run folder with
nothing to report, or any other refusal, is the command's one line in the dock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QProcess, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

from openbrains.app.launcher import command
from openbrains.canvas.report import ReportView

REPORT_NAME = "report.html"


class ReportMaker:
    """Runs the report command for the window's run folder and feeds the view."""

    def __init__(self, view: ReportView, run_dir: Callable[[], Path]) -> None:
        self.view = view
        self.run_dir = run_dir
        self.process: QProcess | None = None
        view.makeRequested.connect(self.make)

    def make(self) -> None:
        if self.process is not None:
            return
        folder = self.run_dir()
        out = folder / REPORT_NAME
        proc = QProcess(self.view)
        program, *args = command()
        proc.setProgram(program)
        proc.setArguments([*args, "report", str(folder), "-o", str(out)])
        proc.finished.connect(lambda code, _status: self._done(proc, code, out))
        self.process = proc
        self.view.set_busy(True)
        proc.start()

    def _done(self, proc: QProcess, code: int, out: Path) -> None:
        self.process = None
        self.view.set_busy(False)
        if code != 0:
            lines = bytes(proc.readAllStandardError().data()).decode(errors="replace").strip()
            last = lines.splitlines()[-1] if lines else f"the report command stopped ({code})"
            self.view.show_message(last.removeprefix("openbrains report: "), error=True)
            return
        try:
            self.view.show_html(out.read_text(encoding="utf-8"))
        except OSError as exc:
            self.view.show_message(f"cannot read {out}: {exc.strerror}", error=True)
            return
        self.view.show_message(f"Written to {out}")


def install_report_dock(window: QMainWindow, run_dir: Callable[[], Path]) -> QDockWidget:
    view = ReportView(window)
    dock = QDockWidget("Report", window)
    dock.setObjectName("ReportDock")
    dock.setWidget(view)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    window.report_maker = ReportMaker(view, run_dir)  # type: ignore[attr-defined]
    return dock
