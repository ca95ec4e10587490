"""Persistent user settings (recent files, window geometry) in QSettings, and where the
app keeps its own files."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

MAX_RECENT = 8


def home() -> Path:
    return Path(os.environ.get("OPENBRAINS_HOME", Path.home() / ".openbrains"))


def settings() -> QSettings:
    path = home() / "settings.ini"
    path.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path), QSettings.Format.IniFormat)


def recent_files() -> list[str]:
    value = settings().value("recent", [])
    items = [value] if isinstance(value, str) else list(value or [])
    return [p for p in items if p and Path(p).exists()]


def add_recent(path: Path) -> list[str]:
    items = [str(Path(path).resolve())]
    items += [p for p in recent_files() if p != items[0]]
    s = settings()
    s.setValue("recent", items[:MAX_RECENT])
    s.sync()
    return items[:MAX_RECENT]
