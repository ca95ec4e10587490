"""A small typed view over the unit catalog, which reaches the canvas as plain data.

The canvas may not import the unit registry (it imports torch), so the app hands the editor
``engine.catalog.catalog_json()`` — a list of dicts — and this module turns it into
``UnitSpec``/``ParamSpec``/``PortSpec`` objects with the few questions the editor asks:
which ports a node has and of what kind, which params a new node starts with, whether a
value is in range.

Token rule (docs/decisions.md): token signals come only from an ``input`` node whose
``vocab`` param is above zero; every other output carries float features. A token wire may
only enter a ``tokens`` port (the embedding), and a float wire only a float port.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT, Graph, Node

FLOAT = "float"
TOKENS = "tokens"
ANY = "any"


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: str  # int | float | choice | bool | str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    log: bool = False
    mutable: bool = True
    doc: str = ""

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ParamSpec:
        return cls(
            name=str(d["name"]),
            kind=str(d.get("kind", "str")),
            default=d.get("default"),
            low=d.get("low"),
            high=d.get("high"),
            choices=tuple(d.get("choices") or ()),
            log=bool(d.get("log", False)),
            mutable=bool(d.get("mutable", True)),
            doc=str(d.get("doc", "")),
        )

    def check(self, value: Any) -> tuple[bool, Any, str]:
        """``(ok, coerced value, reason)``: the same rules the engine applies to params."""
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int | float):
                return False, value, f"{self.name} must be an integer"
            if isinstance(value, float) and not value.is_integer():
                return False, value, f"{self.name} must be an integer"
            value = int(value)
        elif self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                return False, value, f"{self.name} must be a number"
            value = float(value)
            if not math.isfinite(value):
                return False, value, f"{self.name} must be a finite number"
        elif self.kind == "bool":
            if not isinstance(value, bool):
                return False, value, f"{self.name} must be true or false"
        elif self.kind == "str":
            if not isinstance(value, str):
                return False, value, f"{self.name} must be text"
        elif self.kind == "choice" and value not in self.choices:
            return False, value, f"{self.name} must be one of {list(self.choices)}"
        if self.kind in ("int", "float"):
            if self.low is not None and value < self.low:
                return False, value, f"{self.name} must be at least {self.low:g}"
            if self.high is not None and value > self.high:
                return False, value, f"{self.name} must be at most {self.high:g}"
        return True, value, ""

    def describe(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(str(c) for c in self.choices)
        if self.kind in ("int", "float") and self.low is not None and self.high is not None:
            scale = ", log scale" if self.log else ""
            return f"{self.kind} in [{self.low:g}, {self.high:g}]{scale}"
        return self.kind


@dataclass(frozen=True)
class PortSpec:
    name: str
    kind: str = FLOAT

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PortSpec:
        return cls(name=str(d["name"]), kind=str(d.get("kind", FLOAT)))

    def accepts(self, kind: str) -> bool:
        """Does this (input) port take a wire carrying ``kind``?"""
        return self.kind == ANY or kind == ANY or self.kind == kind


@dataclass(frozen=True)
class UnitSpec:
    name: str
    category: str = "other"
    doc: str = ""
    version: int = 1
    package: str = ""
    merge: str = "sum"
    stateful: bool = False
    causal: Any = True
    inputs: tuple[PortSpec, ...] = ()
    outputs: tuple[PortSpec, ...] = ()
    params: tuple[ParamSpec, ...] = ()
    known: bool = True  # False for a unit the catalog lacks (drawn, never built)
    _by_name: dict[str, ParamSpec] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> UnitSpec:
        params = tuple(ParamSpec.from_json(p) for p in d.get("params") or ())
        return cls(
            name=str(d["name"]),
            category=str(d.get("category") or "other"),
            doc=str(d.get("doc", "")),
            version=int(d.get("version", 1)),
            package=str(d.get("package", "")),
            merge=str(d.get("merge", "sum")),
            stateful=bool(d.get("stateful", False)),
            causal=d.get("causal", True),
            inputs=tuple(PortSpec.from_json(p) for p in d.get("inputs") or ()),
            outputs=tuple(PortSpec.from_json(p) for p in d.get("outputs") or ()),
            params=params,
            _by_name={p.name: p for p in params},
        )

    @classmethod
    def unknown(cls, name: str) -> UnitSpec:
        return cls(
            name=name,
            category="other",
            doc=f"unit {name!r} is not installed; the node is kept as data",
            inputs=(PortSpec("in", ANY),),
            outputs=(PortSpec("out", ANY),),
            known=False,
        )

    def param(self, name: str) -> ParamSpec | None:
        return self._by_name.get(name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    @property
    def width_param(self) -> ParamSpec | None:
        return self._by_name.get("width")


class Catalog:
    """The units the editor can place, in the catalog's own order (grouped by category)."""

    def __init__(self, entries: Iterable[dict[str, Any]] = ()) -> None:
        self._units: dict[str, UnitSpec] = {}
        for d in entries:
            spec = UnitSpec.from_json(d)
            self._units[spec.name] = spec

    # ----- lookup -----------------------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return name in self._units

    def __iter__(self) -> Iterator[UnitSpec]:
        return iter(self._units.values())

    def __len__(self) -> int:
        return len(self._units)

    def get(self, name: str) -> UnitSpec | None:
        return self._units.get(name)

    def spec(self, name: str) -> UnitSpec:
        """The unit, or a placeholder spec for one the catalog does not know."""
        return self._units.get(name) or UnitSpec.unknown(name)

    def names(self) -> list[str]:
        return list(self._units)

    def categories(self) -> list[str]:
        out: list[str] = []
        for u in self._units.values():
            if u.category not in out:
                out.append(u.category)
        return out

    def by_category(self) -> dict[str, list[UnitSpec]]:
        out: dict[str, list[UnitSpec]] = {}
        for u in self._units.values():
            out.setdefault(u.category, []).append(u)
        return out

    def search(self, text: str) -> list[UnitSpec]:
        """Units matching every word of ``text`` in name, category or doc; name hits first."""
        words = text.lower().split()
        if not words:
            return list(self._units.values())
        scored: list[tuple[int, int, UnitSpec]] = []
        for i, u in enumerate(self._units.values()):
            hay = f"{u.name} {u.category} {u.doc}".lower()
            if not all(w in hay for w in words):
                continue
            first = words[0]
            if u.name.lower() == first:
                rank = 0
            elif u.name.lower().startswith(first):
                rank = 1
            elif first in u.name.lower():
                rank = 2
            elif first in u.category.lower():
                rank = 3
            else:
                rank = 4
            scored.append((rank, i, u))
        return [u for _, _, u in sorted(scored, key=lambda t: (t[0], t[1]))]

    # ----- new nodes --------------------------------------------------------------------
    def new_params(self, unit: str, graph: Graph | None = None) -> dict[str, Any]:
        """A new node's params: every declared param at its default. Inputs and outputs get
        a name not yet used by another input/output of ``graph``."""
        spec = self.get(unit)
        if spec is None:
            return {}
        params = spec.defaults()
        if unit in (INPUT_UNIT, OUTPUT_UNIT) and graph is not None and "name" in params:
            taken = {str(n.params.get("name", "")) for n in graph.nodes.values() if n.unit == unit}
            base = str(params["name"]) or ("x" if unit == INPUT_UNIT else "y")
            name, k = base, 2
            while name in taken:
                name, k = f"{base}{k}", k + 1
            params["name"] = name
        return params

    # ----- ports ------------------------------------------------------------------------
    def input_ports(self, node: Node, graph: Graph | None = None) -> list[PortSpec]:
        spec = self.spec(node.unit)
        ports = list(spec.inputs)
        if not spec.known and graph is not None:
            names = {p.name for p in ports}
            for e in graph.in_edges(node.uid):
                if e.dst_port not in names:
                    names.add(e.dst_port)
                    ports.append(PortSpec(e.dst_port, ANY))
        return ports

    def output_ports(self, node: Node, graph: Graph | None = None) -> list[PortSpec]:
        spec = self.spec(node.unit)
        ports = [PortSpec(p.name, output_kind(node, p)) for p in spec.outputs]
        if not spec.known and graph is not None:
            names = {p.name for p in ports}
            for e in graph.out_edges(node.uid):
                if e.src_port not in names:
                    names.add(e.src_port)
                    ports.append(PortSpec(e.src_port, ANY))
        return ports

    def input_port(self, node: Node, name: str) -> PortSpec | None:
        return next((p for p in self.input_ports(node) if p.name == name), None)

    def output_port(self, node: Node, name: str) -> PortSpec | None:
        return next((p for p in self.output_ports(node) if p.name == name), None)


def is_token_source(node: Node) -> bool:
    """Token ids come only from an input node with a vocabulary."""
    if node.unit != INPUT_UNIT:
        return False
    try:
        return int(node.params.get("vocab", 0) or 0) > 0
    except (TypeError, ValueError):
        return False


def output_kind(node: Node, port: PortSpec | None = None) -> str:
    if is_token_source(node):
        return TOKENS
    if port is not None and port.kind == ANY:
        return ANY
    return FLOAT


def format_count(n: int) -> str:
    """1234 → '1.2k', 2_500_000 → '2.5M' (node badges are small)."""
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return f"{n / 1_000_000:.1f}M".replace(".0M", "M")
