"""From a run to a shareable file and back: export an individual with its weights, lineage,
the task it learned and that task's codecs and options (so `openbrains live`, `eval`,
`arena` and `play` can feed and rebuild it without the project); evaluate a file on a
task's test split (a game's: Elo against the reference players, an environment's: mean
score on the test episodes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openbrains.engine.compile import compile_graph
from openbrains.engine.continual.exporting import (
    bind_like,
    old_scores,
    seed_parents,
    seed_probes,
    task_probe,
)
from openbrains.engine.errors import GraphError, OpenBrainsError
from openbrains.engine.format import GraphFile, load, save
from openbrains.engine.gids import stamp_gids
from openbrains.engine.graph import Graph
from openbrains.engine.refits import RefitStore
from openbrains.engine.store import Archive, ArchiveError, Record
from openbrains.engine.taskrecord import record_of
from openbrains.engine.tasks.registry import load_task
from openbrains.engine.train.trainer import evaluate
from openbrains.engine.weights import decode_weights


def export_individual(
    run_dir: Path, ind: int | None, output: Path, refit: bool = True
) -> tuple[Path, Record]:
    """Write individual ``ind`` (the champion when None) of ``run_dir`` to ``output``:
    with ``refit``, its refit's weights where the run made one (engine.refits), since that
    is the same brain having learnt from the validation examples too."""
    archive = Archive(Path(run_dir), readonly=True)
    try:
        rec = archive.best() if ind is None else archive.get(ind)
        if rec is None:
            raise ArchiveError(f"{run_dir} has no finished individual yet")
        weights = archive.weights(rec.id)
        refitted = RefitStore(archive).get(rec.id) if refit else None
        if weights is None:
            raise ArchiveError(
                f"individual {rec.id} has no stored weights (status {rec.status}; "
                "the retention rule keeps weights of the population, Pareto front and champions)"
            )
        task_info = archive.get_meta("task_info") or {}
        parents = [archive.get(p) for p in rec.parents if _exists(archive, p)]
        graph = Graph.from_json(rec.graph_json)
        graph.lineage = run_lineage(archive, rec, parents, Path(run_dir).name)
        name = str(task_info.get("name") or "task")
        record = bind_like(record_of(name, task_info, graph), graph.tasks.get(name))
        record.score = {
            "metric": task_info.get("metric"),
            "validation": rec.val_metric,
            "test": rec.test_metric,
            "steps": rec.steps,
            "params": rec.params,
            "splits": archive.scores(rec.id),
        }
        if refitted is not None:
            weights = refitted.weights
            record.score.update(
                test=refitted.test_metric,
                steps=rec.steps + refitted.steps,
                refit={"steps": refitted.steps, "validation_seen": refitted.val_metric},
            )
        graph.tasks = {**{k: v for k, v in graph.tasks.items() if k != name}, name: record}
        graph.codecs = {**task_codecs(graph, task_info), **graph.codecs}
        stamp_gids(graph, run_key(archive, Path(run_dir)))
        settings = archive.get_meta("settings") or {}
    finally:
        archive.close()
    tensors = decode_weights(weights)
    old_scores(graph, record.score["splits"])
    probes = seed_probes(Path(run_dir), graph)
    probes.update(_own_probe(graph, tensors, name, settings))
    save(output, GraphFile(kind="graph", graph=graph, weights=tensors, probes=probes))
    return Path(output), rec


def _own_probe(graph: Graph, tensors: Any, name: str, settings: dict[str, Any]) -> Any:
    """A probe of the run's own dataset task, so whoever continues the file can keep it.
    None (no probe) where the task cannot be loaded again here or is not a dataset."""
    spec = settings.get("task") if isinstance(settings, dict) else None
    if not isinstance(spec, dict):
        return {}
    try:
        task = load_task(**spec)
    except (OpenBrainsError, OSError, ValueError):
        return {}
    if getattr(task, "kind", "") == "game" or not hasattr(task, "val"):
        return {}
    from openbrains.engine.continual.seeding import data_fingerprint

    graph.tasks[name].data_id = data_fingerprint(task)
    return task_probe(graph, tensors, name, task)


def run_key(archive: Archive, run_dir: Path) -> str:
    """What the gids of nodes born in this run derive from: the run's own random key,
    made when it was created (older run folders: their folder name)."""
    return str(archive.get_meta("run_key") or run_dir.resolve().name)


def run_lineage(archive: Archive, rec: Record, parents: list[Record], run: str) -> dict[str, Any]:
    """The file lineage of an individual: its parents in the run, by content id (those
    whose weights the archive still keeps), or the parents its birth recorded (a shared
    brain crossed with the champion), with the run's own record beside it."""
    from openbrains.engine.format.identity import content_id
    from openbrains.engine.lineage import Parent, child_lineage

    relation = "crossover" if len(parents) > 1 else "mutation"
    # a child bred with a brain from outside the run recorded both parents at birth
    known = seed_parents(rec.graph_json)  # (engine.run.crossing)
    for p in parents if not known else []:
        data = archive.weights(p.id)
        if data is None:
            continue
        pgraph = Graph.from_json(p.graph_json)
        cid = content_id(pgraph, decode_weights(data))
        known.append((Parent(cid, relation), {}, list(pgraph.tasks)))
    settings = archive.get_meta("settings") or {}
    if isinstance(settings, dict) and settings.get("keep") and settings.get("seeds"):
        known.extend(seed_parents(str(settings["seeds"][0])))  # the shared brain it continued
    keep = {
        "run_parents": rec.parents,
        "mutation": rec.mutation,
        "detail": rec.detail,
        "run": run,
        "id": rec.id,
    }
    return child_lineage(known, keep)


