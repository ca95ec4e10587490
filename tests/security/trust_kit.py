"""Hostile files built in the tests (no binaries checked in), canary code that leaves a mark
if it is ever imported, and the command line as a real subprocess."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from openbrains.engine.format import GraphFile, save
from openbrains.engine.graph import Graph
from tests import cli_kit

ROOT = Path(__file__).resolve().parents[2]
CANARY_MODULE = "canary_pkg"


def canary_module(folder: Path) -> Path:
    """``canary_pkg.py`` in ``folder``: importing it, or calling anything in it, writes
    ``folder/CANARY``. Found from ``folder`` as `python -m` would (the current folder)."""
    mark = folder / "CANARY"
    (folder / f"{CANARY_MODULE}.py").write_text(
        "from pathlib import Path\n"
        f"Path({str(mark)!r}).write_text('imported')\n"
        "class Boom:\n"
        "    def __init__(self, **kw):\n"
        f"        Path({str(mark)!r}).write_text('called ' + repr(kw))\n"
    )
    return mark


def project_file(path: Path, project: dict[str, Any], graph: Graph | None = None) -> Path:
    """A `.graph` project with these settings, as a stranger could write it."""
    save(path, GraphFile(kind="project", graph=graph or Graph(), project=project))
    return path


def run_folder(run_dir: Path, task: dict[str, Any], plan: dict[str, Any] | None = None) -> Path:
    """A run folder whose stored settings name ``task``, as a stranger could send it."""
    from openbrains.engine.record import PLAN_KEY
    from openbrains.engine.store import Archive

    archive = Archive(run_dir)
    try:
        archive.set_meta("settings", {"task": task, "seed": 0, "population": 4})
        if plan is not None:
            archive.set_meta(PLAN_KEY, plan)
    finally:
        archive.close()
    return run_dir


def ob(
    *args: str, cwd: Path, home: Path, stdin: str = "", timeout: float = 300
) -> subprocess.CompletedProcess:
    """`openbrains ARGS` in ``cwd`` with ``home`` as the user's data folder."""
    env = {**os.environ, "OPENBRAINS_HOME": str(home)}
    return cli_kit.ob(*args, cwd=cwd, env=env, stdin=stdin, timeout=timeout)


def one_line_error(out: subprocess.CompletedProcess, *words: str) -> str:
    """Exit status 2 and a single line on stderr holding every one of ``words``."""
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]
