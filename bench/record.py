"""Writes a benchmark's results into docs/benchmarks.md, one section per benchmark.

Each section is replaced in place (between HTML comment markers), so re-running a
benchmark updates its numbers and keeps the others.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
from pathlib import Path

import torch

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Each section is written by the benchmark itself (`bench/*.py`), with the command that
produced it, the machine, and the same-run peer it is compared with. Ratios are ours/peer.
Re-run the command to refresh a section.
"""


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} torch threads"
    )


def record(name: str, command: str, body: str, last_line: str) -> None:
    """Replace (or append) the section called ``name`` in docs/benchmarks.md."""
    text = DOC.read_text() if DOC.exists() else HEADER
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"<!-- bench:{name} -->\n## {name}\n\n`{command}` — {when}, {machine()}\n\n"
        f"{body.rstrip()}\n\n```\n{last_line}\n```\n<!-- /bench:{name} -->\n"
    )
    pattern = re.compile(
        rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->\n", re.S
    )
    text = (
        pattern.sub(lambda _m: section, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + section
    )
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)
