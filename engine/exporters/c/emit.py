"""What every C kernel shares: float literals, the names of values and weights in the
generated code, weight reads that know float32 from int8-with-row-scales, and the C of a
pointwise step."""

from __future__ import annotations

from openbrains.engine.exporters.c.ir import Pointwise, Program

Lines = list[str]


def f32(x: float) -> str:
    text = format(float(x), ".9g")
    if "e" not in text and "." not in text and "inf" not in text and "nan" not in text:
        text += ".0"
    return text + "f"


class Emit:
    """Names in the generated C for one program: values, weights, scales."""

    def __init__(self, prog: Program) -> None:
        self.prog = prog

    def ptr(self, name: str) -> str:
        v = self.prog.root(name)
        if v.kind == "arena":
            return f"(arena + {v.offset})"
        return v.name

    def dot(self, weight: str, offset: str, x: str, n: int) -> str:
        w = self.prog.weights[weight]
        fn = "dot_q" if w.quantized else "dot_f"
        return f"{fn}({weight} + {offset}, {x}, {n})"

    def scaled(self, weight: str, acc: str, row: str) -> str:
        """``acc`` (a finished dot product of row ``row``) in float units."""
        w = self.prog.weights[weight]
        return f"({acc}) * {weight}_scale[{row}]" if w.quantized else acc

    def w(self, weight: str, index: str) -> str:
        """One stored value of a weight, as float (int8 still unscaled)."""
        w = self.prog.weights[weight]
        return f"(float){weight}[{index}]" if w.quantized else f"{weight}[{index}]"

    def scale(self, weight: str, row: str) -> str:
        """`` * scale[row]`` for an int8 weight (to finish a sum of its row), else nothing."""
        return f" * {weight}_scale[{row}]" if self.prog.weights[weight].quantized else ""

    def ctype(self, weight: str) -> str:
        return "signed char" if self.prog.weights[weight].quantized else "float"

    def at(self, weight: str, index: str, row: str) -> str:
        w = self.prog.weights[weight]
        if w.quantized:
            return f"(float){weight}[{index}] * {weight}_scale[{row}]"
        return f"{weight}[{index}]"


def post(steps: list[Pointwise], channel: str) -> Lines:
    out = []
    for s in steps:
        out.append(
            {
                "relu": "v = v > 0.0f ? v : 0.0f;",
                "gelu": "v = 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));",
                "tanh": "v = tanhf(v);",
                "sigmoid": "v = 1.0f / (1.0f + expf(-v));",
                "sin": "v = sinf(v);",
                "softplus": "v = v > 20.0f ? v : log1pf(expf(v));",
                "affine": f"v = v * {s.scale}[{channel}] + {s.shift}[{channel}];",
            }[s.kind]
        )
    return out


def shape(prog: Program, name: str) -> tuple[int, int]:
    v = prog.values[name]
    return v.time, v.channels
