"""`openbrains install-desktop`: the menu entry, the icons and the ``*.graph`` MIME type
copied into the user's data folder (``$XDG_DATA_HOME``, by default ``~/.local/share``), so
Open Brains appears in the desktop's menu and a double-click on a ``.graph`` opens it.

Everything written comes from the package's own assets (``openbrains.assets``); nothing is
written outside the data folder except one line in the user's ``mimeapps.list`` (making
Open Brains the default for ``.graph`` files unless another default is set), which
``--uninstall`` takes back. The desktop's caches are refreshed with the freedesktop tools
when they are installed (``update-mime-database``, ``update-desktop-database``,
``gtk-update-icon-cache``); without them the files still take effect at the next login.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from openbrains import assets
from openbrains.app.launcher import command, desktop_quote

DEFAULTS_GROUP = "[Default Applications]"


def xdg_home(variable: str, fallback: str) -> Path:
    """An XDG base directory: the variable when it is an absolute path (the spec says to
    ignore a relative one), else ``~/<fallback>``."""
    value = os.environ.get(variable, "")
    return Path(value) if value and os.path.isabs(value) else Path.home() / fallback


def data_home() -> Path:
    return xdg_home("XDG_DATA_HOME", ".local/share")


def config_home() -> Path:
    return xdg_home("XDG_CONFIG_HOME", ".config")


@dataclass
class DesktopChange:
    """What ``install`` or ``uninstall`` did, for the command to report."""

    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)  # the cache tools that ran
    missing: list[str] = field(default_factory=list)  # the cache tools not installed


def desktop_entry(cmd: list[str] | None = None) -> str:
    """The shipped entry with ``Exec``/``TryExec`` pointing at this installation."""
    cmd = cmd or command()
    exec_line = " ".join(desktop_quote(a) for a in [*cmd, "open"]) + " %f"
    try_exec = cmd[0].replace("\\", "\\\\")
    lines = []
    for line in assets.path(assets.DESKTOP_ENTRY).read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            lines.append(f"Exec={exec_line}")
            lines.append(f"TryExec={try_exec}")
        elif not line.startswith("TryExec="):
            lines.append(line)
    return "\n".join(lines) + "\n"


def planned_files(home: Path) -> dict[Path, Path | None]:
    """Target → shipped source (None: the desktop entry, which is rendered)."""
    icons = home / "icons" / "hicolor"
    files: dict[Path, Path | None] = {
        home / "applications" / f"{assets.APP_ID}.desktop": None,
        home / "mime" / "packages" / f"{assets.APP_ID}.xml": assets.path(assets.MIME_XML),
        icons / "scalable" / "apps" / f"{assets.APP_ID}.svg": assets.path(assets.APP_SVG),
        icons / "scalable" / "mimetypes" / f"{assets.MIME_ICON}.svg": assets.path(assets.GRAPH_SVG),
    }
    for size in assets.ICON_SIZES:
        folder = icons / f"{size}x{size}"
        files[folder / "apps" / f"{assets.APP_ID}.png"] = assets.app_png(size)
        files[folder / "mimetypes" / f"{assets.MIME_ICON}.png"] = assets.graph_png(size)
    return files


def install(home: Path | None = None) -> DesktopChange:
    home = home or data_home()
    change = DesktopChange()
    for target, source in planned_files(home).items():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        if source is None:
            tmp.write_text(desktop_entry(), encoding="utf-8")
        else:
            shutil.copyfile(source, tmp)
        tmp.replace(target)
        change.written.append(target)
    if set_default_handler(config_home() / "mimeapps.list"):
        change.written.append(config_home() / "mimeapps.list")
    refresh_caches(home, change)
    return change


def uninstall(home: Path | None = None) -> DesktopChange:
    home = home or data_home()
    change = DesktopChange()
    for target in planned_files(home):
        if target.exists():
            target.unlink()
            change.removed.append(target)
    if unset_default_handler(config_home() / "mimeapps.list"):
        change.written.append(config_home() / "mimeapps.list")
    refresh_caches(home, change)
    return change


def refresh_caches(home: Path, change: DesktopChange) -> None:
    """Rebuild the desktop's caches of the folders we wrote into (each tool when present)."""
    tools = (
        ("update-mime-database", [str(home / "mime")]),
        ("update-desktop-database", ["-q", str(home / "applications")]),
        ("gtk-update-icon-cache", ["-q", "-f", "-t", str(home / "icons" / "hicolor")]),
    )
    for tool, args in tools:
        exe = shutil.which(tool)
        if exe is None:
            change.missing.append(tool)
            continue
        if not Path(args[-1]).is_dir():
            continue
        done = subprocess.run([exe, *args], capture_output=True, text=True, timeout=120)
        if done.returncode == 0:
            change.refreshed.append(tool)


def _default_line() -> str:
    return f"{assets.MIME_TYPE}={assets.APP_ID}.desktop"


def set_default_handler(mimeapps: Path) -> bool:
    """Make Open Brains the default for ``.graph`` in ``mimeapps.list``, unless the user
    already chose a default for the type. Returns whether the file changed."""
    lines = mimeapps.read_text(encoding="utf-8").splitlines() if mimeapps.exists() else []
    group = None
    insert_at = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("["):
            group = stripped
            if group == DEFAULTS_GROUP:
                insert_at = i + 1
        elif group == DEFAULTS_GROUP and stripped.split("=", 1)[0].strip() == assets.MIME_TYPE:
            return False  # the user's own choice stands
    if insert_at is None:
        if lines and lines[-1].strip():
            lines.append("")
        lines += [DEFAULTS_GROUP, _default_line()]
    else:
        lines.insert(insert_at, _default_line())
    mimeapps.parent.mkdir(parents=True, exist_ok=True)
    tmp = mimeapps.with_name(mimeapps.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(mimeapps)
    return True


def unset_default_handler(mimeapps: Path) -> bool:
    """Remove our own default line (exactly ours; another choice is the user's)."""
    if not mimeapps.exists():
        return False
    lines = mimeapps.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if line.strip() != _default_line()]
    if kept == lines:
        return False
    tmp = mimeapps.with_name(mimeapps.name + ".tmp")
    tmp.write_text("\n".join(kept) + "\n", encoding="utf-8")
    tmp.replace(mimeapps)
    return True
