"""Where Open Brains keeps a user's files, and where the ready-made samples are.

- the *data folder* holds run folders of projects that have no folder of their own (a
  sample opened as a template, an untitled project): ``$OPENBRAINS_DATA`` when set (tests
  use it), else the platform's place for application data (XDG on Linux:
  ``~/.local/share/openbrains``);
- the *samples* ship inside the package (``openbrains.sample_graphs``, made by
  ``python -m openbrains.engine.samples sample_graphs``).

No Qt and no torch here: the command line uses it too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "openbrains"


def data_home() -> Path:
    env = os.environ.get("OPENBRAINS_DATA")
    if env:
        return Path(env)
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming") / APP
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local/share") / APP


def runs_home() -> Path:
    """The folder that holds run folders kept in the data folder."""
    return data_home() / "runs"


def samples_dir() -> Path:
    import openbrains.sample_graphs as samples

    return Path(samples.__file__).resolve().parent


def sample_paths() -> list[Path]:
    """The shipped samples, in the order the start page shows them."""
    from openbrains.engine.samples import SAMPLES

    folder = samples_dir()
    return [folder / f"{name}.graph" for name in SAMPLES if (folder / f"{name}.graph").exists()]


def sample_name(path: Path) -> str | None:
    """The sample's name when ``path`` is one of the shipped samples, else None."""
    try:
        path = Path(path).resolve()
    except OSError:
        return None
    return path.stem if path.parent == samples_dir() and path.suffix == ".graph" else None
