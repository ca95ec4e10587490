"""How to start this very program again from outside: the command line that a desktop entry
or a systemd unit runs, whether Open Brains is a virtual environment, an installed package
or the PyInstaller bundle (where ``sys.executable`` is the program itself)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

DESKTOP_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def frozen() -> bool:
    """True inside the PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def command() -> list[str]:
    """The ``openbrains`` command as absolute arguments: the bundle's executable, the script
    beside this interpreter (a venv's ``bin/openbrains``), the one on PATH, or
    ``python -m openbrains`` as the last resort."""
    if frozen():
        return [str(Path(sys.executable).resolve())]
    beside = Path(sys.executable).parent / "openbrains"
    if beside.is_file():
        return [str(beside.absolute())]
    found = shutil.which("openbrains")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "openbrains"]


def desktop_quote(arg: str) -> str:
    """One argument of a desktop entry's ``Exec`` key (freedesktop Desktop Entry spec,
    "The Exec key"): quoted when it holds a reserved character, then escaped as a string
    value (a backslash doubles)."""
    if arg and not (set(arg) & DESKTOP_RESERVED):
        quoted = arg
    else:
        inner = "".join("\\" + c if c in '"`$\\' else c for c in arg)
        quoted = f'"{inner}"'
    return quoted.replace("\\", "\\\\").replace("%", "%%")


def systemd_quote(arg: str) -> str:
    """One argument of a unit's ``ExecStart`` (systemd.service, "Command lines"): in double
    quotes with C escapes when needed; ``%`` doubles (specifiers), ``$`` too (variables)."""
    text = arg.replace("%", "%%").replace("$", "$$")
    if text and not any(c in text for c in " \t\n\"'\\;"):
        return text
    inner = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{inner}"'
