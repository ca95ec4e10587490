"""The C files: ``brain.h`` (the interface and what each array means) and ``brain.c``
(weights as ``const`` arrays, one static arena, ``brain_run`` and ``brain_reset``). C99,
no heap, nothing beyond ``<math.h>``."""

from __future__ import annotations

import re

import numpy as np

from openbrains.engine.exporters.c.emit import Emit, f32
from openbrains.engine.exporters.c.ir import Program
from openbrains.engine.exporters.c.kernels import KERNEL_MACRO, body, conv_function
from openbrains.engine.exporters.errors import ExportError
from openbrains.engine.exporters.meta import BrainMeta
from openbrains.engine.views import OFFSETS

PER_LINE = 8


def c_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return name if name and not name[0].isdigit() else f"_{name}"


def _array(ctype: str, name: str, values: np.ndarray, fmt: type | None = None) -> list[str]:
    flat = values.reshape(-1)
    if flat.size == 0:
        flat = np.zeros(1, dtype=values.dtype)
    if fmt is float and not np.isfinite(flat).all():
        raise ExportError(f"weight {name} holds a NaN or infinity; nothing was written")
    items = [f32(v) if fmt is float else str(int(v)) for v in flat]
    lines = [f"static const {ctype} {name}[{flat.size}] = {{"]
    for i in range(0, len(items), PER_LINE):
        lines.append("  " + ", ".join(items[i : i + PER_LINE]) + ",")
    return [*lines, "};"]


def weights(prog: Program) -> list[str]:
    out: list[str] = []
    for w in prog.weights.values():
        if w.quantized:
            assert w.q is not None and w.scale is not None
            out += _array("signed char", w.name, w.stored(w.q), int)
            out += _array("float", f"{w.name}_scale", w.scale, float)
        else:
            out += _array("float", w.name, w.stored(w.data), float)
    for i, op in enumerate(prog.ops):
        if op.kind == "gather_time":
            out += _array("int", f"time_index_{i}", np.asarray(op.attrs["index"]), int)
    return out


HELPERS = {
    "dot_f": """\
static float dot_f(const float *w, const float *x, int n) {
  float acc = 0.0f;
  for (int i = 0; i < n; ++i) acc += w[i] * x[i];
  return acc;
}""",
    "dot_q": """\
static float dot_q(const signed char *w, const float *x, int n) {
  float acc = 0.0f;
  for (int i = 0; i < n; ++i) acc += (float)w[i] * x[i];
  return acc;
}""",
    "sigmoid_": "static float sigmoid_(float v) { return 1.0f / (1.0f + expf(-v)); }",
}


RESERVED = {"arena", "brain_run", "brain_reset", "dot_f", "dot_q", "sigmoid_", "i", "x", "y"}
C_KEYWORDS = set(
    [
        "auto",
        "break",
        "case",
        "char",
        "const",
        "continue",
        "default",
        "do",
        "double",
        "else",
        "enum",
        "extern",
        "float",
        "for",
        "goto",
        "if",
        "inline",
        "int",
        "long",
        "register",
        "restrict",
        "return",
        "short",
        "signed",
        "sizeof",
        "static",
        "struct",
        "switch",
        "typedef",
        "union",
        "unsigned",
        "void",
        "volatile",
        "while",
    ]
)


def arg_names(meta: BrainMeta) -> list[str]:
    """C parameter names for the inputs then the outputs: the signal names, made legal
    and distinct."""
    names: list[str] = []
    for p in (*meta.inputs, *meta.outputs):
        base = c_name(p.signal)
        if base in RESERVED or base in C_KEYWORDS or base.startswith(("in_", "out_", "st_")):
            base += "_"
        name, k = base, 2
        while name in names:
            name, k = f"{base}{k}", k + 1
        names.append(name)
    return names


def _signature(meta: BrainMeta, function: str = "brain_run") -> str:
    names = arg_names(meta)
    n = len(meta.inputs)
    args = [f"const float *{a}" for a in names[:n]] + [f"float *{a}" for a in names[n:]]
    return f"void {function}({', '.join(args)})"


