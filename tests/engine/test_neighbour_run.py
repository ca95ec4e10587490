"""Each good-neighbour rule pauses a real short run and lets it go again: readings come
from a fake ``Sensors`` the test turns (engine.neighbour), the run is a real xor search
training in process, and "paused" means no individual is born while the rule holds."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.neighbour import Readings
from openbrains.engine.run import Run, RunSettings
from openbrains.engine.store import Archive

NOON = dt.datetime(2026, 1, 5, 12, 0)


class FakeSensors:
    """Readings the test sets; the run's neighbour reads them as it would the machine."""

    def __init__(self, readings: Readings) -> None:
        self.readings = readings

    def read(self) -> Readings:
        return self.readings


def wait(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


CALM = Readings(on_battery=False, other_cpu_pct=5.0, idle_s=3600.0, now=NOON)
RULES = {
    "battery": ({"pause_on_battery": True}, Readings(on_battery=True, now=NOON), "battery"),
    "busy": (
        {"pause_when_busy": 50.0},
        Readings(other_cpu_pct=95.0, idle_s=3600.0, now=NOON),
        "other programs",
    ),
    "keyboard": (
        {"resume_after_idle": 5.0},
        Readings(idle_s=30.0, now=NOON),
        "keyboard",
    ),
    "hours": ({"hours": "22-07"}, Readings(now=dt.datetime(2026, 1, 5, 8, 0)), "hours"),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_pauses_and_resumes_a_real_run(tmp_path: Path, rule: str) -> None:
    settings, stormy, word = RULES[rule]
    calm = CALM if rule != "hours" else Readings(now=dt.datetime(2026, 1, 5, 23, 0))
    events: list[tuple[str, dict[str, Any]]] = []
    run = Run(
        tmp_path / "run",
        RunSettings(task={"name": "xor"}, workers=0, population=4, budget_steps=20, **settings),
        on_event=lambda kind, data: events.append((kind, data)),
    )
    sensors = FakeSensors(calm)
    run.neighbour.sensors = sensors
    run.neighbour.check_s = 0.05
    thread = threading.Thread(target=run.run, kwargs={"minutes": 3})
    thread.start()
    try:
        wait(lambda: run.births >= 2, "the first births")
        sensors.readings = stormy
        wait(lambda: bool(run.neighbour.reasons), "the rule to hold the run")
        assert any(word in r for r in run.neighbour.reasons), run.neighbour.reasons
        # the event follows the change of reasons on the run's thread: wait for it too
        wait(lambda: any(k == "neighbour" and d["waiting"] for k, d in events), "the event")
        held = [d for k, d in events if k == "neighbour" and d["waiting"]]
        assert held and any(word in r for r in held[-1]["waiting"])
        time.sleep(0.5)  # the candidate in training (in process) lands
        births = run.births
        time.sleep(1.5)
        assert run.births == births, "a held run made new individuals"
        assert run.progress()["waiting"] == run.neighbour.reasons

        sensors.readings = calm
        wait(lambda: not run.neighbour.reasons, "the rule to let go")
        wait(lambda: run.births > births, "births after the rule let go")
        wait(lambda: [d for k, d in events if k == "neighbour"][-1] == {"waiting": []}, "the event")
        assert [k for k, d in events if k == "neighbour"][-1:] == ["neighbour"]
        assert [d for k, d in events if k == "neighbour"][-1] == {"waiting": []}
    finally:
        run.stop()
        thread.join(60)
        run.close()
    with Archive(tmp_path / "run", readonly=True) as archive:  # logged for `status`
        kinds = [row[0] for row in archive.db.execute("SELECT kind FROM events")]
    assert "neighbour" in kinds


def test_rules_change_while_running_and_bad_ones_are_refused(tmp_path: Path) -> None:
    run = Run(
        tmp_path / "run",
        RunSettings(task={"name": "xor"}, workers=0, population=4, budget_steps=20),
    )
    sensors = FakeSensors(Readings(on_battery=True, now=NOON))
    run.neighbour.sensors = sensors
    run.neighbour.check_s = 0.05
    thread = threading.Thread(target=run.run, kwargs={"minutes": 3})
    thread.start()
    try:
        wait(lambda: run.births >= 1, "a birth with no rule set")
        run.update(pause_on_battery=True)  # as the run bar sends it
        wait(lambda: bool(run.neighbour.reasons), "the new rule to hold the run")
        with pytest.raises(OpenBrainsError, match="hours look like"):
            run.update(hours="whenever")
        run.update(pause_on_battery=False)
        wait(lambda: not run.neighbour.reasons, "the rule turned off")
    finally:
        run.stop()
        thread.join(60)
        run.close()


def test_status_shows_the_archive_on_disk_and_what_keeps_weights(tmp_path: Path) -> None:
    import subprocess
    import sys

    run = Run(
        tmp_path / "run",
        RunSettings(task={"name": "xor"}, workers=0, population=4, budget_steps=10),
    )
    try:
        run.run(max_individuals=30)
        run.retain()
    finally:
        run.close()
    out = subprocess.run(
        [sys.executable, "-m", "openbrains", "status", str(tmp_path / "run"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    import orjson

    st = orjson.loads(out.stdout)
    assert st["individuals"] >= 30
    assert 0 < st["with_weights"] < st["individuals"], "retention dropped no weights"
    assert st["archive_mb"] > 0
    assert "waiting" not in st  # nobody runs it now
