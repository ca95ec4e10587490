"""What a unit's weights look like and what it costs, as formulas of its params.

A unit declares its tensors (``TensorDecl``: the key under ``node/<uid>/``, a shape whose
entries are small arithmetic expressions, and an optional condition) and its FLOPs as one
expression. The catalog prints them for readers in other languages (the weight layout of a
``.graph``, issue #14) and a test builds every unit over random params and checks the
declared shapes, parameter counts and FLOPs against the real modules, so they cannot drift.

Symbols an expression may use: the unit's params by name; ``C`` the channels of the
(merged) first input; ``T`` its time steps; ``V`` the vocabulary of a token input (0 for
floats); ``has_grid`` 1 when the input carries an image grid (and the graph is not
causal), else 0, and ``rows``, ``cols`` that grid (0 without one); ``causal`` 1 in a
causal graph. Functions: ``min``, ``max``, ``ceil``. FLOPs count what
``torch.utils.flop_counter`` counts for one example in evaluation mode (2 per multiply-add
of matrix products and convolutions; elementwise work is not counted), as ``Brain.flops``
does. Expressions come from unit declarations (code), never from files; they are still
evaluated by a small whitelisting interpreter, not ``eval``.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from openbrains.engine.signal import SignalSpec

Symbols = Mapping[str, Any]

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {"min": min, "max": max, "ceil": math.ceil}


def evaluate(expr: str, symbols: Symbols) -> Any:
    """The value of a declared expression; a name it does not know raises ``KeyError``."""
    return _eval(ast.parse(expr.strip(), mode="eval").body, symbols)


def _eval(node: ast.AST, s: Symbols) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str | bool):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in s:
            raise KeyError(f"unknown symbol {node.id!r}")
        return s[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_eval(node.left, s), _eval(node.right, s))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.Not):
        value = _eval(node.operand, s)
        return -value if isinstance(node.op, ast.USub) else not value
    if isinstance(node, ast.BoolOp):  # Python's meaning: the deciding operand
        value = _eval(node.values[0], s)
        for operand in node.values[1:]:
            if bool(value) != isinstance(node.op, ast.And):
                return value
            value = _eval(operand, s)
        return value
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
        return _COMPARE[type(node.ops[0])](_eval(node.left, s), _eval(node.comparators[0], s))
    if isinstance(node, ast.IfExp):
        return _eval(node.body, s) if _eval(node.test, s) else _eval(node.orelse, s)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        return _FUNCTIONS[node.func.id](*(_eval(a, s) for a in node.args))
    raise ValueError(f"unsupported expression {ast.unparse(node)!r}")


@dataclass(frozen=True)
class TensorDecl:
    """One tensor a unit's module holds: its key, its shape as expressions, and when it
    exists. ``trainable`` is False for buffers (fixed random weights, running statistics)."""

    name: str
    shape: tuple[str, ...]
    when: str = ""
    trainable: bool = True

    def present(self, symbols: Symbols) -> bool:
        return not self.when or bool(evaluate(self.when, symbols))

    def dims(self, symbols: Symbols) -> tuple[int, ...]:
        return tuple(int(evaluate(d, symbols)) for d in self.shape)

    def describe(self) -> str:
        shape = ", ".join(pretty(d) for d in self.shape)
        tail = "" if self.trainable else " (buffer)"
        cond = f" when {pretty(self.when)}" if self.when else ""
        return f"`{self.name}`: [{shape}]{tail}{cond}"


def Tensor(name: str, *shape: str, when: str = "", trainable: bool = True) -> TensorDecl:
    return TensorDecl(name, tuple(shape), when, trainable)


def Buffer(name: str, *shape: str, when: str = "") -> TensorDecl:
    return TensorDecl(name, tuple(shape), when, trainable=False)


def pretty(expr: str) -> str:
    """An expression as a reader would write it (``*`` shown as ``·``)."""
    return expr.replace(" ** ", "^").replace("**", "^").replace(" * ", "·").replace("*", "·")


def param_formula(tensors: tuple[TensorDecl, ...]) -> str:
    """The parameter count, like terms collected, one sum per condition ("0" when none)."""
    groups: dict[str, Poly] = {}
    for t in tensors:
        if t.trainable:
            term = _product([_poly(ast.parse(d, mode="eval").body) for d in t.shape])
            groups[t.when] = _add(groups.get(t.when, {}), term)
    parts = []
    for when, poly in groups.items():
        text = _show(poly)
        parts.append(f"{text} [if {pretty(when)}]" if when else text)
    return " + ".join(parts) if parts else "0"


# A polynomial over atoms (param names, or sub-expressions such as ceil(C / 16) kept whole):
# monomial (sorted atoms, repeated for powers) → integer coefficient.
Poly = dict[tuple[str, ...], int]


def _poly(node: ast.AST) -> Poly:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return {(): node.value}
    if isinstance(node, ast.Name):
        return {(node.id,): 1}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult):
        left, right = _poly(node.left), _poly(node.right)
        if isinstance(node.op, ast.Mult):
            return _product([left, right])
        sign = 1 if isinstance(node.op, ast.Add) else -1
        return _add(left, {m: sign * c for m, c in right.items()})
    return {(ast.unparse(node),): 1}


def _add(a: Poly, b: Poly) -> Poly:
    out = dict(a)
    for m, c in b.items():
        out[m] = out.get(m, 0) + c
    return {m: c for m, c in out.items() if c}


def _product(factors: list[Poly]) -> Poly:
    out: Poly = {(): 1}
    for f in factors:
        step: Poly = {}
        for m1, c1 in out.items():
            for m2, c2 in f.items():
                step = _add(step, {tuple(sorted(m1 + m2)): c1 * c2})
        out = step
    return out


def _show(poly: Poly) -> str:
    """``C·(C + 3·state + 3)``: the atoms every term shares, factored out."""
    if len(poly) <= 1:
        return _terms(poly) or "0"
    common = set(next(iter(poly)))
    for m in poly:
        common &= set(m)
    shared = tuple(sorted(a for a in common for _ in range(min(m.count(a) for m in poly))))
    rest: Poly = {}
    for m, c in poly.items():
        left = list(m)
        for a in shared:
            left.remove(a)
        rest[tuple(left)] = c
    head = "·".join(_atom(a) for a in _powers(shared))
    return f"{head}·({_terms(rest)})" if head else _terms(rest)


def _terms(poly: Poly) -> str:
    text = ""
    for m, c in sorted(poly.items(), key=lambda mc: (-len(mc[0]), mc[0])):
        factors = [_atom(a) for a in _powers(m)]
        body = "·".join(([str(abs(c))] if abs(c) != 1 or not factors else []) + factors)
        text += (" - " if c < 0 else " + ") + body if text else ("-" if c < 0 else "") + body
    return text


def _powers(monomial: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for a in dict.fromkeys(monomial):
        n = monomial.count(a)
        out.append(a if n == 1 else f"{a}^{n}")
    return out


def _atom(a: str) -> str:
    """A factor as shown; a conditional one in brackets, so the product reads right."""
    return f"({pretty(a)})" if " if " in a else pretty(a)


def symbols_for(params: Mapping[str, Any], spec: SignalSpec, causal: bool, time: int) -> dict:
    """The symbols of one unit instance: its params and its input's shape."""
    return {
        **params,
        "C": spec.channels,
        "T": time,
        "V": spec.meta.vocab or 0,
        "has_grid": int(spec.meta.grid is not None and not causal),
        "rows": spec.meta.grid[0] if spec.meta.grid else 0,
        "cols": spec.meta.grid[1] if spec.meta.grid else 0,
        "causal": int(causal),
    }


def param_count(tensors: tuple[TensorDecl, ...], symbols: Symbols) -> int:
    """Trainable parameters of one instance, from the declaration alone."""
    return sum(math.prod(t.dims(symbols)) for t in tensors if t.trainable and t.present(symbols))
