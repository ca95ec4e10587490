"""`openbrains plan run | report`: run a training plan, share its result.

``plan run PLAN.toml`` fetches the plan's data (once, into the cache) or asks before using a
local path it names, starts the population (from the plan's seed brain when it names one),
runs for the plan's budget, and writes ``result.json`` and ``result.md`` beside the run.
``plan report RUN_DIR --to DEST`` publishes the champion tagged with the plan's id.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from openbrains.app.cli import command


def _plan_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="run a training plan (plans/*.toml) or publish its result")
    verbs = p.add_subparsers(dest="plan_command", metavar="run|report", required=True)
    run = verbs.add_parser("run", help="run PLAN.toml and write its result card")
    run.add_argument("plan", type=Path)
    run.add_argument("--data", type=Path, help="your copy of the plan's data (instead of its own)")
    run.add_argument("--run-dir", type=Path, help="run folder (default: runs/plan-ID-vN)")
    run.add_argument("--workers", type=int, help="worker processes (the plan's by default)")
    run.add_argument("--cpu-cap", type=float, help="CPU cap, percent of one core")
    run.add_argument("--yes", action="store_true", help="use a local path the plan names")
    run.add_argument("--quiet", action="store_true")
    report = verbs.add_parser("report", help="publish a plan run's champion, tagged with the plan")
    report.add_argument("run_dir", type=Path)
    report.add_argument("--to", required=True, help="a folder, hf:OWNER or hf:OWNER/NAME")
    report.add_argument("--name", help="its name there")
    report.add_argument("--license", default="unknown")
    report.add_argument(
        "--no-onnx", action="store_true", help="publish only the .graph (no brain.onnx)"
    )


@command(_plan_args)
def cmd_plan(args: argparse.Namespace) -> int:
    if args.plan_command == "report":
        return _report(args)
    return _run(args)


def _confirm(yes: bool) -> Any:
    def confirm(path: str) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            return False
        answer = input(f"The plan wants to read data at {path!r}. Use it? [y/N] ")
        return answer.strip().lower() in ("y", "yes")

    return confirm


def _run(args: argparse.Namespace) -> int:
    from openbrains.app.run_cmd import Progress
    from openbrains.app.trustlist import remember_run
    from openbrains.engine.exchange import planrun
    from openbrains.engine.exchange.errors import ExchangeError
    from openbrains.engine.exchange.plandata import resolve
    from openbrains.engine.exchange.plans import read_plan
    from openbrains.engine.run import Run

    plan, plan_bytes = read_plan(args.plan)
    run_dir = args.run_dir or Path("runs") / f"plan-{plan.key}"
    data = resolve(plan, args.data, _confirm(args.yes))
    seeds, seed_weights = planrun.seed_brain(plan)
    spec = planrun.task_spec(plan, data)
    settings = planrun.settings(plan, spec, args.workers, args.cpu_cap, seeds)
    planrun.keep_plan(run_dir, plan_bytes)
    if not args.quiet:
        print(
            f"plan {plan.id} v{plan.version}: {plan.title}; run folder {run_dir}", file=sys.stderr
        )
    run = Run(run_dir, settings, on_event=Progress(args.quiet))
    measured = run.task.describe().get("metric")
    if plan.metric and measured != plan.metric:
        run.close()
        raise ExchangeError(
            f"{plan.source} reports {plan.metric}, but task {plan.task} measures {measured}"
        )
    remember_run(run_dir, spec)
    run.save_seed_weights(seed_weights)
    stopped: list[int] = []

    def on_signal(signum: int, _frame: Any) -> None:
        if stopped:
            raise KeyboardInterrupt
        stopped.append(signum)
        run.stop()

    old = signal.signal(signal.SIGINT, on_signal), signal.signal(signal.SIGTERM, on_signal)
    try:
        run.run(minutes=plan.minutes or None, max_individuals=plan.individuals or None)
    finally:
        signal.signal(signal.SIGINT, old[0])
        signal.signal(signal.SIGTERM, old[1])
        run.close()
    result = planrun.finish(run_dir, plan, data)
    score = "–" if result.test is None else f"{result.test:.4f}"
    within = "" if result.qualifies else f" — over the plan's limit of {result.max_params:,}"
    print(
        f"plan {plan.id} v{plan.version}: test {result.metric} {score}, "
        f"{result.params:,} params{within}; result card {run_dir / planrun.RESULT_CARD}"
    )
    print(f"share it: openbrains plan report {run_dir} --to FOLDER (or hf:OWNER)")
    return 0


def _report(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from openbrains.engine.exchange.actions import publish
    from openbrains.engine.exchange.planrun import report_request

    req = replace(report_request(args.run_dir, args.license, args.name), onnx=not args.no_onnx)
    ref, package = publish(req, args.to)
    plan = package.card.plan
    assert plan is not None
    print(f"published {package.name} to {ref}, tagged plan:{plan.id} (v{plan.version})")
    for name, why in package.missing.items():
        print(f"published without {name}: {why}")
    print(
        f"compare results: openbrains browse {args.to.split('/')[0] if args.to.startswith('hf:') else args.to} --plan {plan.id}"
    )
    return 0
