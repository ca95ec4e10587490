"""Readings of the real machine for the good-neighbour policy (engine.neighbour): battery and
CPU through psutil, and the person's idle time from the desktop session where it can be
read — the X server's screensaver extension (libXss), GNOME's idle monitor on Wayland
(through ``gdbus``), or systemd-logind's idle hint (``loginctl``), in that order. Where
none answers the idle time is None, which the policy counts as "at the keyboard"."""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable

import psutil

from openbrains.engine.neighbour import Readings

OwnPids = Callable[[], list[int]]


class SystemSensors:
    """psutil and the desktop session. ``own_pids`` names our own processes (coordinator
    and workers), whose CPU is not "other programs"."""

    def __init__(self, own_pids: OwnPids | None = None) -> None:
        self.own_pids = own_pids or this_process_tree
        self._procs: dict[int, psutil.Process] = {}
        self._idle = IdleTime()
        psutil.cpu_percent(None)  # start the system-wide counter

    def read(self) -> Readings:
        return Readings(
            on_battery=self.on_battery(),
            other_cpu_pct=self.other_cpu_pct(),
            idle_s=self._idle.seconds(),
            now=dt.datetime.now(),
        )

    @staticmethod
    def on_battery() -> bool | None:
        try:
            battery = psutil.sensors_battery()
        except (AttributeError, NotImplementedError, OSError):
            return None
        if battery is None:
            return False  # no battery: a desktop, always on mains power
        return not battery.power_plugged if battery.power_plugged is not None else None

    def other_cpu_pct(self) -> float:
        """CPU used since the last call by everything but us, in percent of the machine."""
        total = psutil.cpu_percent(None)
        ours = 0.0
        alive = set()
        for pid in self.own_pids():
            proc = self._procs.get(pid)
            try:
                if proc is None:
                    proc = self._procs[pid] = psutil.Process(pid)
                    proc.cpu_percent(None)  # its first reading only starts its counter
                else:
                    ours += proc.cpu_percent(None)
                alive.add(pid)
            except psutil.Error:
                continue
        for pid in set(self._procs) - alive:
            del self._procs[pid]
        return max(0.0, total - ours / (psutil.cpu_count() or 1))


def this_process_tree() -> list[int]:
    """This process and its descendants: the coordinator and its workers."""
    me = psutil.Process()
    try:
        return [me.pid] + [c.pid for c in me.children(recursive=True)]
    except psutil.Error:
        return [me.pid]


class IdleTime:
    """Seconds since the last keyboard or mouse input, from whichever source answers."""

    def __init__(self) -> None:
        self._xss: XScreenSaver | bool | None = None  # None: not tried; False: unavailable

    def seconds(self) -> float | None:
        for source in (self._x11, gnome_idle, logind_idle):
            value = source()
            if value is not None:
                return value
        return None

    def _x11(self) -> float | None:
        if self._xss is None:
            self._xss = XScreenSaver.open() or False
        return self._xss.idle_seconds() if self._xss else None


class _XScreenSaverInfo(ctypes.Structure):
    _fields_ = (
        ("window", ctypes.c_ulong),
        ("state", ctypes.c_int),
        ("kind", ctypes.c_int),
        ("til_or_since", ctypes.c_ulong),
        ("idle", ctypes.c_ulong),
        ("eventMask", ctypes.c_ulong),
    )


class XScreenSaver:
    """The X server's idle counter (XScreenSaverQueryInfo), through libX11 and libXss."""

    def __init__(self, x11: ctypes.CDLL, xss: ctypes.CDLL, display: int) -> None:
        self.x11, self.xss, self.display = x11, xss, display
        self.root = x11.XDefaultRootWindow(display)
        self.info = xss.XScreenSaverAllocInfo()

    @classmethod
    def open(cls) -> XScreenSaver | None:
        if not os.environ.get("DISPLAY"):
            return None
        names = (ctypes.util.find_library("X11"), ctypes.util.find_library("Xss"))
        if not all(names):
            return None
        try:
            x11, xss = (ctypes.CDLL(n) for n in names)
        except OSError:
            return None
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x11.XDefaultRootWindow.restype = ctypes.c_ulong
        x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        xss.XScreenSaverAllocInfo.restype = ctypes.POINTER(_XScreenSaverInfo)
        xss.XScreenSaverQueryInfo.argtypes = [
            ctypes.c_void_p,
            ctypes.c_ulong,
            ctypes.POINTER(_XScreenSaverInfo),
        ]
        display = x11.XOpenDisplay(None)
        if not display:
            return None
        return cls(x11, xss, display)

    def idle_seconds(self) -> float | None:
        if not self.xss.XScreenSaverQueryInfo(self.display, self.root, self.info):
            return None
        return self.info.contents.idle / 1000.0


def _run(argv: list[str]) -> str | None:
    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def gnome_idle() -> float | None:
    """GNOME (Wayland or X11): Mutter's idle monitor on the session bus."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return None
    out = _run(
        [
            "gdbus",
            "call",
            "--session",
            "--dest",
            "org.gnome.Mutter.IdleMonitor",
            "--object-path",
            "/org/gnome/Mutter/IdleMonitor/Core",
            "--method",
            "org.gnome.Mutter.IdleMonitor.GetIdletime",
        ]
    )
    found = re.search(r"uint64 (\d+)", out or "")
    return int(found.group(1)) / 1000.0 if found else None


def logind_idle() -> float | None:
    """systemd-logind's idle hint of the user's session (desktops set it after their own
    idle delay, so this undercounts by that delay: never more idle than true)."""
    session = (
        os.environ.get("XDG_SESSION_ID")
        or (
            _run(["loginctl", "show-user", str(os.getuid()), "-p", "Display", "--value"]) or ""
        ).strip()
    )
    if not session:
        return None
    out = _run(
        ["loginctl", "show-session", session, "-p", "IdleHint", "-p", "IdleSinceHintMonotonic"]
    )
    if out is None:
        return None
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    if values.get("IdleHint") == "no":
        return 0.0
    since = values.get("IdleSinceHintMonotonic", "")
    if values.get("IdleHint") != "yes" or not since.isdigit() or int(since) == 0:
        return None
    return max(0.0, time.monotonic() - int(since) / 1e6)
