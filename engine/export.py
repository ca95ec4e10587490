"""From a run to a shareable file and back: export an individual with its weights, lineage
and the task it learned; evaluate a file on a task's test split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openbrains.engine.compile import compile_graph
from openbrains.engine.errors import GraphError, OpenBrainsError
from openbrains.engine.format import GraphFile, load, save
from openbrains.engine.graph import Graph
from openbrains.engine.store import Archive, ArchiveError, Record
from openbrains.engine.tasks.registry import load_task
from openbrains.engine.train.trainer import evaluate
from openbrains.engine.weights import decode_weights


def export_individual(run_dir: Path, ind: int | None, output: Path) -> tuple[Path, Record]:
    """Write individual ``ind`` (the champion when None) of ``run_dir`` to ``output``."""
    archive = Archive(Path(run_dir), readonly=True)
    try:
        rec = archive.best() if ind is None else archive.get(ind)
        if rec is None:
            raise ArchiveError(f"{run_dir} has no finished individual yet")
        weights = archive.weights(rec.id)
        if weights is None:
            raise ArchiveError(
                f"individual {rec.id} has no stored weights (status {rec.status}; "
                "the retention rule keeps weights of the population, Pareto front and champions)"
            )
        task_info = archive.get_meta("task_info") or {}
        parents = [archive.get(p) for p in rec.parents if _exists(archive, p)]
        graph = Graph.from_json(rec.graph_json)
        graph.lineage = {
            "parents": [p.structure for p in parents],
            "run_parents": rec.parents,
            "mutation": rec.mutation,
            "detail": rec.detail,
            "run": Path(run_dir).name,
            "id": rec.id,
        }
        graph.tasks = [t for t in graph.tasks if t.get("name") != task_info.get("name")] + [
            task_info
        ]
        scores = archive.scores(rec.id)
        graph.scores = {
            str(task_info.get("name", "task")): {
                "metric": task_info.get("metric"),
                "validation": rec.val_metric,
                "test": rec.test_metric,
                "steps": rec.steps,
                "params": rec.params,
                "splits": scores,
            }
        }
    finally:
        archive.close()
    save(output, GraphFile(kind="graph", graph=graph, weights=decode_weights(weights)))
    return Path(output), rec


def _exists(archive: Archive, ind: int) -> bool:
    try:
        archive.get(ind)
    except ArchiveError:
        return False
    return True


def evaluate_file(path: Path, task_spec: dict[str, Any]) -> dict[str, Any]:
    """Test score of the brain in ``path`` on ``task_spec``'s test split."""
    doc = load(path)
    if doc.graph is None:
        raise OpenBrainsError(f"{path}: this {doc.kind} file has no graph to evaluate")
    task = load_task(**task_spec)
    graph = doc.graph
    have = sorted(graph.input_names)
    if have != sorted(task.inputs):
        raise OpenBrainsError(
            f"{path} takes inputs {have}, but task {task.name!r} gives {sorted(task.inputs)}"
        )
    try:
        brain = compile_graph(graph, inputs=task.inputs)
        brain.load_weights(doc.weights, strict=True)
    except GraphError as exc:
        raise OpenBrainsError(f"{path}: {exc}") from None
    if [brain.output_specs[n].channels for n in brain.output_names][:1] != [
        task.outputs[task.output_name].channels
    ]:
        raise OpenBrainsError(f"{path} has outputs that do not fit task {task.name!r}")
    result = evaluate(brain, task, task.test)
    return {
        "task": task.name,
        "metric": task.metric,
        "test": result[task.metric],
        "loss": result["loss"],
        "examples": len(task.test),
        "params": brain.param_count(),
    }
