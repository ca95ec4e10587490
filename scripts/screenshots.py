"""Writes docs/screenshots/: what a person sees.

- ``start.png``: the start page (no project open: the samples, New project, recent ones);
- ``xor.png``, ``digits.png``, ``text.png``: the window on each sample project;
- after a short run of the digits sample: ``digits-run.png`` (population, plots, the
  champion's loss curve), ``follow-champion.png`` (the canvas following the champion
  right after a mutation: new, changed and removed nodes marked), ``family-tree.png``
  (the champion's ancestry, a mutation on each step), ``parent-child.png`` (an
  individual beside its parent, the differences marked) and ``exchange.png`` (the
  Exchange dock on a folder holding the champions of that run and of a short xor run).

    .venv/bin/python scripts/screenshots.py [--individuals 40] [--no-run] [--only exchange]

The run happens in a temporary copy of the sample, through `openbrains run`, so the
shipped sample files stay untouched. Look at every picture before committing it.
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

from PySide6.QtCore import Qt  # noqa: E402

from openbrains.app.main import MainWindow, make_app, screenshot  # noqa: E402
from openbrains.app.snapshot import read_lineage  # noqa: E402
from openbrains.engine.graph import Graph  # noqa: E402

SAMPLES = ("xor", "digits", "text")
OUT = ROOT / "docs" / "screenshots"


def select_unit(unit: str) -> Callable[[MainWindow], None]:
    """A ``prepare`` hook: select the first node of ``unit`` so the inspector shows it."""

    def prepare(window: MainWindow) -> None:
        uids = window.editor.uids_for(unit)
        if uids:
            window.editor.select(uids[:1])

    return prepare


def changed_ancestor(window: MainWindow, ind: int) -> tuple[int, int]:
    """(parent, child) on the champion's line where nodes came or went last (else where
    the structure changed last), so the follow and compare pictures show a real mutation
    (promotions only train longer)."""
    from openbrains.canvas.follow import diff_graphs

    line = read_lineage(window.project.default_run_dir(), ind)
    by_id = {int(d["id"]): d for d in line}
    steps = []
    child = ind
    while (by_id.get(child, {}).get("parents") or [None])[0] in by_id:
        parent = int(by_id[child]["parents"][0])
        a, b = (Graph.from_json(by_id[i]["graph"]) for i in (parent, child))
        diff = diff_graphs(a, b)
        nodes = {u for u in diff.added | diff.removed if u in a.nodes or u in b.nodes}
        steps.append((bool(nodes), a.structure_hash() != b.structure_hash(), parent, child))
        child = parent
    for want in (0, 1):
        for step in steps:
            if step[want]:
                return step[2], step[3]
    return ind, ind


def wait(ms: int) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def follow_champion(window: MainWindow) -> None:
    """The canvas following the champion, the moment a mutation came in."""
    champion = window.population.champion
    assert champion is not None, "the run has no champion"
    parent, child = changed_ancestor(window, champion)
    window.population.follow_box.setChecked(False)
    window.open_individual(parent)
    window.set_follow(True)
    window.open_individual(child, animated=True)
    wait(1700)  # the arrival's glow has faded: what stays are the marks


def family_tree(window: MainWindow) -> None:
    window.show_family_tree()
    inspector = window._initial_docks[1]
    window.resizeDocks([inspector], [int(window.width() * 0.36)], Qt.Orientation.Horizontal)
    window.resizeDocks([window.family_dock], [int(window.height() * 0.8)], Qt.Orientation.Vertical)
    champion = window.population.champion
    if champion is not None:
        window.open_individual(champion)
    wait(200)
    window.editor.fit()
    window.family.view.ensureVisible(window.family.cards[window.family.focus])


def parent_child(project: Path, out: Path) -> Path:
    """The parent | child window of the champion's last structural change."""
    from openbrains.app.project import Project

    app = make_app()
    window = MainWindow(Project.open(project), start_engine=False)
    window.resize(1440, 900)
    window.show()
    app.processEvents()
    champion = window.population.champion
    assert champion is not None
    _parent, child = changed_ancestor(window, champion)
    view = window.compare_with_parent(child)
    assert view is not None
    view.resize(1400, 640)
    wait(300)
    view.showEvent(None)  # fit both sides to the new size
    app.processEvents()
    if not view.grab().save(str(out)):
        raise OSError(f"cannot write {out}")
    view.close()
    window.project.dirty = False
    window.close()
    return out


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


def exchange_screenshot(project: Path, folder: Path) -> Path:
    """The champions of ``project``'s run and of a short xor run, published into a folder
    under ``folder`` and shown in the Exchange dock."""
    share = folder / "share"
    subprocess.run([sys.executable, "-m", "openbrains", "run", "--task", "xor", "--individuals",
                    "6", "--workers", "0", "--run-dir", str(folder / "xor.run"), "--quiet"],
                   cwd=ROOT, check=True)  # fmt: skip
    for run, name, licence in (
        (folder / "xor.run", "xor-small", "cc0-1.0"),
        (project.with_suffix(".run"), "digits-conv", "mit"),
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
    ap.add_argument("--no-run", action="store_true", help="only the start page and samples")
    ap.add_argument("--project", type=Path, help="use this run project instead of a new run")
    ap.add_argument("--only", choices=["exchange"], help="only this screenshot")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["OPENBRAINS_HOME"] = str(Path(tmp) / "home")  # no recent files of yours
        os.environ["OPENBRAINS_DATA"] = str(Path(tmp) / "data")
        if args.only == "exchange":
            individuals = min(args.individuals, 16)
            project = args.project or run_sample("digits", Path(tmp), individuals)
            print(exchange_screenshot(project, Path(tmp)))
            return
        print(screenshot(OUT / "start.png"))
        for name in SAMPLES:
            print(screenshot(OUT / f"{name}.png", ROOT / "sample_graphs" / f"{name}.graph"))
        if args.no_run:
            return
        project = args.project or run_sample("digits", Path(tmp), args.individuals)
        print(screenshot(OUT / "digits-run.png", project, prepare=select_unit("conv2d")))
        print(screenshot(OUT / "follow-champion.png", project, prepare=follow_champion))
        print(screenshot(OUT / "family-tree.png", project, prepare=family_tree))
        print(parent_child(project, OUT / "parent-child.png"))
        print(exchange_screenshot(project, Path(tmp)))


if __name__ == "__main__":
    main()
