"""Where the brain to export comes from: a run folder's champion or individual (written by
``engine.export`` exactly as a ``.graph`` export would be) or a ``.graph`` file. Only
paths the user named are read; nothing a file names is opened."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openbrains.engine.compile import Brain
from openbrains.engine.exporters.errors import ExportError
from openbrains.engine.format import load, load_brain
from openbrains.engine.graph import Graph


@dataclass
class BrainSource:
    graph: Graph
    brain: Brain
    weights: dict[str, Any]
    label: str  # what to call it in messages and metadata
    individual: Any = None  # the run's record when it came from a run


def from_file(path: Path) -> BrainSource:
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"no such file: {path}")
    doc = load(path)
    if doc.graph is None:
        raise ExportError(f"{path}: this {doc.kind} file holds no graph to export")
    if not doc.weights:
        raise ExportError(
            f"{path} holds no weights (an untrained genome); train it (openbrains run {path}) "
            "and export the champion"
        )
    graph, brain = load_brain(path)
    return BrainSource(graph, brain, dict(doc.weights), path.name)


def from_run(run_dir: Path, individual: int | None, refit: bool = True) -> BrainSource:
    """The run's champion (``individual`` None) or individual, through ``engine.export``."""
    from openbrains.engine.export import export_individual

    with tempfile.TemporaryDirectory(prefix="openbrains-export-") as tmp:
        path, rec = export_individual(Path(run_dir), individual, Path(tmp) / "brain.graph", refit)
        src = from_file(path)
    which = "champion" if individual is None else "individual"
    src.label = f"{which} #{rec.id} of {Path(run_dir).name}"
    src.individual = rec
    return src


def open_source(path: Path, best: bool, individual: int | None, refit: bool = True) -> BrainSource:
    """``RUN_DIR --best``, ``RUN_DIR --id N`` or ``FILE.graph``, with a clear line otherwise
    (``refit``: a run's individual with its refit's weights where it has one)."""
    path = Path(path)
    if path.is_dir():
        if not best and individual is None:
            raise ExportError(f"{path} is a run folder: add --best or --id N")
        return from_run(path, None if best else individual, refit)
    if best or individual is not None:
        raise ExportError(f"--best and --id pick from a run folder; {path} is not one")
    return from_file(path)
