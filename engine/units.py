"""Unit declarations and the registry they live in.

A *unit* is a node type declared once: ports, typed params (with the ranges mutation may
use), a version with param migrations, a shape rule (``infer``, torch-free), ``build``
(returns a ``torch.nn.Module``) and, optionally, the weight-surgery facts that let
evolution widen it function-preservingly (``widening``, engine.widening). ``nodes/``
registers the built-in catalog and other pip packages add units, both through the
``openbrains.units`` entry-point group.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from openbrains.engine.errors import MissingUnitError, ParamError
from openbrains.engine.footprint import TensorDecl
from openbrains.engine.plugins import UNITS
from openbrains.engine.signal import SignalSpec
from openbrains.engine.widening import Widening

if TYPE_CHECKING:
    from torch import nn

ENTRY_POINT_GROUP = UNITS  # engine.plugins: built-ins and plugins register alike
PARAM_KINDS = ("int", "float", "choice", "bool", "str")
PORT_KINDS = ("float", "tokens", "any")
MERGES = ("sum", "concat", "list")


@dataclass(frozen=True)
class Param:
    """A typed parameter with its default, its range and whether evolution may change it."""

    name: str
    kind: str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    log: bool = False
    mutable: bool = True
    doc: str = ""
    # choices are a scale (batch sizes): mutation moves to a neighbouring one
    ordered: bool = False
    # changing it re-draws the unit's fixed (seeded) weights, so a child must not keep them
    redraws: bool = False
    # the bound itself lies outside the range (a learning rate above 0, smoothing below 1)
    open_low: bool = False
    open_high: bool = False

    def __post_init__(self) -> None:
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"param {self.name!r}: unknown kind {self.kind!r}")
        self.check(self.default, where=f"default of param {self.name!r}")

    def check(self, value: Any, where: str = "") -> Any:
        """Return ``value`` coerced to this param's type, or raise ``ParamError`` saying why."""
        at = where or f"param {self.name!r}"
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ParamError(f"{at}: expected an integer, got {value!r}")
            if isinstance(value, float) and not value.is_integer():
                raise ParamError(f"{at}: expected an integer, got {value!r}")
            value = int(value)
        elif self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ParamError(f"{at}: expected a number, got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                raise ParamError(f"{at}: expected a finite number, got {value!r}")
        elif self.kind == "bool":
            if not isinstance(value, bool):
                raise ParamError(f"{at}: expected true or false, got {value!r}")
        elif self.kind == "str":
            if not isinstance(value, str):
                raise ParamError(f"{at}: expected a string, got {value!r}")
        elif self.kind == "choice" and value not in self.choices:
            raise ParamError(f"{at}: {value!r} is not one of {list(self.choices)}")
        if self.kind in ("int", "float"):
            if self.low is not None and (value < self.low or (self.open_low and value == self.low)):
                if self.open_low:
                    raise ParamError(f"{at}: {value} is not above {self.low:g}")
                raise ParamError(f"{at}: {value} is below the minimum {self.low:g}")
            if self.high is not None and (
                value > self.high or (self.open_high and value == self.high)
            ):
                if self.open_high:
                    raise ParamError(f"{at}: {value} is not below {self.high:g}")
                raise ParamError(f"{at}: {value} is above the maximum {self.high:g}")
        return value

    def sample(self, rng: random.Random) -> Any:
        """A random value over the whole declared range (log-uniform when ``log``)."""
        if self.kind == "choice":
            return rng.choice(self.choices)
        if self.kind == "bool":
            return rng.random() < 0.5
        if self.kind in ("int", "float") and self.low is not None and self.high is not None:
            if self.log and self.low > 0:
                v = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
            else:
                v = rng.uniform(self.low, self.high)
            return int(round(v)) if self.kind == "int" else v
        return self.default

    def perturb(self, value: Any, rng: random.Random, scale: float = 0.5) -> Any:
        """A nearby value: multiplicative for log params, additive otherwise, clipped."""
        if self.kind in ("choice", "bool", "str") or self.low is None or self.high is None:
            return self.sample(rng) if self.kind != "str" else value
        if self.log and self.low > 0 and value > 0:
            v = value * math.exp(rng.gauss(0.0, scale))
        else:
            v = value + rng.gauss(0.0, scale * (self.high - self.low) / 4)
        v = min(max(v, self.low), self.high)
        if self.kind == "int":
            v = int(round(v))
            if v == value:
                v = min(max(value + rng.choice((-1, 1)), int(self.low)), int(self.high))
        return v

    def mutate(self, value: Any, rng: random.Random) -> Any:
        """A different value for evolution: the other bool, another choice, a neighbour for
        numbers (``perturb``)."""
        if self.kind == "bool":
            return not value
        if self.kind == "choice":
            return self._step(value, rng)
        return self.perturb(value, rng)

    def _step(self, value: Any, rng: random.Random) -> Any:
        """Another of ``choices``: the next or previous one when ``ordered`` (a leap on a
        scale like batch sizes costs more than it teaches), else any other."""
        options = self.choices
        if self.ordered and value in options:
            i, last = options.index(value), len(options) - 1
            down = i == last or (i > 0 and rng.random() < 0.5)
            return options[max(0, i - 1)] if down else options[i + 1]
        others = [c for c in options if c != value]
        return rng.choice(others) if others else value

    def describe(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(str(c) for c in self.choices)
        if self.kind in ("int", "float") and (self.low is not None or self.high is not None):

            def show(x: float) -> str:
                return str(int(x)) if self.kind == "int" else f"{x:g}"

            lo = "(-inf" if self.low is None else ("(" if self.open_low else "[") + show(self.low)
            hi = "inf)" if self.high is None else show(self.high) + (")" if self.open_high else "]")
            return f"{self.kind} in {lo}, {hi}" + (", log scale" if self.log else "")
        return self.kind


def Int(name: str, default: int, low: int, high: int, doc: str = "", **kw: Any) -> Param:
    return Param(name, "int", default, low, high, doc=doc, **kw)


def Float(name: str, default: float, low: float, high: float, doc: str = "", **kw: Any) -> Param:
    return Param(name, "float", default, low, high, doc=doc, **kw)


def Choice(name: str, default: Any, choices: Iterable[Any], doc: str = "", **kw: Any) -> Param:
    return Param(name, "choice", default, choices=tuple(choices), doc=doc, **kw)


def Bool(name: str, default: bool, doc: str = "", **kw: Any) -> Param:
    return Param(name, "bool", default, doc=doc, **kw)


def Str(name: str, default: str, doc: str = "", **kw: Any) -> Param:
    return Param(name, "str", default, doc=doc, mutable=False, **kw)


@dataclass(frozen=True)
class Port:
    """A named connection point. ``kind`` says what may connect: float features or token ids.

    Several wires may enter one input port; the unit's ``merge`` rule combines them.
    """

    name: str
    kind: str = "float"

    def __post_init__(self) -> None:
        if self.kind not in PORT_KINDS:
            raise ValueError(f"port {self.name!r}: unknown kind {self.kind!r}")

    def accepts(self, spec_is_tokens: bool) -> bool:
        if self.kind == "any":
            return True
        return spec_is_tokens == (self.kind == "tokens")


@dataclass(frozen=True)
class UnitContext:
    """What ``infer`` and ``build`` see: the params and the (merged, aligned) input shapes."""

    params: Mapping[str, Any]
    inputs: tuple[SignalSpec, ...]
    causal: bool = False
    seed: int = 0

    @property
    def input(self) -> SignalSpec:
        """The merged input of the first port (most units have just one)."""
        return self.inputs[0]

    @property
    def in_channels(self) -> int:
        return self.inputs[0].channels


def same_shape(ctx: UnitContext) -> SignalSpec:
    """Shape rule of units that keep width and time (activations, norms, dropout)."""
    return ctx.input


def width_from(param: str) -> Callable[[UnitContext], SignalSpec]:
    """Shape rule of units whose output width is one of their params."""

    def infer(ctx: UnitContext) -> SignalSpec:
        return ctx.input.with_channels(int(ctx.params[param]))

    return infer


@dataclass(frozen=True)
class Unit:
    """One node type. ``build`` returns a module whose ``forward`` takes one tensor per input
    port (a list for ``merge="list"``) and, when ``stateful``, a state as last argument
    (``None`` at the start of a stream), returning ``(output, new_state)``.

    ``source`` cites where the unit comes from; ``tensors`` and ``flops`` declare its weight
    layout and its cost as formulas of its params (``engine/footprint.py``).
    ``starts_as_identity``: a freshly built module returns its input exactly (its output
    width is its input width, an inner skip and a zero-initialised output projection), so
    mutation may insert it straight on a wire and the child computes what the parent did.
    """

    name: str
    version: int
    category: str
    doc: str
    params: tuple[Param, ...] = ()
    infer: Callable[[UnitContext], SignalSpec] = same_shape
    build: Callable[[UnitContext], nn.Module] | None = None
    inputs: tuple[Port, ...] = (Port("in"),)
    outputs: tuple[Port, ...] = (Port("out"),)
    merge: str = "sum"
    stateful: bool = False
    causal: bool | Callable[[Mapping[str, Any]], bool] = True
    migrations: Mapping[int, Callable[[dict[str, Any]], dict[str, Any]]] = field(
        default_factory=dict
    )
    package: str = "openbrains"
    # how its tensors follow a change in channel count (engine.widening); None: never exact
    widening: Widening | None = None
    source: str = ""
    tensors: tuple[TensorDecl, ...] = ()
    flops: str = ""
    starts_as_identity: bool = False

    def __post_init__(self) -> None:
        if self.merge not in MERGES:
            raise ValueError(f"unit {self.name!r}: unknown merge {self.merge!r}")
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"unit {self.name!r}: duplicate param names")

    @property
    def param_map(self) -> dict[str, Param]:
        return {p.name: p for p in self.params}

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def check_params(self, params: Mapping[str, Any], where: str) -> dict[str, Any]:
        """Defaults filled in, types coerced; unknown or ill-typed params raise ``ParamError``."""
        decl = self.param_map
        for key in params:
            if key not in decl:
                raise ParamError(
                    f"{where}: unit {self.name!r} v{self.version} has no param {key!r}"
                )
        out = self.defaults()
        for key, value in params.items():
            out[key] = decl[key].check(value, where=f"{where}: param {key!r}")
        return out

    def supports_causal(self, params: Mapping[str, Any]) -> bool:
        return self.causal(params) if callable(self.causal) else bool(self.causal)

    def migrate(self, params: dict[str, Any], from_version: int) -> dict[str, Any]:
        """Bring params written by an older version of this unit up to ``self.version``."""
        for v in range(from_version, self.version):
            step = self.migrations.get(v)
            if step is not None:
                params = step(dict(params))
        return params


class Registry:
    """Name → Unit. Built-ins and plugins land here through the same entry-point group."""

    def __init__(self) -> None:
        self._units: dict[str, Unit] = {}
        self.plugin_errors: dict[str, str] = {}
        self._loaded = False

    def register(self, unit: Unit, replace: bool = False) -> Unit:
        if unit.name in self._units and not replace and self._units[unit.name] is not unit:
            raise ValueError(f"unit {unit.name!r} is already registered")
        self._units[unit.name] = unit
        return unit

    def __contains__(self, name: object) -> bool:
        self.ensure_loaded()
        return name in self._units

    def get(self, name: str, package: str | None = None, node: str | None = None) -> Unit:
        self.ensure_loaded()
        try:
            return self._units[name]
        except KeyError:
            where = f" (node {node!r})" if node else ""
            pkg = f" from package {package!r}" if package else ""
            hint = f"; install {package!r} to run it" if package and package != "openbrains" else ""
            raise MissingUnitError(
                f"unit {name!r}{pkg} is not installed{where}{hint}", name, package, node
            ) from None

    def names(self) -> list[str]:
        self.ensure_loaded()
        return sorted(self._units)

    def units(self) -> list[Unit]:
        return [self._units[n] for n in self.names()]

    def ensure_loaded(self) -> None:
        """Load every installed unit package once, the built-in library included: it
        registers through the same entry-point group as plugins do (the engine never
        names it). A broken plugin is recorded, never fatal."""
        if self._loaded:
            return
        self._loaded = True
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                hook = ep.load()
                if callable(hook):
                    hook(self)
            except Exception as exc:  # a third-party plugin must not take the app down
                self.plugin_errors[ep.name] = f"{type(exc).__name__}: {exc}"


REGISTRY = Registry()


def get_unit(name: str, package: str | None = None, node: str | None = None) -> Unit:
    return REGISTRY.get(name, package=package, node=node)


def upgrade_units(graph: Any) -> list[str]:
    """Migrate the params of every node whose unit is installed at a newer version, in place.

    Nodes of units that are not installed (or are newer than what is installed) are left as
    they are, so the file still round-trips; returns the uids that changed.
    """
    changed = []
    for node in graph.nodes.values():
        if node.unit not in REGISTRY:
            continue
        unit = REGISTRY.get(node.unit)
        if node.version < unit.version:
            node.params = unit.migrate(dict(node.params), node.version)
            node.version = unit.version
            changed.append(node.uid)
    return changed
