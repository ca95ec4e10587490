"""`openbrains …`: the command line. Every deliberate error is one clear line and exit 2."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from openbrains.engine import __version__
from openbrains.engine.errors import OpenBrainsError

EXIT_USAGE = 2

Handler = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Handler]] = {}


def command(setup: Callable[[argparse._SubParsersAction], None]) -> Callable[[Handler], Handler]:
    """Register a sub-command: ``setup`` adds its parser, the decorated function runs it."""

    def wrap(fn: Handler) -> Handler:
        COMMANDS[fn.__name__.removeprefix("cmd_").replace("_", "-")] = (setup, fn)
        return fn

    return wrap


def build_parser() -> argparse.ArgumentParser:
    from openbrains.app import (  # noqa: F401  (they register the sub-commands)
        commands,
        exchange_cmd,
        game_cmd,
        live_cmd,
        plan_cmd,
        rate_cmd,
        record_cmd,
        run_cmd,
        sample_cmd,
    )

    parser = argparse.ArgumentParser(
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
    args = parser.parse_args(argv)
    if args.command is None:
        from openbrains.app.start import start

        return start()
    _setup, handler = COMMANDS[args.command]
    try:
        return handler(args)
    except OpenBrainsError as exc:
        print(f"openbrains {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except FileNotFoundError as exc:
        print(f"openbrains {args.command}: no such file: {exc.filename}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
