"""The C text of each feed-forward op: plain loops with every size a constant, so the
compiler unrolls what it likes and nothing is decided at run time (the ops that look along
time are in ``kernels_seq.py``; names and weight reads in ``emit.py``)."""

from __future__ import annotations

from collections.abc import Callable

from openbrains.engine.exporters.c import kernels_seq
from openbrains.engine.exporters.c.emit import Emit, Lines, f32, post, shape
from openbrains.engine.exporters.c.ir import Op
from openbrains.engine.exporters.errors import ExportError


def _accumulate(
    e: Emit, weight: str, acc: str, x: str, n_in: int, n_out: int, base: str = ""
) -> Lines:
    """``acc[o] += W[o, i] · x[i]`` over a column-major weight: the inner loop runs over
    outputs with independent sums, which compilers vectorise (a row-by-row dot product is one
    chain of dependent adds that strict IEEE order keeps scalar)."""
    cast = "(float)" if e.prog.weights[weight].quantized else ""
    return [
        f"for (int i = 0; i < {n_in}; ++i) {{",
        f"  const float xi = {x}[i];",
        f"  const {e.ctype(weight)} *wr = {base or weight} + i * {n_out};",
        f"  for (int o = 0; o < {n_out}; ++o) {acc}[o] += {cast}wr[o] * xi;",
        "}",
    ]


def _finish(e: Emit, op: Op, acc: str, n_out: int) -> Lines:
    """Scale (int8), bias and pointwise steps, in place over ``acc[0..n_out)``."""
    bias = f" + {op.weights['b']}[o]" if "b" in op.weights else ""
    return [
        f"for (int o = 0; o < {n_out}; ++o) {{",
        f"  float v = {acc}[o]{e.scale(op.weights['w'], 'o')}{bias};",
        *("  " + line for line in post(op.post, "o")),
        f"  {acc}[o] = v;",
        "}",
    ]


def dense(e: Emit, op: Op) -> Lines:
    t, i = shape(e.prog, op.inputs[0])
    o = shape(e.prog, op.output)[1]
    return [
        f"const float *restrict x = {e.ptr(op.inputs[0])};",
        f"float *restrict y = {e.ptr(op.output)};",
        f"for (int t = 0; t < {t}; ++t) {{",
        f"  const float *restrict xt = x + t * {i}; float *restrict yt = y + t * {o};",
        f"  for (int o = 0; o < {o}; ++o) yt[o] = 0.0f;",
        *("  " + line for line in _accumulate(e, op.weights["w"], "yt", "xt", i, o)),
        *("  " + line for line in _finish(e, op, "yt", o)),
        "}",
    ]


# Kernels called once per output position stay functions: inlined into the loops over
# positions (and pools), GCC 12 at -O3 gave up vectorising them and the digits champion
# ran 25% slower. A compiler without the attribute just inlines as it likes.
KERNEL_MACRO = (
    "#if defined(__GNUC__)",
    "#define BRAIN_KERNEL static __attribute__((noinline))",
    "#else",
    "#define BRAIN_KERNEL static",
    "#endif",
)


def conv_function(e: Emit, op: Op, name: str) -> Lines:
    """All output channels of a convolution at (oy, ox) into ``acc``, pointwise steps done."""
    a = op.attrs
    (h, w_), (kh, kw), (sh, sw), (dh, dw), (pt, pl) = (
        a["grid"], a["kernel"], a["stride"], a["dilation"], a["pad"]
    )  # fmt: skip
    i = a["channels_in"]
    o = shape(e.prog, op.output)[1]
    wt = op.weights["w"]
    tap = f"{wt} + ((ky * {kw} + kx) * {i}) * {o}"
    body = _accumulate(e, wt, "acc", "xp", i, o, base="wk")
    return [
        f"BRAIN_KERNEL void {name}(const float *restrict x, int oy, int ox, float *restrict acc) {{",
        f"  for (int o = 0; o < {o}; ++o) acc[o] = 0.0f;",
        f"  for (int ky = 0; ky < {kh}; ++ky) {{",
        f"    int iy = oy * {sh} + ky * {dh} - {pt};",
        f"    if (iy < 0 || iy >= {h}) continue;",
        f"    for (int kx = 0; kx < {kw}; ++kx) {{",
        f"      int ix = ox * {sw} + kx * {dw} - {pl};",
        "      const float *xp;",
        f"      const {e.ctype(wt)} *wk;",
        f"      if (ix < 0 || ix >= {w_}) continue;",
        f"      xp = x + (iy * {w_} + ix) * {i};",
        f"      wk = {tap};",
        *("      " + line for line in body),
        "    }",
        "  }",
        *("  " + line for line in _finish(e, op, "acc", o)),
        "}",
    ]


