"""`openbrains …`: the command line. Every deliberate error is one clear line and exit 2."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from openbrains.engine import __version__
from openbrains.engine.errors import OpenBrainsError

EXIT_USAGE = 2
EXIT_BUG = 1

Handler = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Handler]] = {}


def command(setup: Callable[[argparse._SubParsersAction], None]) -> Callable[[Handler], Handler]:
    """Register a sub-command: ``setup`` adds its parser, the decorated function runs it."""

    def wrap(fn: Handler) -> Handler:
        COMMANDS[fn.__name__.removeprefix("cmd_").replace("_", "-")] = (setup, fn)
        return fn

    return wrap


class Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (not the usage block) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from openbrains.app import (  # noqa: F401  (they register the sub-commands)
        commands,
        desktop_cmd,
        exchange_cmd,
        export_cmd,
        game_cmd,
        live_cmd,
        plan_cmd,
        rate_cmd,
        record_cmd,
        report_cmd,
        run_cmd,
        sample_cmd,
        service_cmd,
        travel_cmd,
    )

    parser = Parser(
        prog="openbrains",
        description="Grow your own tiny neural networks: evolve, train, share .graph files.",
    )
    parser.add_argument("--version", action="version", version=f"openbrains {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for setup, _fn in COMMANDS.values():
        setup(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, a bad argument: its code, as a return
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        from openbrains.app.start import start

        return start()
    _setup, handler = COMMANDS[args.command]
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if os.environ.get("OPENBRAINS_TRACEBACK"):
            raise
        line, code = one_line(exc)
        print(f"openbrains {args.command}: {line}", file=sys.stderr)
        return code


def one_line(exc: Exception) -> tuple[str, int]:
    """What the user reads, and the exit code: 2 for errors in what they gave (files,
    values, a full disk), 1 for a bug (its type named, the traceback on request)."""
    from openbrains.engine.diskspace import is_disk_full

    if isinstance(exc, OpenBrainsError):
        return str(exc).strip().replace("\n", " "), EXIT_USAGE
    if isinstance(exc, FileNotFoundError):
        return f"no such file: {exc.filename}", EXIT_USAGE
    if isinstance(exc, OSError) and is_disk_full(exc):
        where = f" writing {exc.filename}" if exc.filename else ""
        return f"disk full{where}: {exc.strerror}; make room and run again", EXIT_USAGE
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where}", EXIT_USAGE
    if isinstance(exc, MemoryError):
        return "out of memory", EXIT_USAGE
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return (
        f"unexpected error ({type(exc).__name__}: {first}); this is a bug in openbrains: "
        "set OPENBRAINS_TRACEBACK=1 to see where",
        EXIT_BUG,
    )
