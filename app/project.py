"""What a user saves: the seed graph, the task, evolver settings, the run folder and the
canvas view — a `.graph` file of kind "project" (DESIGN §1, §4).

The run folder is stored *relative*, so a project shared with someone else carries no
path of its author's machine (docs/decisions.md, "Where runs live"):
``run_dir`` is a relative path and ``run_base`` says what it is relative to — ``project``
(the folder of the project file: ``name.run`` beside it) or ``data`` (the user's data
folder, ``app.places.runs_home()``, for a sample opened as a template or an untitled
project). Files written before this kept an absolute ``run_dir``; it is still read.

A project may come from a stranger, so the paths it names (the task's data, its run folder)
are used only once the user has given them (``given_paths``): chosen in the window, confirmed
when asked, or remembered from when this user saved the very same bytes here
(``app.trustlist``). Code a project names is never trusted from the file (``engine.trust``).
Until then a project's run goes where this program would put a new one.
"""

from __future__ import annotations

import copy
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import torch

from openbrains.app import trustlist
from openbrains.app.places import runs_home, sample_name
from openbrains.engine.format import GraphFile, load, save
from openbrains.engine.graph import Graph
from openbrains.engine.trust import is_code_name, safe_name

DEFAULT_EVOLVER = {
    "population": 16,
    "workers": 1,
    "cpu_cap": 0.0,
    "tradeoff": 0.02,
    "max_params": 0,
}
RUN_BASES = ("project", "data")