def conv(e: Emit, op: Op, fn: str) -> Lines:
    o = shape(e.prog, op.output)[1]
    head = f"const float *x = {e.ptr(op.inputs[0])}; float *y = {e.ptr(op.output)};"
    pool = op.attrs.get("pool")
    if not pool:
        oh, ow = op.attrs["out"]
        return [
            head,
            f"for (int oy = 0; oy < {oh}; ++oy) for (int ox = 0; ox < {ow}; ++ox)",
            f"  {fn}(x, oy, ox, y + (oy * {ow} + ox) * {o});",
        ]
    (h, w_), (kh, kw), (ph, pw) = op.attrs["out"], pool["kernel"], pool["out"]
    is_max = pool["kind"] == "max"
    return [
        head,
        f"float *acc = {e.ptr(op.scratch_value)};",
        f"for (int py = 0; py < {ph}; ++py) for (int px = 0; px < {pw}; ++px) {{",
        f"  float *out = y + (py * {pw} + px) * {o};" + ("" if is_max else " int n = 0;"),
        f"  for (int o = 0; o < {o}; ++o) out[o] = {'-INFINITY' if is_max else '0.0f'};",
        f"  for (int iy = py * {kh}; iy < py * {kh} + {kh} && iy < {h}; ++iy)",
        f"  for (int ix = px * {kw}; ix < px * {kw} + {kw} && ix < {w_}; ++ix) {{",
        f"    {fn}(x, iy, ix, acc);",
        f"    for (int o = 0; o < {o}; ++o) "
        + ("if (acc[o] > out[o]) out[o] = acc[o];" if is_max else "out[o] += acc[o];"),
        *([] if is_max else ["    ++n;"]),
        "  }",
        *([] if is_max else [f"  for (int o = 0; o < {o}; ++o) out[o] /= (float)n;"]),
        "}",
    ]


def _window(kind: str, value: str, grid: tuple, kernel: tuple, out: tuple, c: int) -> Lines:
    """Pool ``value(iy, ix)`` over windows of ``kernel`` (stride = kernel, last windows cut
    short, averages over the cells that exist: PyTorch's ceil_mode)."""
    (h, w_), (kh, kw), (oh, ow) = grid, kernel, out
    first = "-INFINITY" if kind == "max" else "0.0f"
    combine = "if (v > acc) acc = v;" if kind == "max" else "acc += v;"
    finish = "acc / (float)n" if kind == "avg" else "acc"
    return [
        f"for (int py = 0; py < {oh}; ++py) for (int px = 0; px < {ow}; ++px)",
        f"for (int o = 0; o < {c}; ++o) {{",
        f"  float acc = {first};" + (" int n = 0;" if kind == "avg" else ""),
        f"  for (int iy = py * {kh}; iy < py * {kh} + {kh} && iy < {h}; ++iy)",
        f"  for (int ix = px * {kw}; ix < px * {kw} + {kw} && ix < {w_}; ++ix) {{",
        f"    float v = {value};",
        f"    {combine}",
        *(["    ++n;"] if kind == "avg" else []),
        "  }",
        f"  y[(py * {ow} + px) * {c} + o] = {finish};",
        "}",
    ]


def pool(e: Emit, op: Op) -> Lines:
    c = shape(e.prog, op.output)[1]
    a = op.attrs
    w_ = a["grid"][1]
    head = f"const float *x = {e.ptr(op.inputs[0])}; float *y = {e.ptr(op.output)};"
    return [
        head,
        *_window(a["kind"], f"x[(iy * {w_} + ix) * {c} + o]", a["grid"], a["kernel"], a["out"], c),
    ]


