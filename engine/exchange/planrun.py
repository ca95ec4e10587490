"""A plan turned into a run, and a finished run turned into a result that can be shared.

The run folder keeps the plan's exact bytes (``plan.toml``), so ``plan report`` publishes
the champion with the plan it followed; ``result.json`` and ``result.md`` (a model card)
say what came out: the champion's scores, size, content id, and the data it was made on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from openbrains.engine.exchange.card import PlanRef, render
from openbrains.engine.exchange.errors import ExchangeError
from openbrains.engine.exchange.package import PublishRequest, build, facts, read_brain
from openbrains.engine.exchange.plandata import DataUsed
from openbrains.engine.exchange.plans import Plan, parse_plan
from openbrains.engine.format.container import atomic_write

PLAN_FILE = "plan.toml"
RESULT_JSON = "result.json"
RESULT_CARD = "result.md"
CHAMPION = "champion.graph"


@dataclass(frozen=True)
class PlanResult:
    """What one run of a plan produced."""

    plan: dict[str, Any]  # id, version, sha256
    task: str
    metric: str
    validation: float | None
    test: float | None
    params: int
    content_id: str
    individuals: int
    elapsed_s: float
    data: list[dict[str, str]]
    qualifies: bool  # within the plan's parameter limit
    max_params: int
    finished: str


def task_spec(plan: Plan, data: DataUsed) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": plan.task, **plan.options}
    if data.path is not None:
        spec["data"] = data.path
    if plan.label is not None:
        spec["label"] = plan.label
    return spec


def settings(
    plan: Plan, spec: dict[str, Any], workers: int | None, cpu_cap: float | None, seeds: list[str]
) -> Any:
    """The ``RunSettings`` the plan asks for; ``workers``/``cpu_cap`` from the command line
    win (they change how fast, not what is searched)."""
    from openbrains.engine.run import RunSettings

    run = dict(plan.run)
    run["workers"] = run.get("workers", 1) if workers is None else workers
    run["cpu_cap"] = plan.cpu_cap if cpu_cap is None else cpu_cap
    return RunSettings(task=spec, seeds=seeds, **run)


def keep_plan(run_dir: Path, plan_bytes: bytes) -> None:
    """The plan's bytes in the run folder; a folder that ran another plan is refused."""
    run_dir.mkdir(parents=True, exist_ok=True)
    kept = run_dir / PLAN_FILE
    if kept.exists():
        if kept.read_bytes() != plan_bytes:
            raise ExchangeError(
                f"{run_dir} holds a run of another plan (or another version of it); "
                "choose another --run-dir"
            )
        return
    atomic_write(kept, plan_bytes)


def seed_brain(plan: Plan) -> tuple[list[str], list[bytes]]:
    """The plan's seed brain pulled and checked against its pinned content id."""
    if plan.seed is None:
        return [], []
    from openbrains.engine.exchange.actions import pull
    from openbrains.engine.weights import encode_weights

    pulled = pull(plan.seed.source, None, expect_id=plan.seed.content_id)
    graph = pulled.doc.graph
    assert graph is not None
    return [graph.to_json().decode()], [encode_weights(pulled.doc.weights)]


def finish(run_dir: Path, plan: Plan, data: DataUsed) -> PlanResult:
    """Export the champion and write ``result.json`` and ``result.md`` into ``run_dir``."""
    from openbrains.engine.export import export_individual
    from openbrains.engine.run import status_of

    champion = run_dir / CHAMPION
    export_individual(run_dir, None, champion)
    doc = read_brain(champion.read_bytes(), str(champion))
    f = facts(doc)
    status = status_of(run_dir)
    task = f.tasks[-1] if f.tasks else None
    result = PlanResult(
        plan={"id": plan.id, "version": plan.version, "sha256": plan.sha256},
        task=plan.task,
        metric=task.metric if task else "",
        validation=task.validation if task else None,
        test=task.test if task else None,
        params=f.params,
        content_id=f.content_id,
        individuals=int(status["individuals"]),
        elapsed_s=float(status["elapsed_s"]),
        data=data.identity,
        qualifies=plan.max_params <= 0 or f.params <= plan.max_params,
        max_params=plan.max_params,
        finished=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    atomic_write(run_dir / RESULT_JSON, orjson.dumps(asdict(result), option=orjson.OPT_INDENT_2))
    package = build(_request(run_dir, plan, result), source_for=lambda name: f"FOLDER/{name}")
    atomic_write(run_dir / RESULT_CARD, render(package.card, _result_note(plan, result)).encode())
    return result


def _result_note(plan: Plan, r: PlanResult) -> str:
    score = "–" if r.test is None else f"{r.test:.4f}"
    limit = (
        f" (limit {r.max_params:,}: {'within' if r.qualifies else 'OVER'})" if r.max_params else ""
    )
    data = "; ".join(f"{d.get('url') or d.get('path')} sha256 {d['sha256'][:12]}…" for d in r.data)
    return "\n".join(
        [
            f"# Result of plan {plan.id} v{plan.version}: {plan.title}",
            "",
            f"Task {r.task}: test {r.metric} {score}, {r.params:,} parameters{limit}.",
            f"{r.individuals} individuals in {r.elapsed_s / 60:.1f} minutes.",
            f"Data: {data or 'none needed'}.",
            f"Champion content id: `{r.content_id}`.",
            "",
            "Share it: `openbrains plan report RUN_DIR --to FOLDER` or `--to hf:OWNER`.",
        ]
    )


def _request(run_dir: Path, plan: Plan, r: PlanResult, **kw: Any) -> PublishRequest:
    data = ", ".join(
        f"{d.get('url') or d.get('path')} (sha256 {d['sha256'][:12]}…)" for d in r.data
    )
    description = f"Result of training plan {plan.id} v{plan.version}, {plan.title}."
    if data:
        description += f" Data: {data}."
    seed = plan.seed.source.removeprefix("hf:") if plan.seed else None
    return PublishRequest(
        graph_path=run_dir / CHAMPION,
        description=description,
        base_models=(seed,) if seed else (),
        plan=PlanRef(plan.id, plan.version, plan.sha256),
        **kw,
    )


def report_request(run_dir: Path, license: str, name: str | None) -> PublishRequest:
    """What ``plan report`` publishes: the run's champion, tagged with the plan it followed."""
    run_dir = Path(run_dir)
    for needed in (PLAN_FILE, RESULT_JSON, CHAMPION):
        if not (run_dir / needed).is_file():
            raise ExchangeError(
                f"{run_dir} has no {needed}: not a finished plan run (openbrains plan run PLAN.toml)"
            )
    plan = parse_plan((run_dir / PLAN_FILE).read_bytes(), str(run_dir / PLAN_FILE))
    try:
        raw = orjson.loads((run_dir / RESULT_JSON).read_bytes())
        result = PlanResult(**raw)
    except (orjson.JSONDecodeError, TypeError) as exc:
        raise ExchangeError(f"{run_dir / RESULT_JSON} is damaged ({exc})") from None
    if result.plan.get("sha256") != plan.sha256:
        raise ExchangeError(f"{run_dir}: {RESULT_JSON} was made by another plan than {PLAN_FILE}")
    doc = read_brain((run_dir / CHAMPION).read_bytes(), str(run_dir / CHAMPION))
    if facts(doc).content_id != result.content_id:
        raise ExchangeError(f"{run_dir}: {CHAMPION} is not the brain {RESULT_JSON} describes")
    return _request(run_dir, plan, result, license=license, name=name)
