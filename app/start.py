"""`openbrains` with no arguments: the window when there is a display, else a headless demo."""

from __future__ import annotations

import os
import sys


def has_display() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def start(path: str | None = None) -> int:
    from openbrains.app.demo import run_demo

    if has_display():
        try:
            from openbrains.app.main import run_window
        except ImportError:
            pass
        else:
            return run_window(path)
    return run_demo()
