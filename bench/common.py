"""Helpers shared by the search benchmarks: run a search in process, note the champion
over time, measure CPU of a process tree."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openbrains.engine.run import Run, RunSettings


@dataclass
class Timeline:
    """Champion (by validation) and its refit over wall time, from the run's events."""

    start: float = field(default_factory=time.monotonic)
    champions: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    births: list[float] = field(default_factory=list)
    refits: list[tuple[float, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        now = time.monotonic() - self.start
        if kind == "individual":
            self.births.append(now)
            if data.get("champion"):
                self.champions.append((now, data))
        elif kind == "refit":
            self.refits.append((now, data))

    def champion_at(self, seconds: float) -> dict[str, Any] | None:
        best = None
        for t, data in self.champions:
            if t <= seconds:
                best = data
        return best

    def refit_at(self, seconds: float) -> dict[str, Any] | None:
        """The refit of the champion at ``seconds``, if it had landed by then."""
        champ = self.champion_at(seconds)
        if champ is None:
            return None
        found = None
        for t, data in self.refits:
            if t <= seconds and data.get("of") == champ["id"]:
                found = data
        return found


def search(
    run_dir: Path, settings: RunSettings, seconds: float, teacher: Any = None, **run_kw: Any
) -> Timeline:
    """A search of ``seconds`` in ``run_dir`` (``teacher``: a ``TeacherOrder`` to run with)."""
    timeline = Timeline()
    run = Run(run_dir, settings, on_event=timeline, teacher=teacher)
    timeline.start = time.monotonic()
    try:
        run.run(minutes=seconds / 60, **run_kw)
    finally:
        run.close()
    return timeline


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and all its live descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    stack = [pid]
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    while stack:
        p = stack.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
        stack.extend(children.get(p, []))
    return total
