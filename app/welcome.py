"""The start page's data: the shipped samples as cards and the recent projects.

Reading a sample takes only its graph and project data (no weights are built); a sample
that cannot be read is left out rather than stopping the window from opening."""

from __future__ import annotations

from pathlib import Path

from openbrains.app.places import sample_paths
from openbrains.canvas.startpage import SampleCard
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.graph import INPUT_UNIT

KINDS = {"image": "images", "audio": "audio", "text": "text", "vector": "numbers"}


def data_missing(task: dict) -> str:
    """What data of the user's a task still needs, in words; "" when it has it."""
    from openbrains.engine.tasks.registry import TASKS

    info = TASKS.get(str(task.get("name")))
    if info is None or info.data is None:
        return ""
    data = task.get("data")
    if data and Path(str(data)).exists():
        return ""
    return f"needs your data: {info.data_help}"


def sample_card(path: Path) -> SampleCard:
    from openbrains.engine.format import load

    doc = load(path)
    project = doc.project or {}
    graph = doc.graph
    modality = ""
    if graph is not None:
        first = next((n for n in graph.nodes.values() if n.unit == INPUT_UNIT), None)
        modality = str(first.params.get("modality", "")) if first is not None else ""
    return SampleCard(
        name=path.stem,
        title=str(project.get("title") or path.stem),
        line=str(project.get("summary") or project.get("notes") or ""),
        graph_json=graph.to_json().decode() if graph is not None else "{}",
        kind=KINDS.get(modality, modality),
        needs=data_missing(project.get("task") or {}),
    )


def sample_cards() -> list[SampleCard]:
    cards = []
    for path in sample_paths():
        try:
            cards.append(sample_card(path))
        except (OpenBrainsError, OSError):
            continue
    return cards
