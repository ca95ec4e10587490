"""The good-neighbour policy (DESIGN §3.9, with BOINC's computing preferences as the
anchor): a search that lives on a person's machine for weeks steps aside when the machine
is on battery, when other programs need the CPU, while the person is at the keyboard, and
outside the hours it is allowed. Stepping aside is the run loop's pause: no new jobs are
handed out, the work in flight finishes, and the workers sleep on their pipes.

Readings come through ``Sensors`` (engine.sensors reads the real machine with psutil and
the desktop session; tests feed their own), and ``Policy.decide`` is a pure function of a
``Readings``, so every rule can be shown to pause and resume a real run. ``Neighbour`` is
what the run loop holds: it polls the policy every few seconds and says when to wait.

(Not to be confused with engine.run.policy, the population's policy: who breeds, who
retires.)
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from openbrains.engine.errors import OpenBrainsError

CHECK_S = 5.0  # how often the run loop asks the policy
BUSY_WINDOW = 6  # readings averaged before "other programs are busy" counts (30 s)


@dataclass
class Readings:
    """One look at the machine. None means the sensor could not tell."""

    on_battery: bool | None = None
    other_cpu_pct: float | None = None  # other programs' CPU, percent of the whole machine
    idle_s: float | None = None  # seconds since the person last touched keyboard or mouse
    now: dt.datetime = field(default_factory=dt.datetime.now)


class Sensors(Protocol):
    def read(self) -> Readings: ...


@dataclass(frozen=True)
class Hours:
    """Allowed hours of the day, ``start``–``end`` in minutes after midnight; a window that
    crosses midnight (22-07) runs from ``start`` to the next day's ``end``."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> Hours:
        """``22-07``, ``22:30-07:00`` or ``9-17``."""
        try:
            a, b = text.split("-")
            return cls(_minutes(a), _minutes(b))
        except ValueError:
            raise OpenBrainsError(
                f"hours look like 22-07 or 22:30-06:45 (from-to, 24-hour clock), got {text!r}"
            ) from None

    def allows(self, when: dt.datetime) -> bool:
        m = when.hour * 60 + when.minute
        if self.start == self.end:
            return True
        if self.start < self.end:
            return self.start <= m < self.end
        return m >= self.start or m < self.end

    def __str__(self) -> str:
        return (
            f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        )


def _minutes(text: str) -> int:
    hh, _, mm = text.strip().partition(":")
    h, m = int(hh), int(mm or 0)
    if not (0 <= h <= 24 and 0 <= m < 60) or h * 60 + m > 24 * 60:
        raise ValueError(text)
    return (h * 60 + m) % (24 * 60)


@dataclass
class PolicySettings:
    """The person's rules; each is off at its default."""

    pause_on_battery: bool = False
    pause_when_busy: float = 0.0  # percent of the machine other programs may use; 0: off
    resume_after_idle: float = 0.0  # minutes away from the keyboard before running; 0: off
    hours: str = ""  # "22-07": only in these hours; "": any time

    KEYS = ("pause_on_battery", "pause_when_busy", "resume_after_idle", "hours")

    @classmethod
    def from_mapping(cls, d: Any) -> PolicySettings:
        """From run settings (or anything with these attributes/keys)."""
        get = d.get if isinstance(d, dict) else lambda k, default: getattr(d, k, default)
        s = cls(
            pause_on_battery=bool(get("pause_on_battery", False)),
            pause_when_busy=float(get("pause_when_busy", 0.0) or 0.0),
            resume_after_idle=float(get("resume_after_idle", 0.0) or 0.0),
            hours=str(get("hours", "") or ""),
        )
        s.check()
        return s

    def check(self) -> None:
        if not 0 <= self.pause_when_busy <= 100:
            raise OpenBrainsError(
                f"pause-when-busy is a share of the machine, 0..100 % (0: off), got {self.pause_when_busy:g}"
            )
        if self.resume_after_idle < 0:
            raise OpenBrainsError(
                f"resume-after-idle is minutes ≥ 0, got {self.resume_after_idle:g}"
            )
        if self.hours:
            Hours.parse(self.hours)

    @property
    def any(self) -> bool:
        return bool(
            self.pause_on_battery or self.pause_when_busy or self.resume_after_idle or self.hours
        )


@dataclass
class Verdict:
    """Whether the search may run now, and if not, why (plain words for the run bar)."""

    run: bool
    reasons: list[str] = field(default_factory=list)


class Policy:
    """Applies ``PolicySettings`` to readings; keeps the short history the CPU rule needs."""

    def __init__(self, settings: PolicySettings) -> None:
        self.settings = settings
        self.hours = Hours.parse(settings.hours) if settings.hours else None
        self._busy: deque[float] = deque(maxlen=BUSY_WINDOW)

    def decide(self, r: Readings) -> Verdict:
        s = self.settings
        reasons = []
        if self.hours is not None and not self.hours.allows(r.now):
            reasons.append(f"outside the allowed hours ({self.hours})")
        if s.pause_on_battery and r.on_battery:
            reasons.append("on battery")
        if s.pause_when_busy > 0:
            if r.other_cpu_pct is not None:
                self._busy.append(r.other_cpu_pct)
            average = sum(self._busy) / len(self._busy) if self._busy else 0.0
            if average > s.pause_when_busy:
                reasons.append(f"other programs use {average:.0f} % of the CPU")
        if s.resume_after_idle > 0:
            need = s.resume_after_idle * 60
            if r.idle_s is None:
                reasons.append("the person may be at the keyboard (idle time unknown)")
            elif r.idle_s < need:
                reasons.append(
                    f"the person is at the keyboard (idle {r.idle_s / 60:.1f} of "
                    f"{s.resume_after_idle:g} min)"
                )
        return Verdict(not reasons, reasons)


Change = Callable[[list[str]], None]


class Neighbour:
    """What the run loop holds: asks the policy at most every ``check_s`` and reports each
    change of mind through ``on_change(reasons)`` (empty reasons: the search may go on).
    The loop hands out jobs only while ``reasons`` is empty."""

    def __init__(
        self,
        settings: PolicySettings,
        sensors: Sensors,
        on_change: Change,
        check_s: float = CHECK_S,
    ) -> None:
        self.policy = Policy(settings)
        self.sensors = sensors
        self.on_change = on_change
        self.check_s = check_s
        self.reasons: list[str] = []
        self._last = -math.inf

    @property
    def active(self) -> bool:
        return self.policy.settings.any

    def poll(self) -> None:
        if not self.active:
            if self.reasons:  # the rules were turned off while waiting
                self.reasons = []
                self.on_change([])
            return
        now = time.monotonic()
        if now - self._last < self.check_s:
            return
        self._last = now
        verdict = self.policy.decide(self.sensors.read())
        if verdict.reasons != self.reasons:
            waiting_before = bool(self.reasons)
            self.reasons = verdict.reasons
            if waiting_before != bool(self.reasons) or self.reasons:
                self.on_change(list(self.reasons))

    def update(self, settings: PolicySettings) -> None:
        """New rules (the run bar or a resumed run): asked again at the next poll."""
        self.policy = Policy(settings)
        self._last = -math.inf


def neighbour_for(settings: Any, on_event: Callable[[str, dict[str, Any]], None]) -> Neighbour:
    """The run's neighbour on the real machine (engine.sensors), reporting changes as
    ``neighbour`` events ``{"waiting": [...reasons]}``."""
    from openbrains.engine.sensors import SystemSensors

    return Neighbour(
        PolicySettings.from_mapping(settings),
        SystemSensors(),
        lambda reasons: on_event("neighbour", {"waiting": reasons}),
    )