@dataclass
class Project:
    """A project in memory. ``path`` is None until saved; ``dirty`` tracks unsaved edits.

    ``template`` names the sample it was opened from (then ``path`` is None, so saving
    asks where). ``identity`` is this project's key for autosaves: it stays the same
    through Save As, so a renamed project's autosave is found and removed."""

    graph: Graph = field(default_factory=Graph)
    weights: dict[str, torch.Tensor] = field(default_factory=dict)
    task: dict[str, Any] = field(default_factory=dict)
    evolver: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_EVOLVER))
    run_dir: str | None = None
    run_base: str = "project"
    view: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    dirty: bool = False
    template: str | None = None
    identity: str = field(default_factory=lambda: uuid.uuid4().hex)
    given_paths: set[str] = field(default_factory=set)  # stored paths the user gave

    def stored_paths(self) -> list[tuple[str, str]]:
        """(what, path) for each path the project names: its data and its run folder."""
        out = []
        data = self.task.get("data") if isinstance(self.task, dict) else None
        if data:
            out.append(("data", str(data)))
        if self.run_dir:
            out.append(("run folder", str(self.run_dir)))
        return out

    def untrusted_paths(self) -> list[tuple[str, str]]:
        """The stored paths the user has not given: shown and confirmed before a run."""
        return [(what, p) for what, p in self.stored_paths() if p not in self.given_paths]

    def set_task(self, spec: dict[str, Any]) -> None:
        """The task the user chose in the window: its data path is theirs; a stored run
        folder they never gave is dropped (the run then goes where a new one would)."""
        self.task = spec
        if spec.get("data"):
            self.given_paths.add(str(spec["data"]))
        if self.run_dir and self.run_dir not in self.given_paths:
            self.run_dir = None

    def code_needed(self) -> str | None:
        """The code (``package.module:Class``) the project's task names, if any."""
        name = self.task.get("name") if isinstance(self.task, dict) else None
        return name if is_code_name(name) else None

    @property
    def title(self) -> str:
        if self.path:
            name = self.path.name
        elif self.template:
            name = f"{self.template} (sample)"
        else:
            name = "untitled"
        return f"{name}{' *' if self.dirty else ''}"

    def to_file(self) -> GraphFile:
        project = copy.deepcopy(self.extra)
        project.update(task=self.task, evolver=self.evolver, run_dir=self.run_dir, view=self.view)
        if self.run_dir is not None:
            project["run_base"] = self.run_base
        return GraphFile(
            kind="project", graph=self.graph, weights=dict(self.weights), project=project
        )

    @classmethod
    def from_file(cls, doc: GraphFile, path: Path | None) -> Project:
        data = copy.deepcopy(doc.project or {})
        evolver = dict(DEFAULT_EVOLVER)
        evolver.update(data.pop("evolver", None) or {})
        run_base = data.pop("run_base", None)
        return cls(
            graph=doc.graph or Graph(),
            weights=dict(doc.weights),
            task=data.pop("task", None) or {},
            evolver=evolver,
            run_dir=data.pop("run_dir", None),
            run_base=run_base if run_base in RUN_BASES else "project",
            view=data.pop("view", None) or {},
            extra=data,
            path=path,
        )

    def save(self, path: Path | None = None) -> Path:
        """Write the project to ``path`` (or where it was opened from). A run folder beside
        the old file stays the project's run: its relative path is re-expressed from the
        new folder."""
        target = Path(path or self.path or "untitled.graph")
        given = self.run_dir is not None and self.run_dir in self.given_paths
        if given and (self.run_base == "project" or Path(str(self.run_dir)).is_absolute()):
            run = self.default_run_dir()
            try:
                self.run_base, self.run_dir = (
                    "data",
                    _posix(run.resolve().relative_to(runs_home().resolve())),
                )
            except ValueError:  # not in the data folder: relative to the project's folder
                self.run_base, self.run_dir = "project", _relative(run, target.parent)
            self.given_paths.add(self.run_dir)
        save(target, self.to_file())
        self.path, self.dirty, self.template = target, False, None
        self.remember(target.read_bytes())
        return target

    def remember(self, content: bytes) -> None:
        """Record in the local trust list that this user saved ``content`` here, with the
        paths in it they had given."""
        given = [p for _, p in self.stored_paths() if p in self.given_paths]
        trustlist.remember_project(content, given)

    @classmethod
    def open(cls, path: Path) -> Project:
        """The project in ``path``; a shipped sample opens as a template (no path)."""
        project = cls.from_file(load(path), Path(path))
        project.recall(Path(path).read_bytes())
        name = sample_name(Path(path))
        if name is not None:
            project.path, project.template = None, name
            project.run_dir = None  # a template starts its own run in the data folder
        return project

    def recall(self, content: bytes) -> None:
        """Trust the stored paths this user gave when they saved ``content`` here."""
        given = trustlist.project_paths(content)
        self.given_paths = {p for _, p in self.stored_paths() if trustlist.trusts(given, p)}

    # ----- the run folder ------------------------------------------------------------
    def default_run_dir(self) -> Path:
        """The project's run folder: the stored one resolved once the user gave it, else
        where a new one would go (beside a user's own project file, else in the data
        folder)."""
        if self.run_dir and self.run_dir in self.given_paths:
            stored = Path(self.run_dir)
            if stored.is_absolute():  # an older project file
                return stored
            if self.run_base == "data":
                return runs_home() / stored
            if self.path is not None:
                return self.path.parent / stored
        base, rel = self.new_run_location()
        return (runs_home() if base == "data" else self.path.parent) / rel  # type: ignore[union-attr]

    def new_run_location(self) -> tuple[str, str]:
        """(base, relative path) of a run folder for this project that has none yet."""
        if self.path is not None and os.access(self.path.parent, os.W_OK):
            return "project", self.path.with_suffix(".run").name
        name = safe_name(self.template or self.task.get("name"))
        return "data", f"{name}-{self.identity[:8]}"

    def assign_run_dir(self) -> Path:
        """Give the project a run folder (stored relative) if it has none; returns it."""
        if not self.run_dir or self.run_dir not in self.given_paths:
            self.run_base, self.run_dir = self.new_run_location()
            self.dirty = True
        self.given_paths.add(self.run_dir)  # chosen by this program at the user's Start
        return self.default_run_dir()


def _relative(folder: Path, start: Path) -> str:
    """``folder`` relative to ``start`` as a POSIX path (``..`` where needed); absolute
    only where no relative path exists (another drive)."""
    try:
        rel = os.path.relpath(Path(folder).resolve(), Path(start).resolve())
    except ValueError:
        return str(Path(folder).resolve())
    return _posix(Path(rel))


def _posix(path: Path) -> str:
    return str(PurePosixPath(*path.parts))
