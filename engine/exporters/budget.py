"""A device a run must stay inside (``openbrains run … --device-budget flash=32k,ram=2k``):
the C build of every candidate must fit, so the champion always does. Sizes come from the
C emitter's own accounting (``c/footprint.py``) of the candidate's graph; a graph with a
unit that has no C form does not fit any device."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)[bB]?\s*$")
_UNITS = {"": 1, "k": 1024, "m": 1024 * 1024}
WEIGHTS = ("float32", "int8")


def parse_size(text: str, what: str) -> int:
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"{what}={text!r} is not a size like 32k, 2048 or 1.5k")
    value = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    if value <= 0:
        raise ValueError(f"{what} must be more than 0")
    return value


def _size(n: int) -> str:
    return f"{n / 1024:.3g} KB" if n >= 1024 else f"{n} B"


@dataclass(frozen=True)
class DeviceBudget:
    flash: int  # bytes
    ram: int  # bytes
    weights: str = "float32"  # the build whose size counts: float32 or int8

    @classmethod
    def parse(cls, text: str) -> DeviceBudget:
        """``flash=32k,ram=2k`` with an optional ``weights=int8`` (default float32)."""
        given: dict[str, str] = {}
        for part in text.split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            key = key.strip().lower()
            if not sep or key not in ("flash", "ram", "weights"):
                raise ValueError(f"{part.strip()!r}: expected flash=SIZE, ram=SIZE or weights=int8")
            if key in given:
                raise ValueError(f"{key} is given twice")
            given[key] = value.strip()
        missing = [k for k in ("flash", "ram") if k not in given]
        if missing:
            raise ValueError(f"missing {' and '.join(missing)} (e.g. flash=32k,ram=2k)")
        weights = given.get("weights", "float32").lower()
        if weights not in WEIGHTS:
            raise ValueError(f"weights={weights!r}: expected float32 or int8")
        return cls(parse_size(given["flash"], "flash"), parse_size(given["ram"], "ram"), weights)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DeviceBudget:
        """From stored settings (possibly a stranger's): whole sizes above 0, known weights."""
        if not isinstance(d, dict):
            raise ValueError("a device budget is an object")
        flash, ram, weights = d.get("flash"), d.get("ram"), d.get("weights", "float32")
        for key, n in (("flash", flash), ("ram", ram)):
            if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
                raise ValueError(f"{key} must be a whole number of bytes above 0, got {n!r}")
        if weights not in WEIGHTS:
            raise ValueError(f"weights must be float32 or int8, got {weights!r}")
        return cls(flash, ram, weights)

    def describe(self) -> str:
        return f"flash {_size(self.flash)}, RAM {_size(self.ram)}, {self.weights} weights"

    @property
    def bytes_per_weight(self) -> int:
        return 1 if self.weights == "int8" else 4

    def max_params(self) -> int:
        """No brain with more parameters than this can fit in flash."""
        from openbrains.engine.exporters.c.footprint import CODE_BASE

        return max(1, (self.flash - CODE_BASE) // self.bytes_per_weight)


@dataclass(frozen=True)
class Fit:
    fits: bool
    flash: int
    ram: int
    why: str = ""


def measure_graph(graph: Any, budget: DeviceBudget) -> Fit:
    """The C build of ``graph`` against ``budget`` (weights need not be trained)."""
    from openbrains.engine.compile import compile_graph
    from openbrains.engine.errors import GraphError
    from openbrains.engine.exporters.c import program, refusal
    from openbrains.engine.exporters.c.footprint import measure

    try:
        brain = compile_graph(graph, seed=0)
    except GraphError as exc:
        return Fit(False, 0, 0, str(exc))
    why = refusal(brain)
    if why:
        return Fit(False, 0, 0, why)
    prog, _ = program(brain)
    fp = measure(prog, int8=budget.weights == "int8")
    ok = fp.flash <= budget.flash and fp.ram <= budget.ram
    return Fit(ok, fp.flash, fp.ram, "" if ok else f"needs flash {fp.flash}, RAM {fp.ram}")


class DeviceGate:
    """What a run with a device budget asks of every candidate it creates, so its champion
    always fits: generators are bounded by the flash, each candidate's C build is measured,
    and a run whose smallest possible brain does not fit is refused at the start."""

    def __init__(self, budget: DeviceBudget) -> None:
        self.budget = budget

    def bound(self, bounds: Any) -> Any:
        from dataclasses import replace

        return replace(bounds, max_params=min(bounds.max_params, self.budget.max_params()))

    def fits(self, graph: Any) -> bool:
        return measure_graph(graph, self.budget).fits

    def check(self, graph: Any, what: str) -> None:
        from openbrains.engine.errors import OpenBrainsError

        fit = measure_graph(graph, self.budget)
        if not fit.fits:
            need = fit.why if not fit.flash else f"flash {fit.flash:,} B and RAM {fit.ram:,} B"
            raise OpenBrainsError(
                f"{what} does not fit the device budget ({self.budget.describe()}): {need}"
            )

    def smallest(self, task: Any) -> Any:
        """Inputs wired straight to the outputs (through a 4-wide embedding for tokens):
        the brain every run can fall back to."""
        import random

        from openbrains.engine.evolve.random import add_io
        from openbrains.engine.graph import Graph

        rng = random.Random(0)
        graph = Graph(causal=task.causal)
        ins, outs = add_io(graph, task.inputs, task.outputs, rng)
        for uid, spec in zip(ins, task.inputs.values()):
            src = uid
            if spec.meta.vocab:
                src = graph.add_node("embedding", {"width": 4}, rng=rng).uid
                graph.connect(uid, src, rng=rng)
            for out in outs:
                graph.connect(src, out, rng=rng)
        return graph

    def check_task(self, task: Any) -> None:
        self.check(self.smallest(task), f"task {task.name!r}: even a brain wired straight through")


def device_gate(settings: dict[str, Any] | None) -> DeviceGate | None:
    return DeviceGate(DeviceBudget.from_dict(settings)) if settings else None
