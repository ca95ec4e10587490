"""`openbrains run | status | eval`: evolution from the terminal, for days (`export` is in
export_cmd.py)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from openbrains.app import argtypes
from openbrains.app.backend_args import add_backend_args, backend_values
from openbrains.app.cli import command
from openbrains.app.neighbour_args import add_neighbour_args, neighbour_values
from openbrains.app.taskargs import TaskHelp, add_option_arg, grant_if_code, parse_options
from openbrains.app.trustlist import remember_run
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.trust import safe_name

# the run folder is in use by another process: not the user's mistake, and it may pass
# (EX_TEMPFAIL; the systemd unit restarts on it, and not on 2, a usage error)
EXIT_BUSY = 75

# written out, not imported: the task registry pulls in torch, and `openbrains --version`
# should not wait for it (a test keeps this list equal to the registry's)
RUN_TASKS = (
    "xor", "digits", "mnist", "csv", "images", "audio", "tictactoe", "connect4", "maze",
    "text", "callresponse", "denoise", "stream",
)  # fmt: skip


def _task_spec(args: argparse.Namespace) -> dict[str, Any]:
    """The task the command line names (``--task``, ``--data``, ``--label``, ``--option``);
    code named by ``--task`` is the user's own and is trusted (``engine.trust``)."""
    grant_if_code(args.task, "--task")
    spec: dict[str, Any] = {"name": args.task}
    if getattr(args, "data", None):
        spec["data"] = str(Path(args.data).resolve())
    if getattr(args, "label", None):
        spec["label"] = args.label
    spec.update(parse_options(getattr(args, "option", None)))
    return spec


def _run_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run", help="evolve a population on a task (resumes when run again)", add_help=False
    )
    p.add_argument("-h", "--help", action=TaskHelp)
    p.add_argument("project", nargs="?", type=Path, help="a .graph project to start from")
    p.add_argument(
        "--task",
        help=f"a task ({', '.join(RUN_TASKS)}) or your own game, package.module:Class "
        "(found from the current folder as `python -m` would)",
    )
    p.add_argument("--data", help="data file or folder for the task")
    p.add_argument("--label", help="label column (csv)")
    add_option_arg(p)
    p.add_argument(
        "--seed-from",
        type=Path,
        metavar="FILE.graph",
        help="continue a shared brain on this task: it keeps its old tasks' heads",
    )
    p.add_argument(
        "--keep",
        choices=("protect", "share", "off"),
        help="with --seed-from: protect (default; old tasks bit-identical), share (old "
        "weights train, old tasks kept by their probes), off (plain fine-tuning)",
    )
    p.add_argument("--run-dir", type=Path, help="run folder (default: runs/<task>)")
    p.add_argument("--minutes", type=argtypes.minutes, help="stop after this many minutes")
    p.add_argument("--until", help="stop when the champion reaches e.g. accuracy>=0.97")
    p.add_argument(
        "--individuals", type=argtypes.count, help="stop after this many new individuals"
    )
    p.add_argument(
        "--workers",
        type=argtypes.setting("workers"),
        default=1,
        help="worker processes (0 = train in this process)",
    )
    p.add_argument(
        "--cpu-cap",
        type=argtypes.setting("cpu_cap"),
        default=0.0,
        help="average CPU cap, percent of one core (0 = no cap)",
    )
    p.add_argument("--seed", type=argtypes.setting("seed"), default=0)
    p.add_argument("--population", type=argtypes.setting("population"), default=16)
    p.add_argument(
        "--max-params",
        type=argtypes.setting("max_params"),
        default=0,
        help="largest brain allowed (0 = sized from the task)",
    )
    p.add_argument(
        "--budget-steps",
        type=argtypes.setting("budget_steps"),
        default=0,
        help="training steps for a new candidate (0 = sized)",
    )
    p.add_argument(
        "--tradeoff",
        type=argtypes.setting("tradeoff"),
        default=0.02,
        help="weight of size and latency against the score",
    )
    p.add_argument(
        "--novelty-weight",
        type=argtypes.setting("novelty_weight"),
        default=0.0,
        help="weight of structural novelty (distance to what the run has tried) beside the score when choosing parents",
    )
    p.add_argument(
        "--template-half-life",
        type=argtypes.setting("template_half_life"),
        default=200,
        help="the share of new graphs drawn from templates halves every this many individuals (0 = never)",
    )
    p.add_argument(
        "--rating-weight",
        type=argtypes.setting("rating_weight"),
        default=0.0,
        help="0..1: weight of people's ratings (openbrains rate) against the task's score",
    )
    p.add_argument(
        "--no-refit",
        action="store_true",
        help="do not train each new champion on with the validation data added (see README, Runs)",
    )
    p.add_argument(
        "--no-inherit",
        action="store_true",
        help="no weight inheritance: children and promoted survivors train from fresh weights (an ablation)",
    )
    t = p.add_argument_group("teacher (optional; see README, Teachers)")
    t.add_argument(
        "--teacher",
        metavar="SPEC",
        help="openai:MODEL@BASE_URL, graph:FILE.graph, onnx:FILE.onnx or hf:MODEL",
    )
    t.add_argument(
        "--teach",
        metavar="ROLE",
        help="what the teacher does: label, pairs, rate, tag or distill",
    )
    t.add_argument(
        "--teacher-key-env",
        metavar="NAME",
        default="",
        help="environment variable holding the API key (openai: teachers; never stored)",
    )
    t.add_argument("--unlabelled", metavar="DIR", help="label: the files to label")
    t.add_argument("--prompts", metavar="FILE", help="pairs: prompts, one per line")
    t.add_argument(
        "--teacher-min-confidence",
        type=float,
        default=0.8,
        help="label/tag: labels the teacher is less sure of are left out",
    )
    t.add_argument(
        "--teacher-timeout", type=float, default=60.0, help="seconds to wait for one answer"
    )
    t.add_argument(
        "--teacher-rps", type=float, default=4.0, help="at most this many requests a second"
    )
    p.add_argument(
        "--device-budget",
        type=_device_budget,
        metavar="flash=SIZE,ram=SIZE",
        help="a hard limit: every candidate's C build fits, e.g. flash=32k,ram=2k (an Arduino "
        "Uno); add ,weights=int8 to count int8 weights",
    )
    p.add_argument("--quiet", action="store_true")
    add_neighbour_args(p)
    add_backend_args(p)


