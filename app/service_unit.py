"""The systemd *user* unit that keeps a project's search running in the background: what
it says, where it lives (``$XDG_CONFIG_HOME/systemd/user``), and the two checks of it
(``systemd-analyze --user verify`` where systemd can run it, a parse check everywhere).

The unit runs ``openbrains run PROJECT --run-dir RUN`` at the lowest CPU and I/O priority
(``Nice=19``, ``IOSchedulingClass=idle``) and restarts it when it fails (a crash, a kill);
it resumes where it stopped, because every finished individual is already in the archive.
An error in the project itself (exit 2) is not retried: it would fail the same way. A run
folder in use by a window (exit 75) is: the window may close.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from openbrains.app.cli import EXIT_USAGE
from openbrains.app.desktop import config_home
from openbrains.app.launcher import systemd_quote

UNIT_PREFIX = "openbrains-"
RESTART_SEC = 60
SECTIONS = {
    "Unit": {"Description", "Documentation", "After"},
    "Service": {
        "Type",
        "ExecStart",
        "WorkingDirectory",
        "Nice",
        "IOSchedulingClass",
        "Restart",
        "RestartSec",
        "RestartPreventExitStatus",
        "TimeoutStopSec",
        "Environment",
    },
    "Install": {"WantedBy"},
}


def unit_dir() -> Path:
    return config_home() / "systemd" / "user"


def unit_name(project: Path) -> str:
    """One unit per project file: its name, readable, plus a hash of its absolute path (two
    ``digits.graph`` in different folders get different units)."""
    absolute = str(Path(project).absolute())
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(project).stem).strip("-.") or "project"
    return f"{UNIT_PREFIX}{slug[:40]}-{hashlib.sha256(absolute.encode()).hexdigest()[:8]}.service"


@dataclass
class UnitSpec:
    """What a unit runs: the program, the project, its run folder and the run's options."""

    command: list[str]
    project: Path
    run_dir: Path
    options: list[str]

    def exec_args(self) -> list[str]:
        return [
            *self.command,
            "run",
            str(self.project),
            "--run-dir",
            str(self.run_dir),
            "--quiet",
            *self.options,
        ]


def render_unit(spec: UnitSpec) -> str:
    exec_start = " ".join(systemd_quote(a) for a in spec.exec_args())
    description = f"Open Brains: evolving {spec.project.name}".replace("%", "%%")
    return "\n".join(
        [
            "# Written by `openbrains service install`; `openbrains service uninstall` removes it.",
            "[Unit]",
            f"Description={description}",
            "",
            "[Service]",
            "Type=exec",
            f"ExecStart={exec_start}",
            f"WorkingDirectory={str(spec.project.parent).replace('%', '%%')}",
            "Nice=19",
            "IOSchedulingClass=idle",
            "Restart=on-failure",
            f"RestartSec={RESTART_SEC}",
            f"RestartPreventExitStatus={EXIT_USAGE}",
            "TimeoutStopSec=60",
            "Environment=PYTHONUNBUFFERED=1",
            "",
            "[Install]",
            "WantedBy=default.target",
            "",
        ]
    )


def check_unit(text: str) -> list[str]:
    """A parse check of a unit (the part of ``systemd-analyze verify`` that needs no
    systemd): sections and keys known, values well formed. Returns the problems found."""
    problems: list[str] = []
    section = None
    seen: dict[str, set[str]] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            if not line.endswith("]") or line[1:-1] not in SECTIONS:
                problems.append(f"line {number}: unknown section {line}")
            section = line[1:-1]
            seen.setdefault(section, set())
            continue
        if "=" not in line:
            problems.append(f"line {number}: not KEY=VALUE: {line}")
            continue
        key, value = (x.strip() for x in line.split("=", 1))
        if section is None or key not in SECTIONS.get(section, set()):
            problems.append(f"line {number}: unknown key {key} in [{section}]")
        seen.setdefault(section or "", set()).add(key)
        problems += [f"line {number}: {p}" for p in _value_problems(key, value)]
    for section, keys in (("Service", {"ExecStart"}), ("Unit", {"Description"})):
        for key in keys - seen.get(section, set()):
            problems.append(f"[{section}] has no {key}")
    return problems


def _value_problems(key: str, value: str) -> list[str]:
    if key == "Nice" and not (value.lstrip("-").isdigit() and -20 <= int(value) <= 19):
        return [f"Nice must be -20..19, got {value}"]
    if key == "IOSchedulingClass" and value not in ("realtime", "best-effort", "idle", "none"):
        return [f"bad IOSchedulingClass {value}"]
    if key == "Restart" and value not in (
        "no",
        "on-success",
        "on-failure",
        "on-abnormal",
        "on-watchdog",
        "on-abort",
        "always",
    ):
        return [f"bad Restart {value}"]
    if key == "ExecStart":
        try:
            argv = shlex.split(value.replace("%%", "%").replace("$$", "$"))
        except ValueError as exc:
            return [f"ExecStart does not parse: {exc}"]
        if not argv or not os.path.isabs(argv[0]):
            return ["ExecStart must start with an absolute path"]
    return []


def verify_unit(path: Path) -> tuple[bool, str] | None:
    """``systemd-analyze --user verify`` on the unit: (passed, what it said), or None where
    it cannot run (no systemd-analyze). A warning counts as a failure."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        return None
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as runtime:
        # the user manager it simulates wants a runtime folder, even with no session
        env.setdefault("XDG_RUNTIME_DIR", runtime)
        if not os.path.isdir(env["XDG_RUNTIME_DIR"]):
            env["XDG_RUNTIME_DIR"] = runtime
        done = subprocess.run(
            [tool, "--user", "verify", str(path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    said = (done.stdout + done.stderr).strip()
    return done.returncode == 0 and not said, said