def header(prog: Program, meta: BrainMeta, footprint: dict[str, int], stem: str) -> str:
    guard = f"{c_name(stem).upper()}_H"
    lines = [
        f"/* {stem}.h: an Open Brains brain in C99 ({meta.created_by}).",
        f" * Source: {meta.source or 'unnamed'}",
        " * No heap, no libraries beyond <math.h>; all memory is static.",
        f" * Flash: {footprint['flash']} bytes ({footprint['weights']} of weights, about "
        f"{footprint['code']} of code). RAM: {footprint['ram']} bytes "
        f"({footprint['arena']} working memory, {footprint['state']} state, "
        f"{footprint['io']} for your input and output arrays).",
        " *",
        " * Arrays are [time][channels], row-major, float.",
    ]
    if prog.stream:
        lines += [
            " * Streaming: each call of brain_run eats ONE step of a stream and answers",
            " * for it; recurrent memory carries over until brain_reset().",
        ]
    else:
        lines += [" * Each call of brain_run answers one whole example (memory starts empty)."]
    if prog.views:
        lines += [
            f" * It answers with the mean of its outputs for the image and its {len(OFFSETS) - 1}",
            " * one-pixel shifts (test-time views, as the brain was scored).",
        ]
    for p in meta.inputs:
        lines.append(f" * input  {p.signal}: {p.meaning}")
    for p in meta.outputs:
        lines.append(f" * output {p.signal}: {p.meaning}")
        if p.codec:
            lines.append(f" *   codec {p.codec}")
    for p in meta.inputs:
        if p.codec:
            lines.append(f" * input {p.signal} codec {p.codec}")
    lines += [" */", f"#ifndef {guard}", f"#define {guard}", ""]
    for name, p in zip(prog.inputs, meta.inputs):
        v = prog.values[name]
        up = c_name(p.signal).upper()
        lines += [
            f"#define BRAIN_IN_{up}_TIME {v.time}",
            f"#define BRAIN_IN_{up}_CHANNELS {v.channels}",
            f"#define BRAIN_IN_{up}_SIZE {v.size}",
        ]
    for name, p in zip(prog.outputs, meta.outputs):
        v = prog.values[name]
        up = c_name(p.signal).upper()
        lines += [
            f"#define BRAIN_OUT_{up}_TIME {v.time}",
            f"#define BRAIN_OUT_{up}_CHANNELS {v.channels}",
            f"#define BRAIN_OUT_{up}_SIZE {v.size}",
        ]
    lines += [f"#define BRAIN_STREAM {1 if prog.stream else 0}", ""]
    for p in meta.outputs:
        if p.classes:
            lines.append(
                f"extern const char *const brain_{c_name(p.signal)}_classes[{len(p.classes)}];"
            )
    lines += [
        "",
        "/* Forget the recurrent memory (start a new stream). */",
        "void brain_reset(void);",
        "",
        "/* Run the brain on the inputs; writes every output array. */",
        f"{_signature(meta)};",
        "",
        f"#endif /* {guard} */",
        "",
    ]
    return "\n".join(lines)


def source(prog: Program, meta: BrainMeta, stem: str) -> str:
    e = Emit(prog)
    code = _code(prog, meta, e)
    used = [text for name, text in HELPERS.items() if f"{name}(" in "\n".join(code)]
    kernels = any(line.startswith("BRAIN_KERNEL ") for line in code)
    lines = [
        f"/* {stem}.c: generated by {meta.created_by}; see {stem}.h. */",
        "#include <math.h>",
        f'#include "{stem}.h"',
        "",
        *(KERNEL_MACRO if kernels else ()),
        *weights(prog),
        "",
        f"static float arena[{max(1, prog.arena)}];",
        *(f"static float {name}[{size}];" for name, size in prog.states.items()),
        "",
        *(line for text in used for line in (text, "")),
        *code,
    ]
    return "\n".join(lines)