def _device_budget(text: str) -> dict[str, Any]:
    from openbrains.engine.exporters.budget import DeviceBudget

    try:
        return DeviceBudget.parse(text).to_dict()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def teacher_order(args: argparse.Namespace) -> Any:
    """The teacher the user asked for on this command line (None: no teacher)."""
    if not getattr(args, "teacher", None):
        if getattr(args, "teach", None):
            raise OpenBrainsError("--teach needs --teacher SPEC (the teacher to ask)")
        return None
    if not args.teach:
        raise OpenBrainsError("--teacher needs --teach ROLE: label, pairs, rate, tag or distill")
    from openbrains.engine.teachers.work import TeacherOrder

    return TeacherOrder(
        spec=args.teacher,
        role=args.teach,
        key_env=args.teacher_key_env,
        unlabelled=str(Path(args.unlabelled).resolve()) if args.unlabelled else "",
        prompts=str(Path(args.prompts).resolve()) if args.prompts else "",
        min_confidence=args.teacher_min_confidence,
        timeout_s=args.teacher_timeout,
        requests_per_s=args.teacher_rps,
    ).checked()


class Progress:
    """A one-line live display on a terminal; a line every 10 s otherwise (logs)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "disk_low":  # a warning is shown even with --quiet
            self._line(f"warning: {data['message']}", final=True)
            return
        if self.quiet:
            return
        if kind == "individual" and data.get("champion"):
            self._line(
                f"new champion #{data['id']}: {data['metric']} {data['score']:.4f} "
                f"(test {data['test_score']:.4f}), {data['params']:,} params, {data['mutation'] or data['origin']}",
                final=True,
            )
        elif kind == "progress":
            now = time.monotonic()
            if self.tty or now - self.last >= 10:
                self.last = now
                self._line(self.format(data), final=not self.tty)
        elif kind == "stopped":
            self._line(self.format(data), final=True)
        elif kind == "refit" and data.get("test_score") is not None:
            self._line(
                f"refit of #{data['of']} with the validation data: test {data['test_score']:.4f}",
                final=True,
            )
        elif kind == "finishing":
            self._line(f"finishing: refitting champion #{data['refit_of']}", final=True)
        elif kind == "teacher_error":
            self._line(f"teacher: {data.get('message', '')}", final=True)
        elif kind == "neighbour":
            waiting = data.get("waiting") or []
            text = f"waiting: {'; '.join(waiting)}" if waiting else "going on"
            self._line(text, final=True)

    @staticmethod
    def format(p: dict[str, Any]) -> str:
        best = p.get("best")
        champ = "no champion yet"
        if best:
            champ = f"best {best['metric']} {best['score']:.4f} (test {best['test_score']:.4f}) {best['params']:,} params"
        mins, secs = divmod(int(p["elapsed_s"]), 60)
        return (
            f"[{mins:02d}:{secs:02d}] {p['individuals']} individuals ({p['per_minute']:.1f}/min) "
            f"{champ}, {p['species']} species"
        )

    def _line(self, text: str, final: bool) -> None:
        if self.tty:
            sys.stderr.write("\r\x1b[2K" + text + ("\n" if final else ""))
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()


@command(_run_args)
def cmd_run(args: argparse.Namespace) -> int:
    import openbrains
    from openbrains import RunSettings, Until

    until = Until.parse(args.until) if args.until else None
    seeds: list[str] = []
    seed_weights: list[bytes] = []
    probes, keep = b"", ""
    if args.keep and args.seed_from is None:
        raise OpenBrainsError("--keep goes with --seed-from FILE.graph")
    if args.seed_from is not None and (args.project is not None or not args.task):
        raise OpenBrainsError("--seed-from continues a brain on a new task: give --task NAME")
    if args.project is not None:
        task_spec, seeds, seed_weights = _project_task(args)
    elif args.task:
        task_spec = _task_spec(args)
    else:
        raise OpenBrainsError("give --task NAME (see `openbrains run --help`) or a PROJECT.graph")
    if args.seed_from is not None:
        keep = args.keep or "protect"
        seeds, seed_weights, probes = _continued_seed(args.seed_from, task_spec, keep, args.seed)
    backend, backend_options = backend_values(args)  # Ray missing, no cluster: say so now
    run_dir = args.run_dir or Path("runs") / safe_name(task_spec["name"])
    order = teacher_order(args)
    rating_weight = args.rating_weight
    if order is not None and order.role in ("rate", "tag") and rating_weight <= 0:
        rating_weight = 0.3  # a rating teacher with ratings that count for nothing is no use
    settings = RunSettings(
        task=task_spec,
        seed=args.seed,
        population=args.population,
        workers=args.workers,
        cpu_cap=args.cpu_cap,
        max_params=args.max_params,
        budget_steps=args.budget_steps,
        tradeoff=args.tradeoff,
        novelty_weight=args.novelty_weight,
        template_half_life=args.template_half_life,
        rating_weight=min(1.0, max(0.0, rating_weight)),
        inherit=not args.no_inherit,
        refit=not args.no_refit,
        seeds=seeds,
        keep=keep,
        device_budget=args.device_budget,
        **neighbour_values(args),
    )
    from openbrains.engine.service import Service
    from openbrains.engine.store import ArchiveLocked

    progress = Progress(args.quiet)
    host = Service(None)  # a window that opens this run attaches here (engine.control)

    def on_event(event: openbrains.Event) -> None:
        progress(event.kind, event.data)
        host.event(event.kind, event.data)

    try:
        run = openbrains.start_run(
            run_dir=run_dir,
            settings=settings,
            on_event=on_event,
            backend=backend,
            backend_options=backend_options,
            engine_options={"teacher": order},
        )
    except ArchiveLocked as exc:  # a window or another run has it now: the service retries
        print(f"openbrains run: {exc}", file=sys.stderr)
        return EXIT_BUSY
    remember_run(run_dir, task_spec)  # its paths are the user's: `rate`/`record` use them
    if rating_weight != args.rating_weight and not args.quiet:
        print(
            "--teach rate/tag: ratings count 0.3 against the score (--rating-weight)",
            file=sys.stderr,
        )
    run.engine.save_seed_weights(seed_weights, probes)
    host.run, host.thread = run.engine, threading.current_thread()
    host.listen()
    interrupted = []

    def on_signal(signum: int, _frame: Any) -> None:
        if interrupted:  # second Ctrl+C: stop now
            raise KeyboardInterrupt
        interrupted.append(signum)
        run.stop()

    old_int = signal.signal(signal.SIGINT, on_signal)
    old_term = signal.signal(signal.SIGTERM, on_signal)
    try:
        if not args.quiet:
            resumed = f", resuming {run.individuals} individuals" if run.individuals else ""
            print(f"run folder {run_dir}{resumed}; Ctrl+C stops cleanly", file=sys.stderr)
        run.run(minutes=args.minutes, until=until, individuals=args.individuals)
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
        host.release()
        run.close()
    return 0


def _file_tasks(path: Path) -> list[str]:
    from openbrains.engine.format import load

    doc = load(path)
    return list(doc.graph.tasks) if doc.graph is not None else []


def _continued_seed(
    path: Path, task_spec: dict[str, Any], keep: str, seed: int
) -> tuple[list[str], list[bytes], bytes]:
    """The continued seed (engine.continual.seeding) as a run keeps it: graph JSON, weights
    and the old tasks' probes (safetensors). The file is only read, as data."""
    from openbrains.engine.continual.seeding import continue_seed
    from openbrains.engine.format import load, runnable
    from openbrains.engine.tasks.registry import load_task
    from openbrains.engine.weights import encode_weights

    doc = load(path)
    if doc.graph is not None and doc.weights:
        runnable(doc, str(path))  # weights that do not fit are refused, as eval does
    done = continue_seed(doc, str(path), load_task(**task_spec), keep, seed)
    probes = encode_weights(done.probes) if done.probes else b""
    return [done.graph.to_json().decode()], [encode_weights(done.weights)], probes


