"""What defines a run, and when it stops: ``RunSettings`` (stored in the archive; the
``RUNTIME`` keys may change when a run resumes, the others are its identity) and ``Until``
(a stop condition on the champion's metric). Torch-free."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.neighbour import PolicySettings
from openbrains.engine.settings_check import SettingsError, check_run_settings
from openbrains.engine.store import Archive, ArchiveError
from openbrains.engine.tasks.rating import DEFAULT_PRIOR_STRENGTH

SETTINGS_KEY = "settings"


@dataclass
class RunSettings:
    """Everything that defines a run. Stored in the archive; ``RUNTIME`` keys may change
    when a run is resumed, the others are its identity."""

    task: dict[str, Any]
    seed: int = 0
    population: int = 16
    tournament: int = 4
    crossover_rate: float = 0.15
    template_fraction: float = 0.35
    # the template share of fresh graphs halves every this many individuals (0: never)
    template_half_life: int = 200
    # weight of structural novelty (engine.evolve.novelty) beside fitness in tournaments
    novelty_weight: float = 0.0
    budget_steps: int = 0
    eta: int = 3
    max_rung: int = 4
    promote_every: int = 2
    tradeoff: float = 0.02
    max_params: int = 0
    inherit: bool = True
    # each new champion of a dataset task trains on with its validation data (engine.refits)
    refit: bool = True
    sibling_rate: float = 0.25
    siblings: int = 4
    workers: int = 1
    cpu_cap: float = 0.0
    seeds: list[str] = field(default_factory=list)
    # continued from a shared brain (--seed-from): protect, share or off; "" for a plain run.
    # The old tasks' probes lie beside the seeds (engine.continual.seeding)
    keep: str = ""
    rating_weight: float = 0.0  # 0: the task's metric alone; 1: people's ratings alone
    rating_prior: float = DEFAULT_PRIOR_STRENGTH  # k of the shrunk mean rating
    # exporters.budget.DeviceBudget as plain data: every candidate's C build fits it
    device_budget: dict[str, Any] | None = None
    # the good-neighbour rules (engine.neighbour.PolicySettings): off at these values
    pause_on_battery: bool = False
    pause_when_busy: float = 0.0
    resume_after_idle: float = 0.0
    hours: str = ""

    RUNTIME = (
        "workers",
        "cpu_cap",
        "tradeoff",
        "rating_weight",
        "novelty_weight",
        "refit",
        *PolicySettings.KEYS,
    )

    def __post_init__(self) -> None:
        check_run_settings(self.to_dict())  # the rules: engine/settings_check.py

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "") -> RunSettings:
        if not isinstance(d, dict):
            raise SettingsError(f"{where}: the stored settings are not an object")
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        check_run_settings(known, where)
        return cls(**known)


@dataclass
class Until:
    """A stop condition on the champion's validation metric, e.g. ``accuracy>=0.97``."""

    metric: str
    op: str
    value: float

    @classmethod
    def parse(cls, text: str) -> Until:
        for op in (">=", "<="):
            if op in text:
                metric, value = text.split(op, 1)
                try:
                    number = float(value)
                except ValueError:
                    break
                if math.isfinite(number):  # 'accuracy>=nan' would never be met
                    return cls(metric.strip(), op, number)
                break
        raise OpenBrainsError(
            f"--until must look like METRIC>=VALUE or METRIC<=VALUE, got {text!r}"
        )

    def met(self, metric: str, value: float | None) -> bool:
        if value is None or metric != self.metric:
            return False
        return value >= self.value if self.op == ">=" else value <= self.value


def reconcile(archive: Archive, run_dir: Path, given: RunSettings | None) -> RunSettings:
    """The run's settings: the stored ones (with the given runtime keys), or the given ones
    for a new run. A different task in the same folder is refused."""
    stored = archive.get_meta(SETTINGS_KEY)
    if stored is None:
        if given is None:
            raise ArchiveError(f"{run_dir} holds no run yet; give a task to start one")
        archive.set_meta(SETTINGS_KEY, given.to_dict())
        return given
    if given is not None and isinstance(stored, dict):  # runtime values: the given ones
        stored = {**stored, **{k: getattr(given, k) for k in RunSettings.RUNTIME}}
    settings = RunSettings.from_dict(stored, where=str(run_dir))
    if given is not None:
        if given.task != settings.task:
            raise ArchiveError(
                f"{run_dir} belongs to task {settings.task.get('name')!r} "
                f"({task_label(settings.task)}); use another --run-dir for {task_label(given.task)}"
            )
        for key in RunSettings.RUNTIME:
            setattr(settings, key, getattr(given, key))
        archive.set_meta(SETTINGS_KEY, settings.to_dict())
    return settings


def task_label(task: dict[str, Any]) -> str:
    parts = [str(task.get("name"))]
    if task.get("data"):
        parts.append(str(task["data"]))
    return " ".join(parts)
