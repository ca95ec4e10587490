"""The good-neighbour rules as a pure function of readings (engine.neighbour), and the real
machine's readings (engine.sensors): psutil, and the idle time of a real X server (Xvfb)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.neighbour import Hours, Policy, PolicySettings, Readings
from openbrains.engine.sensors import IdleTime, SystemSensors

NOON = dt.datetime(2026, 1, 5, 12, 0)


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 1, 5, hour, minute)


def test_hours_cross_midnight_and_parse_strictly() -> None:
    night = Hours.parse("22-07")
    assert night.allows(at(23)) and night.allows(at(3)) and night.allows(at(22))
    assert not night.allows(at(7)) and not night.allows(at(12))
    day = Hours.parse("9:30-17")
    assert day.allows(at(9, 30)) and not day.allows(at(9, 29)) and not day.allows(at(17))
    assert Hours.parse("0-24").allows(at(5))  # the whole day
    for bad in ("22", "25-07", "22-07-01", "a-b", "10:75-11"):
        with pytest.raises(OpenBrainsError, match="hours look like"):
            Hours.parse(bad)


def test_each_rule_says_why() -> None:
    calm = Readings(on_battery=False, other_cpu_pct=5, idle_s=3600, now=NOON)
    assert Policy(PolicySettings()).decide(Readings(now=NOON)).run  # no rule: always runs

    battery = Policy(PolicySettings(pause_on_battery=True))
    assert battery.decide(calm).run
    assert battery.decide(Readings(on_battery=True, now=NOON)).reasons == ["on battery"]
    assert battery.decide(Readings(on_battery=None, now=NOON)).run  # unknown: mains

    hours = Policy(PolicySettings(hours="22-07"))
    assert not hours.decide(calm).run and "hours" in hours.decide(calm).reasons[0]
    assert hours.decide(Readings(now=at(23))).run

    idle = Policy(PolicySettings(resume_after_idle=10))
    assert idle.decide(calm).run
    assert not idle.decide(Readings(idle_s=60, now=NOON)).run
    unknown = idle.decide(Readings(idle_s=None, now=NOON))
    assert not unknown.run and "unknown" in unknown.reasons[0]  # unknown counts as active


def test_busy_is_an_average_so_one_spike_does_not_pause() -> None:
    busy = Policy(PolicySettings(pause_when_busy=50))
    for _ in range(5):
        assert busy.decide(Readings(other_cpu_pct=10, now=NOON)).run
    assert busy.decide(Readings(other_cpu_pct=90, now=NOON)).run  # mean (50 + 90) / 6 < 50
    for _ in range(5):
        verdict = busy.decide(Readings(other_cpu_pct=90, now=NOON))
    assert not verdict.run and "other programs use 90 %" in verdict.reasons[0]
    assert busy.decide(Readings(other_cpu_pct=None, now=NOON)).run is False  # still the mean


def test_settings_are_checked() -> None:
    with pytest.raises(OpenBrainsError):
        PolicySettings.from_mapping({"pause_when_busy": 150})
    with pytest.raises(OpenBrainsError):
        PolicySettings.from_mapping({"hours": "late"})
    s = PolicySettings.from_mapping({"pause_on_battery": True, "task": {"name": "xor"}})
    assert s.any and s.pause_on_battery and not s.hours


def test_real_readings_see_a_busy_neighbour(tmp_path: Path) -> None:
    sensors = SystemSensors(own_pids=lambda: [os.getpid()])
    sensors.read()
    busy = subprocess.Popen(["python3", "-c", "while True: pass"])
    try:
        time.sleep(2.0)
        reading = sensors.read()
    finally:
        busy.kill()
        busy.wait()
    assert reading.on_battery in (True, False, None)
    # one core of a machine with N cores, minus noise; our own process is not counted
    assert reading.other_cpu_pct is not None
    assert reading.other_cpu_pct > 100 / (os.cpu_count() or 1) * 0.5


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed")
def test_idle_time_from_a_real_x_server(monkeypatch: pytest.MonkeyPatch) -> None:
    display = f":{90 + os.getpid() % 9}"
    server = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "320x240x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        monkeypatch.setenv("DISPLAY", display)
        idle = IdleTime()
        first = None
        for _ in range(50):
            first = idle.seconds()
            if first is not None:
                break
            idle = IdleTime()
            time.sleep(0.1)
        assert first is not None, "the X server's idle time could not be read"
        time.sleep(1.2)
        second = idle.seconds()
        assert second is not None and second >= first + 1.0
    finally:
        server.terminate()
        server.wait(10)
