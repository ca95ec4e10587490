"""`openbrains export`: a brain from a run folder or a .graph file, written as a .graph, an
ONNX model, C99 for microcontrollers or a static web page (docs/export.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from openbrains.app.cli import command
from openbrains.app.taskargs import add_option_arg, parse_options

FORMATS = ("graph", "onnx", "c", "web")  # written out: importing the exporters pulls in torch


def _export_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write a brain as .graph, ONNX, C99 or a web page",
        description=(
            "SOURCE is a run folder (with --best or --id) or a .graph file. The format follows "
            "OUT's suffix (.graph, .onnx, .c, .web) or a folder named c or web (also -c, _c, "
            "-web, _web); .graph is the default. OUT must not exist yet."
        ),
    )
    p.add_argument("source", type=Path, metavar="SOURCE", help="RUN_DIR or FILE.graph")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--best", action="store_true", help="the run's champion")
    which.add_argument("--id", type=int, help="an individual of the run by id")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT")
    p.add_argument("--format", choices=FORMATS, help="graph, onnx, c or web (default: from OUT)")
    p.add_argument("--quantize", choices=("int8",), help="C only: int8 weights, a scale per row")
    p.add_argument(
        "--max-drop",
        type=float,
        metavar="X",
        help="int8 only: refuse if the validation metric gets worse by more than X",
    )
    p.add_argument(
        "--no-refit",
        action="store_true",
        help="a run's brain with the weights it was chosen with, not its refit's "
        "(trained on with the validation data; see README, Runs)",
    )
    p.add_argument("--task", help="int8: the task whose validation split calibrates it")
    p.add_argument("--data", help="int8: that task's data (file or folder)")
    p.add_argument("--label", help="int8: label column (csv)")
    add_option_arg(p)


@command(_export_args)
def cmd_export(args: argparse.Namespace) -> int:
    import openbrains

    task = None
    if args.task:
        task = {"name": args.task}
        if args.data:
            task["data"] = str(Path(args.data).resolve())
        if args.label:
            task["label"] = args.label
        task.update(parse_options(args.option))
    result = openbrains.export(
        args.source,
        args.output,
        format=args.format,
        best=args.best,
        refit=not args.no_refit,
        id=args.id,
        quantize=args.quantize,
        max_drop=args.max_drop,
        task=task,
    )
    for line in result.summary:
        print(line)
    return 0