def _project_task(args: argparse.Namespace) -> tuple[dict[str, Any], list[str], list[bytes]]:
    """Task and seed graph(s) from a .graph project.

    The project is data: the code its task names runs only when ``--task`` names it too,
    and its data path is used only when this user saved the project here (app.trustlist)
    or gives it again with ``--data``. A ``--task`` other than the project's replaces it.
    """
    import openbrains
    from openbrains.app.trustlist import project_paths, trusts
    from openbrains.engine.format import runnable
    from openbrains.engine.settings_check import SettingsError, task_problem
    from openbrains.engine.trust import is_code_name, locate

    doc = openbrains.read(args.project)
    project = doc.project or {}
    task = project.get("task") or {}
    if not isinstance(task, dict):
        raise SettingsError(f"{args.project}: project.json's 'task' {task_problem(task)}")
    task = dict(task)
    if args.task and args.task != task.get("name"):
        task = _task_spec(args)
    else:
        if args.task:
            grant_if_code(args.task, "--task")
        name = task.get("name")
        if not name:
            raise OpenBrainsError(f"{args.project} names no task; add --task NAME")
        if is_code_name(name) and not args.task:
            where = locate(str(name))
            raise OpenBrainsError(
                f"{args.project} asks to run Python code {name!r}"
                + (f" (from {where})" if where else "")
                + f"; a file never runs code: if you wrote or installed it, re-run with --task {name}"
            )
        if getattr(args, "data", None):  # the project's task on the user's own data
            task["data"] = str(Path(args.data).resolve())
        elif task.get("data"):
            given = project_paths(Path(args.project).read_bytes())
            if not trusts(given, str(task["data"])):
                raise OpenBrainsError(
                    f"{args.project} names the data {task['data']!r}; a project's paths are "
                    "used only when you saved it on this machine: give --data PATH to use it"
                )
        if getattr(args, "label", None):
            task["label"] = args.label
        task.update(parse_options(getattr(args, "option", None)))
    from openbrains.engine.weights import encode_weights

    seeds, weights = [], []
    if doc.graph is not None and doc.graph.nodes and doc.weights:
        runnable(doc, str(args.project))  # seed weights that do not fit are refused, as eval does
    if doc.graph is not None and doc.graph.nodes:
        seeds.append(doc.graph.to_json().decode())
        weights.append(encode_weights(doc.weights) if doc.weights else b"")
    return task, seeds, weights


