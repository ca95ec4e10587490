"""Writes docs/screenshots/: the main window on each sample project (what a user sees on
opening it), ``digits-run.png``, the window after a short run of the digits sample
(the README's picture: population, plots and the champion's loss curve filled in), and
``exchange.png``, the Exchange dock on a folder holding champions of short runs.

    .venv/bin/python scripts/screenshots.py [--individuals 40] [--no-run] [--only exchange]

The run happens in a temporary copy of the sample, through `openbrains run`, so the
repository's sample files stay untouched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from openbrains.app.main import MainWindow, screenshot  # noqa: E402

SAMPLES = ("xor", "digits", "text")
OUT = ROOT / "docs" / "screenshots"


def select_unit(unit: str) -> Callable[[MainWindow], None]:
    """A ``prepare`` hook: select the first node of ``unit`` so the inspector shows it."""

    def prepare(window: MainWindow) -> None:
        uids = window.editor.uids_for(unit)
        if uids:
            window.editor.select(uids[:1])

    return prepare


def run_sample(name: str, folder: Path, individuals: int) -> Path:
    project = folder / f"{name}.graph"
    shutil.copy(ROOT / "sample_graphs" / f"{name}.graph", project)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "openbrains",
            "run",
            str(project),
            "--run-dir",
            str(project.with_suffix(".run")),
            "--individuals",
            str(individuals),
            "--workers",
            "2",
            "--quiet",
        ],
        cwd=ROOT,
        check=True,
    )
    return project


def show_exchange(folder: Path) -> Callable[[MainWindow], None]:
    """A ``prepare`` hook: browse ``folder`` in the Exchange dock and bring the dock up."""

    def prepare(window: MainWindow) -> None:
        from PySide6.QtWidgets import QApplication

        link = window.exchange
        link.dock.raise_()
        link.widget.place.setEditText(str(folder))
        link.widget.request_browse()
        for _ in range(600):  # the listing runs on a thread; its answer comes as an event
            QApplication.processEvents()
            if link.busy == 0 and link.widget.count():
                break
            time.sleep(0.05)
        link.widget.place.setEditText("~/Shared/brains")  # the reader's path, not the temp one
        link.widget.status.setText(f"~/Shared/brains: {link.widget.count()} brains")

    return prepare


def exchange_screenshot(individuals: int) -> Path:
    """Champions of short digits and xor runs published into a folder, shown in the dock."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        project = run_sample("digits", folder, individuals)
        run_dir = project.with_suffix(".run")
        share = folder / "share"
        subprocess.run([sys.executable, "-m", "openbrains", "run", "--task", "xor", "--individuals",
                        "6", "--workers", "0", "--run-dir", str(folder / "xor.run"), "--quiet"],
                       cwd=ROOT, check=True)  # fmt: skip
        for run, name, licence in (
            (folder / "xor.run", "xor-small", "cc0-1.0"),
            (run_dir, "digits-conv", "mit"),
        ):
            brain = folder / f"{name}.graph"
            cli = [sys.executable, "-m", "openbrains"]
            subprocess.run([*cli, "export", str(run), "--best", "-o", str(brain)], check=True)
            subprocess.run(
                [*cli, "publish", str(brain), "--to", str(share), "--name", name,
                 "--license", licence], check=True,
            )  # fmt: skip
        return screenshot(OUT / "exchange.png", project, prepare=show_exchange(share))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--individuals", type=int, default=40)
    ap.add_argument("--no-run", action="store_true", help="only the sample projects")
    ap.add_argument("--only", choices=["exchange"], help="only this screenshot")
    args = ap.parse_args()
    if args.only == "exchange":
        print(exchange_screenshot(min(args.individuals, 16)))
        return
    for name in SAMPLES:
        print(screenshot(OUT / f"{name}.png", ROOT / "sample_graphs" / f"{name}.graph"))
    if args.no_run:
        return
    with tempfile.TemporaryDirectory() as tmp:
        project = run_sample("digits", Path(tmp), args.individuals)
        print(screenshot(OUT / "digits-run.png", project, prepare=select_unit("conv2d")))
    print(exchange_screenshot(min(args.individuals, 16)))


if __name__ == "__main__":
    main()
