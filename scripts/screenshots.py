"""Writes docs/screenshots/: the main window on each sample project (what a user sees on
opening it), and ``digits-run.png``, the window after a short run of the digits sample
(the README's picture: population, plots and the champion's loss curve filled in).

    .venv/bin/python scripts/screenshots.py [--individuals 40] [--no-run]

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--individuals", type=int, default=40)
    ap.add_argument("--no-run", action="store_true", help="only the sample projects")
    args = ap.parse_args()
    for name in SAMPLES:
        print(screenshot(OUT / f"{name}.png", ROOT / "sample_graphs" / f"{name}.graph"))
    if args.no_run:
        return
    with tempfile.TemporaryDirectory() as tmp:
        project = run_sample("digits", Path(tmp), args.individuals)
        print(screenshot(OUT / "digits-run.png", project, prepare=select_unit("conv2d")))


if __name__ == "__main__":
    main()