def _status_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="summarise a run folder")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--json", action="store_true")


@command(_status_args)
def cmd_status(args: argparse.Namespace) -> int:
    from openbrains.engine.run import dumps, status_of

    st = status_of(args.run_dir)
    if args.json:
        print(dumps(st))
        return 0
    print(
        f"run {st['run_dir']}: task {st['task'].get('name')}, {st['individuals']} individuals, "
        f"{st['elapsed_s'] / 60:.1f} min, {st['species']} species"
    )
    print(
        f"archive {st['archive_mb']:.1f} MB on disk, weights kept for {st['with_weights']} "
        "(the living, the Pareto front, species champions, the champion's lineage)"
    )
    if st.get("waiting"):
        print(f"waiting: {'; '.join(st['waiting'])}")
    b = st["best"]
    if b:
        print(
            f"best #{b['id']}: {b['metric']} {b['score']:.4f} (validation), {b['test_score']:.4f} (test), "
            f"{b['params']:,} params, {b['steps']} steps"
        )
        refit = b.get("refit")
        if refit and refit.get("test_score") is not None:  # what an export writes
            print(
                f"  refit with the validation data: {refit['test_score']:.4f} (test), "
                f"{refit['steps']} more steps; export writes it (--no-refit: the chosen weights)"
            )
        for name, values in (b.get("tasks") or {}).items():  # a continued run's old tasks
            shown = ", ".join(f"{k} {v:.4f}" for k, v in values.items() if v is not None)
            print(f"  old task {name} ({st.get('keep')}): {shown}")
    if st.get("references"):
        print(yardstick(st["references"], b["score"] if b else None))
    if st.get("samples") or st.get("ratings"):
        recorded = ", ".join(
            f"{k} {v['train']}+{v['val']}" for k, v in st.get("samples", {}).items()
        )
        print(f"recorded (train+val): {recorded or 'none'}; {st.get('ratings', 0)} ratings")
    if st.get("teacher_answers"):
        print(f"teacher answers cached: {st['teacher_answers']}")
    return 0