def pool_causal(e: Emit, op: Op) -> Lines:
    t, c = shape(e.prog, op.output)
    win, kind = op.attrs["window"], op.attrs["kind"]
    combine = (
        f"if (x[s * {c} + o] > acc) acc = x[s * {c} + o];"
        if kind == "max"
        else f"acc += x[s * {c} + o];"
    )
    finish = "acc" if kind == "max" else "acc / (float)(t - s0 + 1)"
    return [
        f"const float *x = {e.ptr(op.inputs[0])}; float *y = {e.ptr(op.output)};",
        f"for (int t = 0; t < {t}; ++t) for (int o = 0; o < {c}; ++o) {{",
        f"  int s0 = t - {win} + 1 < 0 ? 0 : t - {win} + 1;",
        f"  float acc = {'-INFINITY' if kind == 'max' else '0.0f'};",
        f"  for (int s = s0; s <= t; ++s) {combine}",
        f"  y[t * {c} + o] = {finish};",
        "}",
    ]


def pointwise(e: Emit, op: Op) -> Lines:
    t, c = shape(e.prog, op.output)
    return [
        f"const float *x = {e.ptr(op.inputs[0])}; float *y = {e.ptr(op.output)};",
        f"for (int i = 0; i < {t * c}; ++i) {{",
        f"  int c = i % {c}; float v = x[i]; (void)c;",
        *("  " + line for line in post(op.post, "c")),
        "  y[i] = v;",
        "}",
    ]


def _inputs(e: Emit, op: Op) -> Lines:
    return [f"const float *x{k} = {e.ptr(n)};" for k, n in enumerate(op.inputs)]


def add(e: Emit, op: Op) -> Lines:
    n = e.prog.values[op.output].size
    terms = " + ".join(f"x{k}[i]" for k in range(len(op.inputs)))
    return [
        *_inputs(e, op),
        f"float *y = {e.ptr(op.output)};",
        f"for (int i = 0; i < {n}; ++i) y[i] = {terms};",
    ]


def gate(e: Emit, op: Op) -> Lines:
    n = e.prog.values[op.output].size
    others = " + ".join(f"x{k}[i]" for k in range(1, len(op.inputs))) or "x0[i]"
    return [
        *_inputs(e, op),
        f"float *y = {e.ptr(op.output)};",
        f"for (int i = 0; i < {n}; ++i) y[i] = x0[i] * (1.0f / (1.0f + expf(-({others}))));",
    ]


def residual(e: Emit, op: Op) -> Lines:
    n = e.prog.values[op.output].size
    others = " + ".join(f"x{k}[i]" for k in range(1, len(op.inputs)))
    alpha = op.weights["alpha"]
    return [
        *_inputs(e, op),
        f"float *y = {e.ptr(op.output)};",
        f"for (int i = 0; i < {n}; ++i) y[i] = x0[i] + {alpha}[0] * ({others});",
    ]


def concat(e: Emit, op: Op) -> Lines:
    t, c = shape(e.prog, op.output)
    lines = [
        *_inputs(e, op),
        f"float *y = {e.ptr(op.output)};",
        f"for (int t = 0; t < {t}; ++t) {{",
    ]
    at = 0
    for k, name in enumerate(op.inputs):
        ck = shape(e.prog, name)[1]
        lines.append(
            f"  for (int i = 0; i < {ck}; ++i) y[t * {c} + {at} + i] = x{k}[t * {ck} + i];"
        )
        at += ck
    return [*lines, "}"]


def copy(e: Emit, op: Op) -> Lines:
    n = e.prog.values[op.output].size
    return [
        f"const float *x = {e.ptr(op.inputs[0])}; float *y = {e.ptr(op.output)};",
        f"for (int i = 0; i < {n}; ++i) y[i] = x[i];",
    ]


def broadcast(e: Emit, op: Op) -> Lines:
    t, c = shape(e.prog, op.output)
    return [
        f"const float *x = {e.ptr(op.inputs[0])}; float *y = {e.ptr(op.output)};",
        f"for (int t = 0; t < {t}; ++t) for (int o = 0; o < {c}; ++o) y[t * {c} + o] = x[o];",
    ]


def adaptive_avg(e: Emit, op: Op) -> Lines:
    t_in = shape(e.prog, op.inputs[0])[0]
    t, c = shape(e.prog, op.output)
    return [
        f"const float *x = {e.ptr(op.inputs[0])}; float *y = {e.ptr(op.output)};",
        f"for (int t = 0; t < {t}; ++t) for (int o = 0; o < {c}; ++o) {{",
        f"  int a = (t * {t_in}) / {t}, b = ((t + 1) * {t_in} + {t} - 1) / {t};",
        "  float acc = 0.0f;",
        f"  for (int s = a; s < b; ++s) acc += x[s * {c} + o];",
        f"  y[t * {c} + o] = acc / (float)(b - a);",
        "}",
    ]


