"""What every command that takes a task shares: ``--option KEY=VALUE``, the grant of code the
user names on the command line (``engine.trust``), and ``--help TASK``.

A name typed after ``--task``, ``--game`` or ``--opponent`` is the user's own hands: if it is
code (``package.module:Class``) it is granted here, found from the current folder as
``python -m`` would. Names that come from files are never granted (see docs/security.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from openbrains.engine.errors import OpenBrainsError

RESERVED = ("name", "data", "label", "seed", "recorded")
"""Keys of a task spec that are not options (they have flags of their own)."""


def add_option_arg(p: argparse.ArgumentParser, what: str = "task") -> None:
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"a {what} option, repeatable (`openbrains run --help TASK` lists a task's options)",
    )


def parse_options(items: list[str] | None) -> dict[str, str]:
    """``["n=6", "sims=10"]`` → ``{"n": "6", "sims": "10"}`` (text: each task converts it to
    the type of its declared option)."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise OpenBrainsError(f"--option must look like KEY=VALUE, got {item!r}")
        if key in RESERVED:
            raise OpenBrainsError(f"{key} is not a task option; give it as --{key}")
        out[key] = value.strip()
    return out


def grant_if_code(name: Any, flag: str) -> None:
    """The user typed ``name`` after ``flag``: if it names code, they trust it."""
    from openbrains.engine.trust import is_code_name, user_gave

    if is_code_name(name):
        user_gave(str(name), flag, Path.cwd())


class TaskHelp(argparse.Action):
    """``-h/--help [TASK]``: the command's help, then every task in one line each, or one
    task's options in full (also after ``--task TASK``)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(
            option_strings,
            dest=argparse.SUPPRESS,
            default=argparse.SUPPRESS,
            nargs="?",
            metavar="TASK",
            help="show this help; with a TASK (or after --task), that task's options in full",
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        parser.print_help()
        task = values or getattr(namespace, "task", None)
        print()
        try:
            from openbrains.engine.tasks.registry import describe_task, describe_tasks

            if task:
                grant_if_code(task, "--help")
                lines = describe_task(str(task))
            else:
                lines = ["tasks:", *("  " + line for line in describe_tasks())]
                lines.append("  package.module:Class  your own game or scored environment")
                lines.append("`openbrains run --help TASK` shows one task's options in full.")
        except OpenBrainsError as exc:
            parser.exit(2, f"{parser.prog}: {exc}\n")
        print("\n".join(lines))
        parser.exit()


def add_run_task_args(p: argparse.ArgumentParser) -> None:
    """``--task``/``--data`` for commands on a run folder: a run folder is data, so its task's
    code runs only when named here, and its data path is used only when this user started
    the run here or gives it again."""
    p.add_argument("--task", help="the run's task, to trust its code (package.module:Class)")
    p.add_argument("--data", help="the run's data file or folder, when the run folder is not yours")


def run_folder_task(run_dir: Path, stored: Any, args: argparse.Namespace) -> dict[str, Any]:
    """The task spec stored in ``run_dir``, as this user may use it (see
    ``add_run_task_args``); anything else is a one-line error that says what to give."""
    from openbrains.app.trustlist import run_trusted
    from openbrains.engine.trust import is_code_name, locate

    if not isinstance(stored, dict) or not stored.get("name"):
        raise OpenBrainsError(f"{run_dir} holds no run yet")
    spec = dict(stored)
    name = spec["name"]
    if getattr(args, "task", None):
        if args.task != name:
            raise OpenBrainsError(f"{run_dir} is a run of task {name!r}, not {args.task!r}")
        grant_if_code(args.task, "--task")
    elif is_code_name(name):
        where = locate(str(name))
        raise OpenBrainsError(
            f"{run_dir} is a run of Python code {name!r}"
            + (f" (from {where})" if where else "")
            + f"; a run folder never runs code: if you wrote or installed it, re-run with --task {name}"
        )
    if getattr(args, "data", None):
        spec["data"] = str(Path(args.data).resolve())
    elif spec.get("data") and not run_trusted(run_dir, stored):
        raise OpenBrainsError(
            f"{run_dir} names the data {spec['data']!r}, which you did not give for this run "
            "folder on this machine: give --data PATH to use it"
        )
    return spec
