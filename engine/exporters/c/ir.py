"""The C emitter's program: what a brain becomes before it is C text.

A ``Program`` is a straight list of ``Op``s over ``Value``s (``[time, channels]`` float32
tensors of batch 1) and ``Weight``s (constant arrays). Lowering (``lower.py``) builds it
from a compiled Brain, ``fuse.py`` folds pointwise work into the ops that produce it,
``quantize.py`` turns weight rows into int8 with a scale each, ``memory.py`` places the
values in one static arena, and ``render.py`` writes it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Value:
    """A ``[time, channels]`` tensor: a caller's input or output, or a place in the arena."""

    name: str
    time: int
    channels: int
    kind: str = "arena"  # "arena" | "input" | "output"
    alias: str | None = None  # the same memory as another value (flatten, dropout…)
    offset: int = -1  # in floats, set by memory.plan

    @property
    def size(self) -> int:
        return self.time * self.channels


@dataclass
class Weight:
    """A constant array. ``rows`` > 0 marks a matrix whose rows may each get an int8 scale
    (every use is a dot product of one row, so the scale multiplies the finished sum)."""

    name: str
    data: np.ndarray
    rows: int = 0
    source: str = ""  # the brain's tensor (module key) a matrix was read from
    transposed: bool = False  # stored column-major ([cols][rows]) for loops over rows
    q: np.ndarray | None = None  # int8 values when quantized
    scale: np.ndarray | None = None  # float32, one per row

    def stored(self, values: np.ndarray) -> np.ndarray:
        """``values`` (data or q, rows first) in the order the C array holds them."""
        if self.transposed:
            return np.ascontiguousarray(values.reshape(values.shape[0], -1).T)
        return values

    @property
    def quantized(self) -> bool:
        return self.q is not None

    @property
    def nbytes(self) -> int:
        if self.q is not None and self.scale is not None:
            return int(self.q.size + 4 * self.scale.size)
        return int(4 * self.data.size)


@dataclass(frozen=True)
class Pointwise:
    """One elementwise step on a scalar ``v`` of channel ``c``: an activation, or
    ``v * scale[c] + shift[c]`` (a folded batch norm)."""

    kind: str  # relu, gelu, tanh, sigmoid, sin, softplus, affine
    scale: str = ""
    shift: str = ""


@dataclass
class Op:
    kind: str
    node: str  # the node or edge uid it comes from (for comments and errors)
    inputs: list[str]
    output: str
    attrs: dict[str, Any] = field(default_factory=dict)
    weights: dict[str, str] = field(default_factory=dict)  # role → Weight name
    post: list[Pointwise] = field(default_factory=list)
    scratch: int = 0  # floats of working memory it needs while it runs
    scratch_value: str = ""  # set by memory.plan


@dataclass
class Program:
    values: dict[str, Value] = field(default_factory=dict)
    weights: dict[str, Weight] = field(default_factory=dict)
    ops: list[Op] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    states: dict[str, int] = field(default_factory=dict)  # static state arrays, floats
    stream: bool = False  # state carries across calls (free-length inputs)
    # image inputs the brain answers for with views (engine.views): value name →
    # (grid rows, grid columns, patch, channels per pixel); brain_run averages the views
    views: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    arena: int = 0  # floats, set by memory.plan

    def value(self, name: str, time: int, channels: int, kind: str = "arena") -> str:
        if name in self.values:
            raise ValueError(f"value {name!r} defined twice")
        self.values[name] = Value(name, int(time), int(channels), kind)
        return name

    def weight(self, name: str, data: Any, rows: int = 0) -> str:
        arr = np.ascontiguousarray(np.asarray(data, dtype=np.float32))
        self.weights[name] = Weight(name, arr, rows)
        return name

    def add(self, op: Op) -> Op:
        self.ops.append(op)
        return op

    def root(self, name: str) -> Value:
        """The value whose memory ``name`` uses (following aliases)."""
        v = self.values[name]
        while v.alias is not None:
            v = self.values[v.alias]
        return v

    def consumers(self, name: str) -> list[Op]:
        return [op for op in self.ops if name in op.inputs]
