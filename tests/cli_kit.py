"""`openbrains` on the command line as a user types it, for the tests that drive it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "openbrains"]


def ob(
    *args: str,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
    stdin: str = "",
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run ``openbrains ARGS`` (``env``: the whole environment, None to inherit; ``stdin``:
    what is typed: nothing unless given, so no command waits on the test's terminal)."""
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_line_error(out: subprocess.CompletedProcess, match: str, code: int = 2) -> None:
    """Exit status ``code`` and a single line on stderr that holds ``match``."""
    assert out.returncode == code, (out.returncode, out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and match in lines[0], out.stderr
