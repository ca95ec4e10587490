"""Flash and RAM a C brain needs. RAM is exact: the arena, the recurrent state and the
caller's input and output arrays (all float32). Flash is the constant arrays, exactly, plus
an estimate of the code: a fixed part and a part per op, measured with ``gcc -Os`` on
x86-64 and rounded up (docs/export.md); a microcontroller's compiler differs a little."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from openbrains.engine.exporters.c.ir import Program

CODE_BASE = 300  # brain_run, brain_reset and the dot products
CODE_PER_OP = {
    "conv": 300,
    "gru": 420,
    "lstm": 480,
    "attention": 380,
    "reservoir": 280,
    "layernorm": 200,
    "rmsnorm": 160,
    "pool_causal": 150,
    "pool": 180,
    "adaptive_avg": 130,
}
CODE_OTHER_OP = 100
CODE_PER_POINTWISE = 24
MATH_FUNCTION = 600  # each math.h function linked in (expf, tanhf, erff, sinf…)
MATH_OF_STEP = {
    "gelu": ("erff",),
    "tanh": ("tanhf",),
    "sigmoid": ("expf",),
    "sin": ("sinf",),
    "softplus": ("expf", "log1pf"),
}
MATH_OF_OP = {
    "gru": ("expf", "tanhf"),
    "lstm": ("expf", "tanhf"),
    "reservoir": ("tanhf",),
    "attention": ("expf", "sqrtf"),
    "layernorm": ("sqrtf",),
    "rmsnorm": ("sqrtf",),
    "gate": ("expf",),
}


@dataclass(frozen=True)
class Footprint:
    weights: int
    code: int
    arena: int
    state: int
    io: int

    @property
    def flash(self) -> int:
        return self.weights + self.code

    @property
    def ram(self) -> int:
        return self.arena + self.state + self.io

    def to_dict(self) -> dict[str, int]:
        return {**asdict(self), "flash": self.flash, "ram": self.ram}


def math_functions(prog: Program) -> set[str]:
    found: set[str] = set()
    for op in prog.ops:
        found.update(MATH_OF_OP.get(op.kind, ()))
        for step in op.post:
            found.update(MATH_OF_STEP.get(step.kind, ()))
    return found


def weight_bytes(prog: Program, int8: bool) -> int:
    """Bytes of the constant arrays, as they are or as int8 would make them."""
    if not int8:
        return sum(w.nbytes for w in prog.weights.values())
    return sum(
        w.data.size + 4 * w.rows if w.rows else 4 * w.data.size for w in prog.weights.values()
    )


def measure(prog: Program, int8: bool | None = None) -> Footprint:
    """``int8``: count matrices as int8 + a scale per row even before quantizing (what a
    device budget needs to know about a candidate)."""
    quantized = any(w.quantized for w in prog.weights.values())
    weights = weight_bytes(prog, quantized if int8 is None else int8)
    weights += sum(
        4 * np.asarray(op.attrs["index"]).size for op in prog.ops if op.kind == "gather_time"
    )
    code = (
        CODE_BASE
        + sum(
            CODE_PER_OP.get(op.kind, CODE_OTHER_OP) + CODE_PER_POINTWISE * len(op.post)
            for op in prog.ops
        )
        + MATH_FUNCTION * len(math_functions(prog))
    )
    io = 4 * sum(prog.values[n].size for n in (*prog.inputs, *prog.outputs))
    if prog.views:  # one moved copy of each image and one view's outputs (render.views)
        io += 4 * sum(prog.values[n].size for n in (*prog.views, *prog.outputs))
    return Footprint(
        weights=weights,
        code=code,
        arena=4 * max(1, prog.arena),
        state=4 * sum(prog.states.values()),
        io=io,
    )
