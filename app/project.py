"""What a user saves: the seed graph, the task, evolver settings, the run folder and the
canvas view — a `.graph` file of kind "project" (DESIGN §1, §4)."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from openbrains.engine.format import GraphFile, load, save
from openbrains.engine.graph import Graph

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
        return target

    @classmethod
    def open(cls, path: Path) -> Project:
        return cls.from_file(load(path), Path(path))

    def default_run_dir(self) -> Path:
        """Beside the project file (`name.run/`), or under ~/.openbrains/runs when unsaved."""
        if self.run_dir:
            return Path(self.run_dir)
        if self.path is not None:
            return self.path.with_suffix(".run")
        key = hashlib.sha256(repr(sorted(self.task.items())).encode()).hexdigest()[:8]
        return Path.home() / ".openbrains" / "runs" / f"{self.task.get('name', 'run')}-{key}"
