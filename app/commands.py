"""Sub-commands of `openbrains` for files and the unit catalog."""

from __future__ import annotations

import argparse
from pathlib import Path

from openbrains.app.cli import command


def _units_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("units", help="list the installed units")
    p.add_argument("--markdown", action="store_true", help="print the catalog as docs/units.md")


@command(_units_args)
def cmd_units(args: argparse.Namespace) -> int:
    from openbrains.engine.catalog import catalog_lines, catalog_markdown
    from openbrains.engine.units import REGISTRY

    if args.markdown:
        print(catalog_markdown(), end="")
        return 0
    for line in catalog_lines():
        print(line)
    for plugin, error in REGISTRY.plugin_errors.items():
        print(f"(plugin {plugin!r} failed to load: {error})")
    return 0


def _inspect_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help="describe a .graph file")
    p.add_argument("file", type=Path)


@command(_inspect_args)
def cmd_inspect(args: argparse.Namespace) -> int:
    import openbrains
    from openbrains.app.describe import describe_file

    for line in describe_file(openbrains.read(args.file)):
        print(line)
    return 0


def _convert_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "convert", help="load a .graph (migrating it) and save it in the current format"
    )
    p.add_argument("input", type=Path)
    p.add_argument("output", type=Path)


@command(_convert_args)
def cmd_convert(args: argparse.Namespace) -> int:
    import openbrains

    doc = openbrains.read(args.input)
    openbrains.write(args.output, doc)
    note = (
        f" (migrated from format version {doc.migrated_from})"
        if doc.migrated_from is not None
        else ""
    )
    print(f"wrote {args.output}{note}")
    return 0


def _open_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("open", help="open a .graph project in the window (none: an empty one)")
    p.add_argument("file", type=Path, nargs="?")


@command(_open_args)
def cmd_open(args: argparse.Namespace) -> int:
    import openbrains

    if args.file is not None:
        openbrains.read(args.file)  # a clear error now rather than a dialog later
    from openbrains.app.main import run_window

    return run_window(str(args.file) if args.file is not None else None)


def _screenshot_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("screenshot", help="render the main window with a project into a PNG")
    p.add_argument("output", type=Path)
    p.add_argument("file", type=Path, nargs="?")
    p.add_argument("--size", default="1440x900", help="WIDTHxHEIGHT")


@command(_screenshot_args)
def cmd_screenshot(args: argparse.Namespace) -> int:
    import openbrains

    if args.file is not None:
        openbrains.read(args.file)
    width, height = (int(v) for v in args.size.lower().split("x"))
    from openbrains.app.main import screenshot

    out = screenshot(args.output, args.file, (width, height))
    print(f"wrote {out}")
    return 0
