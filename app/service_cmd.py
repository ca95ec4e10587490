"""`openbrains service install | uninstall | status PROJECT.graph`: keep a project's search
running in the background as a systemd user service (app.service_unit), and see how it is
doing. The unit runs the same run folder the window uses for the project, so opening the
project in the window attaches to the service's search (app.attach)."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

from openbrains.app.backend_args import add_backend_args, backend_argv, backend_values
from openbrains.app.cli import command
from openbrains.app.neighbour_args import (
    FLAGS,
    add_neighbour_args,
    neighbour_argv,
    neighbour_values,
)
from openbrains.engine.errors import OpenBrainsError

EVOLVER_OPTIONS = (  # project evolver key → run option
    ("workers", "--workers"),
    ("cpu_cap", "--cpu-cap"),
    ("population", "--population"),
    ("tradeoff", "--tradeoff"),
    ("max_params", "--max-params"),
)


def _service_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "service",
        help="run a project's search in the background as a systemd user service",
        description="install: write a systemd user unit that runs `openbrains run PROJECT` at "
        "the lowest priority and restarts it if it fails, then enable and start it; "
        "uninstall: stop and remove it; status: the unit and the run.",
    )
    p.add_argument("action", choices=("install", "uninstall", "status"))
    p.add_argument("project", type=Path, help="the .graph project")
    p.add_argument("--workers", type=int, help="worker processes (default: the project's)")
    p.add_argument("--cpu-cap", type=float, help="CPU cap, percent of one core (project's)")
    p.add_argument(
        "--no-start", action="store_true", help="write the unit only; do not enable or start it"
    )
    add_neighbour_args(p)
    add_backend_args(p)


def user_manager() -> bool:
    """Whether a systemd user manager answers here (a desktop or lingering session)."""
    tool = shutil.which("systemctl")
    if tool is None:
        return False
    try:
        done = subprocess.run(
            [tool, "--user", "show-environment"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def systemctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemctl", "--user", *args], capture_output=True, text=True, timeout=120
    )


@command(_service_args)
def cmd_service(args: argparse.Namespace) -> int:
    from openbrains.app import service_unit as su

    project = args.project.absolute()
    path = su.unit_dir() / su.unit_name(project)
    if args.action == "install":
        return _install(args, project, path)
    if args.action == "uninstall":
        return _uninstall(args, path)
    return _status(project, path)


def _install(args: argparse.Namespace, project: Path, path: Path) -> int:
    from openbrains.app import service_unit as su
    from openbrains.app.launcher import command as program
    from openbrains.app.project import Project

    proj = Project.open(project)  # a clear error now for a file that is no project
    if not proj.task.get("name"):
        raise OpenBrainsError(f"{project} names no task; choose one in the window and save")
    evolver = dict(proj.evolver)
    if args.workers is not None:
        evolver["workers"] = args.workers
    if args.cpu_cap is not None:
        evolver["cpu_cap"] = args.cpu_cap
    options = []
    for key, flag in EVOLVER_OPTIONS:
        if evolver.get(key) is not None:
            options += [flag, str(evolver[key])]
    # the project's good-neighbour rules (the run bar keeps them), the command line's win
    rules = {k: evolver[k] for k in FLAGS if k in evolver}
    options += neighbour_argv({**rules, **neighbour_values(args)})
    backend_values(args)  # refuse now what the unit's run would refuse at every restart
    options += backend_argv(args)
    spec = su.UnitSpec(program(), project, proj.default_run_dir().absolute(), options)
    text = su.render_unit(spec)
    problems = su.check_unit(text)
    if problems:  # our own unit: a bug, but say it plainly rather than install it
        raise OpenBrainsError(f"the unit for {project.name} is not valid: {problems[0]}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    print(f"wrote {path}")
    print(f"it runs: {' '.join(spec.exec_args())}")
    verdict = su.verify_unit(path)
    if verdict is not None and not verdict[0]:
        print(f"systemd-analyze --user verify says: {verdict[1]}")
    if args.no_start:
        return 0
    if not user_manager():
        print(
            "no systemd user manager answers here; in your desktop session run:\n"
            f"  systemctl --user daemon-reload && systemctl --user enable --now {path.name}\n"
            "(and `loginctl enable-linger` to keep it running while you are logged out)"
        )
        return 0
    systemctl("daemon-reload")
    done = systemctl("enable", "--now", path.name)
    if done.returncode != 0:
        raise OpenBrainsError(f"systemctl could not start {path.name}: {done.stderr.strip()}")
    print(f"enabled and started {path.name}; `openbrains service status {args.project}`")
    return 0


def _uninstall(args: argparse.Namespace, path: Path) -> int:
    manager = user_manager()
    if manager:
        systemctl("disable", "--now", path.name)
    if not path.exists():
        print(f"no service for {args.project} ({path} does not exist)")
        return 0
    path.unlink()
    if manager:
        systemctl("daemon-reload")
    print(f"removed {path}" + ("; the service is stopped" if manager else ""))
    return 0


def _status(project: Path, path: Path) -> int:
    from openbrains.app.project import Project
    from openbrains.engine import runlock
    from openbrains.engine.run import status_of

    if path.exists():
        state = ""
        if user_manager():
            active = systemctl("is-active", path.name).stdout.strip()
            enabled = systemctl("is-enabled", path.name).stdout.strip()
            state = f" ({enabled}, {active})"
        print(f"service {path.name}: installed{state} at {path}")
    else:
        print(f"service: not installed for {project}")
    run_dir = Project.open(project).default_run_dir()
    owner = runlock.owner(run_dir)
    print(
        f"run folder {run_dir}: "
        + (f"searching, in process {owner.pid}" if owner else "no search running")
    )
    if (run_dir / "run.sqlite").exists():
        st = status_of(run_dir)
        best = st.get("best")
        line = f"{st['individuals']} individuals, {st['elapsed_s'] / 60:.1f} min"
        if best:
            line += f", best {best['metric']} {best['score']:.4f}"
        print(line)
    return 0