def _exists(archive: Archive, ind: int) -> bool:
    try:
        archive.get(ind)
    except ArchiveError:
        return False
    return True


def task_codecs(graph: Graph, task_info: dict[str, Any]) -> dict[str, Any]:
    """The task's codecs for the graph's own inputs and outputs (how outside data was
    encoded): what `openbrains live` needs to feed an exported brain."""
    codecs = task_info.get("codecs")
    if not isinstance(codecs, dict):
        return {}
    names = set(graph.input_names) | set(graph.output_names)
    return {k: v for k, v in codecs.items() if k in names and isinstance(v, dict)}


def recorded_options(graph: Graph, task_name: str) -> dict[str, Any]:
    """The options ``graph`` records for task (or game) ``task_name``: what it was trained
    with, e.g. a user's game's ``{"n": 6}``. Plain data; whoever uses them checks them as
    any task option (declared typed options; for user code, numbers for named parameters)."""
    for name, t in reversed(graph.tasks.items()):
        if task_name in (name, t.extra.get("game")):
            return {str(k): v for k, v in t.options.items()}
    return {}


def with_recorded_options(task_spec: dict[str, Any], graph: Graph) -> dict[str, Any]:
    """``task_spec`` with the options ``graph`` recorded for that task filled in (the
    command line's win). Options the task does not declare are left out."""
    from openbrains.engine.tasks.registry import TASKS

    name = str(task_spec.get("name"))
    recorded = recorded_options(graph, name)
    info = TASKS.get(name)
    if info is not None:
        known = {o.name for o in info.options}
        recorded = {k: v for k, v in recorded.items() if k in known}
    return {**recorded, **task_spec}


def evaluate_file(path: Path, task_spec: dict[str, Any]) -> dict[str, Any]:
    """Test score of the brain in ``path`` on ``task_spec``'s test split."""
    doc = load(path)
    if doc.graph is None:
        raise OpenBrainsError(f"{path}: this {doc.kind} file has no graph to evaluate")
    return evaluate_graph(doc.graph, doc.weights, task_spec, str(path))


def evaluate_graph(
    graph: Graph, weights: dict[str, Any], task_spec: dict[str, Any], path: str | Path
) -> dict[str, Any]:
    """Test score of ``graph`` with ``weights`` (every one, strictly) on ``task_spec``'s test
    split; ``path`` names it in errors."""
    task = load_task(**with_recorded_options(task_spec, graph))
    if getattr(task, "kind", "") == "game":
        return _evaluate_game(path, graph, weights, task)
    have = sorted(graph.input_names)
    if have != sorted(task.inputs):
        raise OpenBrainsError(
            f"{path} takes inputs {have}, but task {task.name!r} gives {sorted(task.inputs)}"
        )
    try:
        brain = compile_graph(graph, inputs=task.inputs)
        brain.load_weights(weights, strict=True)
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


def _evaluate_game(path: str | Path, graph: Graph, weights: Any, task: Any) -> dict[str, Any]:
    """A game brain's test score as its training runs measure it: Elo against the task's
    reference players (a two-player game), or the mean score of the test episodes."""
    from openbrains.engine.games.champion import check_brain
    from openbrains.engine.games.players import BrainPlayer
    from openbrains.engine.tasks.game import GameError

    try:
        brain = compile_graph(graph, inputs=task.inputs)
        brain.load_weights(weights, strict=True)
    except GraphError as exc:
        raise OpenBrainsError(f"{path}: {exc}") from None
    brain.eval()
    if task.two_player:
        from openbrains.engine.runners.game import TEST_SEED_OFFSET, rate

        game = task.make()
        check_brain(brain, game, str(path))
        player = BrainPlayer(brain, game, sims=task.arena_sims)
        elo, matches = rate(player, task, {}, TEST_SEED_OFFSET, task.arena_games)
        games = sum(m[2].games for m in matches)
        return {
            "task": task.name,
            "metric": "elo",
            "test": elo,
            "examples": games,
            "params": brain.param_count(),
            "matches": {m[1]: m[2].to_dict() for m in matches},
        }
    from openbrains.engine.games.envtrain import evaluate_batched
    from openbrains.engine.runners.environment import TEST_SEED as ENV_TEST_SEED
    from openbrains.engine.runners.environment import task_envs

    if sorted(brain.input_names) != sorted(task.inputs):
        raise GameError(f"{path} takes inputs {brain.input_names}, not {sorted(task.inputs)}")
    score = evaluate_batched(
        task_envs(task, max(1, task.episodes)), brain, task.episodes, ENV_TEST_SEED, greedy=False
    )
    return {
        "task": task.name,
        "metric": "score",
        "test": score.mean,
        "examples": task.episodes,
        "params": brain.param_count(),
    }