def gather_time(e: Emit, op: Op, table: str) -> Lines:
    t, c = shape(e.prog, op.output)
    return [
        f"const float *x = {e.ptr(op.inputs[0])}; float *y = {e.ptr(op.output)};",
        f"for (int t = 0; t < {t}; ++t) for (int o = 0; o < {c}; ++o) y[t * {c} + o] = x[{table}[t] * {c} + o];",
    ]


def layernorm(e: Emit, op: Op) -> Lines:
    t, c = shape(e.prog, op.output)
    g, b = op.weights["g"], op.weights["b"]
    return [
        f"const float *x = {e.ptr(op.inputs[0])}; float *y = {e.ptr(op.output)};",
        f"for (int t = 0; t < {t}; ++t) {{",
        f"  const float *r = x + t * {c}; float mean = 0.0f, var = 0.0f, inv;",
        f"  for (int i = 0; i < {c}; ++i) mean += r[i];",
        f"  mean /= {c}.0f;",
        f"  for (int i = 0; i < {c}; ++i) var += (r[i] - mean) * (r[i] - mean);",
        f"  inv = 1.0f / sqrtf(var / {c}.0f + {f32(op.attrs['eps'])});",
        f"  for (int i = 0; i < {c}; ++i) y[t * {c} + i] = (r[i] - mean) * inv * {g}[i] + {b}[i];",
        "}",
    ]


def rmsnorm(e: Emit, op: Op) -> Lines:
    t, c = shape(e.prog, op.output)
    g = op.weights["g"]
    return [
        f"const float *x = {e.ptr(op.inputs[0])}; float *y = {e.ptr(op.output)};",
        f"for (int t = 0; t < {t}; ++t) {{",
        f"  const float *r = x + t * {c}; float ms = 0.0f, inv;",
        f"  for (int i = 0; i < {c}; ++i) ms += r[i] * r[i];",
        f"  inv = 1.0f / sqrtf(ms / {c}.0f + {f32(op.attrs['eps'])});",
        f"  for (int i = 0; i < {c}; ++i) y[t * {c} + i] = r[i] * inv * {g}[i];",
        "}",
    ]


def embed(e: Emit, op: Op) -> Lines:
    t, c = shape(e.prog, op.output)
    vocab, table = op.attrs["vocab"], op.weights["table"]
    return [
        f"const float *x = {e.ptr(op.inputs[0])}; float *y = {e.ptr(op.output)};",
        f"for (int t = 0; t < {t}; ++t) {{",
        "  long id = (long)x[t];",
        f"  id = id < 0 ? 0 : (id > {vocab - 1} ? {vocab - 1} : id);",
        f"  for (int o = 0; o < {c}; ++o) y[t * {c} + o] = {e.at(table, f'id * {c} + o', 'id')};",
        "}",
    ]


SIMPLE: dict[str, Callable[[Emit, Op], Lines]] = {
    "dense": dense,
    "pool": pool,
    "pool_causal": pool_causal,
    "pointwise": pointwise,
    "add": add,
    "gate": gate,
    "residual": residual,
    "concat": concat,
    "copy": copy,
    "broadcast": broadcast,
    "adaptive_avg": adaptive_avg,
    "layernorm": layernorm,
    "rmsnorm": rmsnorm,
    "embed": embed,
    "gru": kernels_seq.gru,
    "lstm": kernels_seq.lstm,
    "reservoir": kernels_seq.reservoir,
    "attention": kernels_seq.attention,
}


def body(e: Emit, op: Op, index: int) -> Lines:
    """The statements of op number ``index`` inside ``brain_run``."""
    if op.kind == "conv":
        return conv(e, op, f"conv_{index}")
    if op.kind == "gather_time":
        return gather_time(e, op, f"time_index_{index}")
    fn = SIMPLE.get(op.kind)
    if fn is None:
        raise ExportError(f"op {op.kind!r} (from {op.node!r}) has no C text")
    return fn(e, op)
