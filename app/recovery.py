"""Autosave and crash recovery: while a project has unsaved edits it is written every
minute to ~/.openbrains/autosave; a clean close removes the file, so any file found there
at start-up is work a crash would otherwise have lost.

An autosave is keyed by the project's identity (``Project.identity``), not its path: a
Save As renames the project, and its autosave must still be the one removed."""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from openbrains.app.project import Project
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.format import save

AUTOSAVE_INTERVAL_MS = 60_000


def autosave_dir() -> Path:
    return Path(os.environ.get("OPENBRAINS_HOME", Path.home() / ".openbrains")) / "autosave"


def autosave_path(project: Project, session: str) -> Path:
    key = f"{session}-{project.identity}"
    return autosave_dir() / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.graph"


def write_autosave(project: Project, session: str) -> Path:
    """Save a recovery copy (atomic); remembers the original path in the project data."""
    path = autosave_path(project, session)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = project.to_file()
    doc.project = dict(
        doc.project or {},
        recovery_of=str(project.path) if project.path else None,
        recovery_template=project.template,
        recovery_time=time.time(),
    )
    save(path, doc)
    project.remember(path.read_bytes())  # its confirmed paths stay confirmed when recovered
    return path


def discard_autosave(project: Project, session: str) -> None:
    autosave_path(project, session).unlink(missing_ok=True)


@dataclass
class Recoverable:
    path: Path
    original: str | None
    saved_at: float
    template: str | None = None

    @property
    def name(self) -> str:
        if self.original:
            return self.original
        return f"the {self.template} sample" if self.template else "an untitled project"


def find_recoverable() -> list[Recoverable]:
    """Autosaves left by a session that did not close cleanly, newest first."""
    from openbrains.engine.format import load

    found = []
    folder = autosave_dir()
    for path in sorted(folder.glob("*.graph")) if folder.exists() else []:
        try:
            doc = load(path)
        except OpenBrainsError:
            continue
        data = doc.project or {}
        template = data.get("recovery_template")
        found.append(
            Recoverable(
                path,
                data.get("recovery_of"),
                float(data.get("recovery_time") or 0),
                str(template) if template else None,
            )
        )
    return sorted(found, key=lambda r: r.saved_at, reverse=True)


def recover(item: Recoverable) -> Project:
    """The recovered project: unsaved (dirty), pointing at its original file if it had one."""
    from openbrains.engine.format import load

    project = Project.from_file(load(item.path), Path(item.original) if item.original else None)
    project.recall(item.path.read_bytes())
    for key in ("recovery_of", "recovery_time", "recovery_template"):
        project.extra.pop(key, None)
    project.template = None if item.original else item.template
    project.dirty = True
    return project