def _code(prog: Program, meta: BrainMeta, e: Emit) -> list[str]:
    lines: list[str] = []
    for p in meta.outputs:
        if p.classes:
            names = ", ".join(
                '"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in p.classes
            )
            lines.append(
                f"const char *const brain_{c_name(p.signal)}_classes[{len(p.classes)}] = {{{names}}};"
            )
    for i, op in enumerate(prog.ops):
        if op.kind == "conv":
            lines += ["", *conv_function(e, op, f"conv_{i}")]
    lines += ["", "void brain_reset(void) {"]
    for name, size in prog.states.items():
        lines.append(f"  for (int i = 0; i < {size}; ++i) {name}[i] = 0.0f;")
    lines += ["}", ""]
    lines.append(f"{'static ' if prog.views else ''}{_signature(meta, one_view(prog))} {{")
    names = arg_names(meta)
    for name, arg in zip(prog.inputs, names):
        lines.append(f"  const float *{name} = {arg};")
    for name, arg in zip(prog.outputs, names[len(prog.inputs) :]):
        lines.append(f"  float *{name} = {arg};")
    if prog.states and not prog.stream:
        lines.append("  brain_reset(); /* each call is a whole example */")
    for i, op in enumerate(prog.ops):
        lines.append(f"  {{ /* {op.kind} from {op.node} */")
        lines += ["    " + line for line in body(e, op, i)]
        lines.append("  }")
    lines += ["}", ""]
    if prog.views:
        lines += views(prog, meta)
    return lines


def one_view(prog: Program) -> str:
    """The function that runs the brain once: brain_run itself, or, for a brain with views,
    the one brain_run calls once per view."""
    return "brain_view" if prog.views else "brain_run"


MOVE_VIEW = """static void move_view(const float *src, float *dst, int gh, int gw, int p, int ch,
                      int dy, int dx) {
  int h = gh * p, w = gw * p, y, x, c;
  for (y = 0; y < h; ++y)
    for (x = 0; x < w; ++x) {
      int sy = y - dy, sx = x - dx, inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
      int at = ((y / p) * gw + x / p) * p * p * ch + ((y % p) * p + x % p) * ch;
      int from = inside ? ((sy / p) * gw + sx / p) * p * p * ch + ((sy % p) * p + sx % p) * ch : 0;
      for (c = 0; c < ch; ++c) dst[at + c] = inside ? src[from + c] : 0.0f;
    }
}"""


def views(prog: Program, meta: BrainMeta) -> list[str]:
    """``brain_run`` for a brain with views (engine.views): ``brain_view`` on each image
    moved by each offset, the outputs summed in static buffers, then divided."""
    names = arg_names(meta)
    n_in = len(prog.inputs)
    moved = {name: f"view_in_{i}" for i, name in enumerate(prog.inputs) if name in prog.views}
    outs = [f"view_out_{j}" for j in range(len(prog.outputs))]
    sizes = [prog.values[name].size for name in prog.outputs]
    args = [moved.get(name, arg) for name, arg in zip(prog.inputs, names)] + outs
    n = len(OFFSETS)
    lines = [
        *(f"static float {moved[name]}[{prog.values[name].size}];" for name in moved),
        *(f"static float {out}[{size}];" for out, size in zip(outs, sizes)),
        "",
        MOVE_VIEW,
        "",
        f"{_signature(meta)} {{",
        f"  static const int dy[{n}] = {{{', '.join(str(o[0]) for o in OFFSETS)}}};",
        f"  static const int dx[{n}] = {{{', '.join(str(o[1]) for o in OFFSETS)}}};",
        "  int v, i;",
        *(f"  for (i = 0; i < {k}; ++i) {arg}[i] = 0.0f;" for arg, k in zip(names[n_in:], sizes)),
        f"  for (v = 0; v < {n}; ++v) {{",
    ]
    for name, arg in zip(prog.inputs, names):
        if name in moved:
            gh, gw, p, ch = prog.views[name]
            lines.append(
                f"    move_view({arg}, {moved[name]}, {gh}, {gw}, {p}, {ch}, dy[v], dx[v]);"
            )
    lines.append(f"    brain_view({', '.join(args)});")
    for arg, out, k in zip(names[n_in:], outs, sizes):
        lines.append(f"    for (i = 0; i < {k}; ++i) {arg}[i] += {out}[i];")
    lines.append("  }")
    for arg, k in zip(names[n_in:], sizes):
        lines.append(f"  for (i = 0; i < {k}; ++i) {arg}[i] /= {n}.0f;")
    return [*lines, "}", ""]
