"""The values a run setting may take, declared once, checked wherever one comes in.

Settings arrive from the command line, the window's dialogs, a project file and a run
folder's stored settings (both possibly a stranger's). A population of 0, a NaN cap or a
task that is a list used to surface later as a traceback or as a run that never ends;
``check_run_settings`` refuses them where ``RunSettings`` is made, and the command line's
argument types (``app/argtypes.py``) use the same rules to refuse them as they are typed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from openbrains.engine.errors import OpenBrainsError


class SettingsError(OpenBrainsError):
    """A run setting outside what it may be; says which, what it got and what it takes."""


@dataclass(frozen=True)
class Rule:
    """A number a setting may be: whole or not, and its bounds (``None``: unbounded)."""

    whole: bool
    low: float | None = None
    high: float | None = None
    meaning: str = ""
    above: bool = False  # ``low`` itself is not allowed

    def _show(self, bound: float) -> str:
        return f"{int(bound):,}" if self.whole or bound == int(bound) else f"{bound:g}"

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not allowed, or None."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be a number, got {value!r}"
        if self.whole and not isinstance(value, int):
            return f"must be a whole number, got {value!r}"
        if not math.isfinite(value):
            return f"must be a finite number, got {value!r}"
        if self.low is not None and (value <= self.low if self.above else value < self.low):
            least = "more than" if self.above else "at least"
            return f"must be {least} {self._show(self.low)}{self._tail()}, got {value!r}"
        if self.high is not None and value > self.high:
            return f"must be at most {self._show(self.high)}{self._tail()}, got {value!r}"
        return None

    def _tail(self) -> str:
        return f" ({self.meaning})" if self.meaning else ""


def _max_weights() -> int:
    from openbrains.engine.format.safety import DEFAULT_LIMITS

    return DEFAULT_LIMITS.max_weights


SHARE = Rule(False, 0.0, 1.0)
RULES: dict[str, Rule] = {
    "seed": Rule(True),
    "population": Rule(True, 1, 100_000),
    "tournament": Rule(True, 1),
    "crossover_rate": SHARE,
    "template_fraction": SHARE,
    "template_half_life": Rule(True, 0, 1e9, "individuals; 0 = the share never falls"),
    "novelty_weight": Rule(False, 0.0, 10.0),
    "budget_steps": Rule(True, 0, 1e9, "0 = sized from the task"),
    "eta": Rule(True, 2, 10),
    "max_rung": Rule(True, 0, 12),
    "promote_every": Rule(True, 1),
    "tradeoff": Rule(False, 0.0, 100.0),
    "max_params": Rule(True, 0, _max_weights(), "0 = sized from the task"),
    "sibling_rate": SHARE,
    "siblings": Rule(True, 0, 64),
    "workers": Rule(True, 0, 1024, "0 = train in the run's own process"),
    "cpu_cap": Rule(False, 0.0, 100.0 * 1024, "percent of one core; 0 = no cap"),
    "rating_weight": SHARE,
    "rating_prior": Rule(False, 0.0, 1e6),
}
MINUTES = Rule(False, 0.0, 1e9, above=True)


def setting_problem(name: str, value: Any) -> str | None:
    """Why ``value`` cannot be setting ``name`` (None when it can, or has no rule here)."""
    if name == "task":
        return task_problem(value)
    if name in ("inherit", "refit"):
        return None if isinstance(value, bool) else f"must be true or false, got {value!r}"
    if name == "seeds":
        ok = isinstance(value, list) and all(isinstance(s, str) for s in value)
        return None if ok else "must be a list of graphs (JSON text)"
    if name == "keep":  # a continued run (engine.continual): how the old tasks are kept
        ok = value in ("", "protect", "share", "off")
        return None if ok else f"must be protect, share or off, got {value!r}"
    if name == "device_budget":
        return device_budget_problem(value)
    rule = RULES.get(name)
    return rule.problem(value) if rule else None


def device_budget_problem(value: Any) -> str | None:
    """None (no device) or a ``DeviceBudget`` as plain data: sizes in bytes, the weights."""
    if value is None:
        return None
    from openbrains.engine.exporters.budget import DeviceBudget

    try:
        DeviceBudget.from_dict(value)
    except (TypeError, ValueError, KeyError, AttributeError):
        return f'must be like {{"flash": 32768, "ram": 2048, "weights": "int8"}}, got {value!r}'
    return None


def task_problem(task: Any) -> str | None:
    """A task spec is an object with a ``name`` (its other keys are the task's options)."""
    if not isinstance(task, dict):
        kind = {list: "a list", str: "a string", int: "a number", float: "a number"}.get(
            type(task), type(task).__name__
        )
        return f'must be an object like {{"name": "digits"}}, not {kind}'
    name = task.get("name")
    if not isinstance(name, str) or not name:
        return f'must name its task: {{"name": "digits", …}}, got name {name!r}'
    return None


def check_setting(name: str, value: Any, where: str = "") -> Any:
    """``value`` if setting ``name`` may take it, else ``SettingsError``."""
    problem = setting_problem(name, value)
    if problem:
        prefix = f"{where}: " if where else ""
        raise SettingsError(f"{prefix}setting {name!r} {problem}")
    return value


def check_run_settings(values: dict[str, Any], where: str = "") -> None:
    """Every setting in ``values`` (a ``RunSettings`` as a dict) within its rule."""
    for name, value in values.items():
        check_setting(name, value, where)


def check_minutes(minutes: float | None) -> float | None:
    """How long a run may go on: None (until stopped) or more than 0 and finite."""
    if minutes is None:
        return None
    problem = MINUTES.problem(minutes)
    if problem:
        raise SettingsError(f"minutes {problem}")
    return minutes
