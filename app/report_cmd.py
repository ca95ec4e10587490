"""`openbrains report RUN_DIR [-o report.html]`: what a run found, as one standalone HTML
page (engine.report) to read or to attach to a shared brain."""

from __future__ import annotations

import argparse
from pathlib import Path

from openbrains.app.cli import command


def _report_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="a discovery report of a run: what the best have in common, the champion's "
        "ablation and lineage, plots (one standalone HTML file)",
    )
    p.add_argument("run_dir", type=Path, help="the run folder")
    p.add_argument(
        "-o", "--output", type=Path, help="the HTML file to write (default: RUN_DIR/report.html)"
    )
    p.add_argument(
        "--data",
        help="the task's data, for the ablation of a run whose task reads a file or folder "
        "(a path in a run folder is never read without your say)",
    )
    p.add_argument("--no-ablation", action="store_true", help="skip knocking out nodes")


@command(_report_args)
def cmd_report(args: argparse.Namespace) -> int:
    from openbrains.engine.report.page import write_report

    out = args.output or args.run_dir / "report.html"
    write_report(args.run_dir, out, data=args.data, ablation=not args.no_ablation)
    print(f"report written to {out}")
    return 0