def yardstick(references: dict[str, float], best: float | None) -> str:
    """Reference players' Elo in order, the champion placed among them: what a game
    run's rating means (random = 0 by convention)."""
    items = [(float(r), name) for name, r in references.items()]
    if best is not None:
        items.append((float(best), "\0best"))
    parts = [
        f"[champion {r:.0f}]" if name == "\0best" else f"{name} {r:.0f}"
        for r, name in sorted(items)
    ]
    return "reference players (elo): " + " < ".join(parts)


def _eval_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="test score of a .graph on every task it knows, or on one")
    p.add_argument("file", type=Path)
    p.add_argument(
        "--task",
        help="one task: a task of the file, a task name or your own package.module:Class "
        "(default: every task the file records)",
    )
    p.add_argument("--data")
    p.add_argument("--label")
    add_option_arg(p, "task (a game's recorded options are used unless given here)")
    p.add_argument("--json", action="store_true")


@command(_eval_args)
def cmd_eval(args: argparse.Namespace) -> int:
    from openbrains.engine.run import dumps

    tasks = _file_tasks(args.file)
    if args.task is None or (len(tasks) > 1 and args.task in tasks):
        from openbrains.engine.continual.scores import evaluate_tasks

        given = _task_spec(args) if args.task and (args.data or args.option) else None
        scores = evaluate_tasks(args.file, args.task, given)
        if args.json:
            print(dumps({"tasks": [s.to_dict() for s in scores]}))
        else:
            for score in scores:
                print(score.line())
        return 0
    import openbrains

    spec = _task_spec(args)  # code the user named is granted here
    result = openbrains.evaluate(
        args.file, spec.pop("name"), spec.pop("data", None), spec.pop("label", None), spec
    )
    if args.json:
        print(dumps(result.to_dict()))
    else:
        print(
            f"{result.metric}={result.score:.4f} (test, {result.examples} examples, task {result.task})"
        )
    return 0
