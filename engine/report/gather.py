"""A run folder as the report reads it: every record, the run's settings and its
champion. Read-only (a run may still be writing); a folder that is not a run, an
unreadable archive or a run with nothing scored is one ``ReportError`` line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.graph import Graph
from openbrains.engine.store import DB_NAME, Archive, Record


class ReportError(OpenBrainsError):
    """The report cannot be made from this folder (said in one line)."""


@dataclass
class RunData:
    """What the report is made of."""

    run_dir: Path
    task: dict[str, Any]
    metric: str
    records: list[Record]  # scored ones, oldest first
    graphs: dict[int, Graph]  # by individual id
    champion: Record
    champion_weights: bytes

    @property
    def higher_is_better(self) -> bool:
        return self.metric not in ("bpc", "loss", "mse")


def gather(run_dir: Path) -> RunData:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir} is not a folder")
    if not (run_dir / DB_NAME).exists():
        raise ReportError(f"{run_dir} is not a run folder (no {DB_NAME})")
    try:
        archive = Archive(run_dir, readonly=True)
    except OpenBrainsError as exc:
        raise ReportError(str(exc)) from None
    try:
        settings = archive.get_meta("settings") or {}
        info = archive.get_meta("task_info") or {}
        records = [r for r in archive.records() if r.status == "done" and r.fitness is not None]
        best = archive.best()
        weights = archive.weights(best.id) if best is not None else None
    except Exception as exc:  # a damaged archive: any sqlite or JSON failure is one line
        raise ReportError(f"{run_dir / DB_NAME} cannot be read ({exc})") from None
    finally:
        archive.close()
    if not records or best is None:
        raise ReportError(f"{run_dir} has no scored individuals yet: nothing to report")
    graphs: dict[int, Graph] = {}
    for r in records:
        try:
            graphs[r.id] = Graph.from_json(r.graph_json)
        except OpenBrainsError as exc:
            raise ReportError(
                f"individual {r.id} in {run_dir} has a broken graph ({exc})"
            ) from None
    task = settings.get("task") if isinstance(settings, dict) else None
    return RunData(
        run_dir=run_dir,
        task=task if isinstance(task, dict) else {},
        metric=str(info.get("metric") or "score") if isinstance(info, dict) else "score",
        records=records,
        graphs=graphs,
        champion=best,
        champion_weights=weights or b"",
    )
