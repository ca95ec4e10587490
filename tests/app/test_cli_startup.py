"""The command line answers `--version`, `--help` and a mistyped option without importing
torch (about two seconds of a laptop's CPU): those answers come at once."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.cli_kit import ROOT


def imported_modules(*args: str) -> set[str]:
    """The modules ``openbrains ARGS`` imports (Python's own import-time report)."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "openbrains", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    rows = [
        line.split("|")[-1] for line in out.stderr.splitlines() if line.startswith("import time:")
    ]
    return {row.strip() for row in rows}


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["run", "--minutes", "-1"]])
def test_quick_answers_do_not_import_torch(args: list[str]) -> None:
    modules = imported_modules(*args)
    assert "openbrains.app.cli" in modules  # the report is read
    assert "torch" not in modules
