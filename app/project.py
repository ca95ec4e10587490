"""What a user saves: the seed graph, the task, evolver settings, the run folder and the
canvas view — a `.graph` file of kind "project" (DESIGN §1, §4).

A project may come from a stranger, so the paths it names (the task's data, its run folder)
are used only once the user has given them (``given_paths``): chosen in the window, confirmed
when asked, or remembered from when this user saved the very same bytes here
(``app.trustlist``). Code a project names is never trusted from the file (``engine.trust``).
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from openbrains.app import trustlist
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


@dataclass
class Project:
    """A project in memory. ``path`` is None until saved; ``dirty`` tracks unsaved edits."""

    graph: Graph = field(default_factory=Graph)
    weights: dict[str, torch.Tensor] = field(default_factory=dict)
    task: dict[str, Any] = field(default_factory=dict)
    evolver: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_EVOLVER))
    run_dir: str | None = None
    view: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    dirty: bool = False
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
        folder they never gave is dropped (the run then goes beside the project)."""
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
        name = self.path.name if self.path else "untitled"
        return f"{name}{' *' if self.dirty else ''}"

    def to_file(self) -> GraphFile:
        project = copy.deepcopy(self.extra)
        project.update(task=self.task, evolver=self.evolver, run_dir=self.run_dir, view=self.view)
        return GraphFile(
            kind="project", graph=self.graph, weights=dict(self.weights), project=project
        )

    @classmethod
    def from_file(cls, doc: GraphFile, path: Path | None) -> Project:
        data = copy.deepcopy(doc.project or {})
        evolver = dict(DEFAULT_EVOLVER)
        evolver.update(data.pop("evolver", None) or {})
        return cls(
            graph=doc.graph or Graph(),
            weights=dict(doc.weights),
            task=data.pop("task", None) or {},
            evolver=evolver,
            run_dir=data.pop("run_dir", None),
            view=data.pop("view", None) or {},
            extra=data,
            path=path,
        )

    def save(self, path: Path | None = None) -> Path:
        target = Path(path or self.path or "untitled.graph")
        save(target, self.to_file())
        self.path, self.dirty = target, False
        self.remember(target.read_bytes())
        return target

    def remember(self, content: bytes) -> None:
        """Record in the local trust list that this user saved ``content`` here, with the
        paths in it they had given."""
        given = [p for _, p in self.stored_paths() if p in self.given_paths]
        trustlist.remember_project(content, given)

    @classmethod
    def open(cls, path: Path) -> Project:
        project = cls.from_file(load(path), Path(path))
        project.recall(Path(path).read_bytes())
        return project

    def recall(self, content: bytes) -> None:
        """Trust the stored paths this user gave when they saved ``content`` here."""
        given = trustlist.project_paths(content)
        self.given_paths = {p for _, p in self.stored_paths() if trustlist.trusts(given, p)}

    def default_run_dir(self) -> Path:
        """The stored run folder once the user gave it; else beside the project file
        (`name.run/`), or under ~/.openbrains/runs when unsaved."""
        if self.run_dir and self.run_dir in self.given_paths:
            return Path(self.run_dir)
        if self.path is not None:
            return self.path.with_suffix(".run")
        key = hashlib.sha256(repr(sorted(self.task.items())).encode()).hexdigest()[:8]
        name = safe_name(self.task.get("name"))
        return trustlist.data_home() / "runs" / f"{name}-{key}"
