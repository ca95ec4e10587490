"""The C text of the ops that look along time: GRU, LSTM and reservoir steps (state in
static arrays, the gates' projections in scratch) and self-attention within a call."""

from __future__ import annotations

from openbrains.engine.exporters.c.emit import Emit, Lines, f32, shape
from openbrains.engine.exporters.c.ir import Op


def _project(
    e: Emit, weight: str, bias: str | None, out: str, x: str, n_in: int, rows: int
) -> Lines:
    """``out[r] = W[r, :] · x (+ b[r])`` for all ``rows`` at once over a column-major weight
    (independent sums across rows, which vectorise)."""
    cast = "(float)" if e.prog.weights[weight].quantized else ""
    add = f" + {bias}[r]" if bias else ""
    return [
        f"for (int r = 0; r < {rows}; ++r) {out}[r] = 0.0f;",
        f"for (int k = 0; k < {n_in}; ++k) {{",
        f"  const float xk = {x}[k];",
        f"  const {e.ctype(weight)} *wr = {weight} + k * {rows};",
        f"  for (int r = 0; r < {rows}; ++r) {out}[r] += {cast}wr[r] * xk;",
        "}",
        f"for (int r = 0; r < {rows}; ++r) {out}[r] = {out}[r]{e.scale(weight, 'r')}{add};",
    ]


def _recurrent(e: Emit, op: Op, gates: int, update: Lines) -> Lines:
    """A gated recurrent step per time step: input and hidden projections of every gate
    (``gi``, ``gh``: ``gates × hidden`` each, in scratch), then ``update`` per unit ``j``."""
    t, i = shape(e.prog, op.inputs[0])
    h = op.attrs["hidden"]
    wi, wh, bi, bh = (op.weights[k] for k in ("wi", "wh", "bi", "bh"))
    rows = gates * h
    return [
        f"const float *x = {e.ptr(op.inputs[0])}; float *y = {e.ptr(op.output)};",
        f"float *restrict gi = {e.ptr(op.scratch_value)}; float *restrict gh = gi + {rows};",
        f"float *h = {op.attrs['state']};",
        f"for (int t = 0; t < {t}; ++t) {{",
        f"  const float *xt = x + t * {i};",
        *("  " + line for line in _project(e, wi, bi, "gi", "xt", i, rows)),
        *("  " + line for line in _project(e, wh, bh, "gh", "h", h, rows)),
        f"  for (int j = 0; j < {h}; ++j) {{",
        *("    " + line for line in update),
        f"    y[t * {h} + j] = h[j];",
        "  }",
        "}",
    ]


def gru(e: Emit, op: Op) -> Lines:
    """PyTorch's GRU: r, z, n gates; the hidden part of n is scaled by r."""
    h = op.attrs["hidden"]
    return _recurrent(
        e,
        op,
        3,
        [
            "float r = sigmoid_(gi[j] + gh[j]);",
            f"float z = sigmoid_(gi[{h} + j] + gh[{h} + j]);",
            f"float n = tanhf(gi[{2 * h} + j] + r * gh[{2 * h} + j]);",
            "h[j] = (1.0f - z) * n + z * h[j];",
        ],
    )


def lstm(e: Emit, op: Op) -> Lines:
    """PyTorch's LSTM: i, f, g, o gates; the cell state follows h in the state array."""
    h = op.attrs["hidden"]
    return _recurrent(
        e,
        op,
        4,
        [
            f"float *c = {op.attrs['state']} + {h};",
            "float ig = sigmoid_(gi[j] + gh[j]);",
            f"float fg = sigmoid_(gi[{h} + j] + gh[{h} + j]);",
            f"float gg = tanhf(gi[{2 * h} + j] + gh[{2 * h} + j]);",
            f"float og = sigmoid_(gi[{3 * h} + j] + gh[{3 * h} + j]);",
            "c[j] = fg * c[j] + ig * gg;",
            "h[j] = og * tanhf(c[j]);",
        ],
    )


def reservoir(e: Emit, op: Op) -> Lines:
    """Leaky echo state: h = (1 - leak) h + leak tanh(W_in x + W h), no biases."""
    t, i = shape(e.prog, op.inputs[0])
    s = op.attrs["hidden"]
    leak = op.attrs["leak"]
    return [
        f"const float *x = {e.ptr(op.inputs[0])}; float *y = {e.ptr(op.output)};",
        f"float *d = {e.ptr(op.scratch_value)}; float *rec = d + {s};",
        f"float *h = {op.attrs['state']};",
        f"for (int t = 0; t < {t}; ++t) {{",
        f"  const float *xt = x + t * {i};",
        *("  " + line for line in _project(e, op.weights["win"], None, "d", "xt", i, s)),
        *("  " + line for line in _project(e, op.weights["w"], None, "rec", "h", s, s)),
        f"  for (int j = 0; j < {s}; ++j) {{",
        f"    h[j] = {f32(1.0 - leak)} * h[j] + {f32(leak)} * tanhf(d[j] + rec[j]);",
        f"    y[t * {s} + j] = h[j];",
        "  }",
        "}",
    ]


def attention(e: Emit, op: Op) -> Lines:
    t, _ = shape(e.prog, op.inputs[0])
    heads, hd = op.attrs["heads"], op.attrs["head_dim"]
    inner = heads * hd
    stop = "s <= t" if op.attrs["causal"] else f"s < {t}"
    return [
        f"const float *x = {e.ptr(op.inputs[0])}; float *y = {e.ptr(op.output)};",
        f"float *p = {e.ptr(op.scratch_value)}; const float scale = 1.0f / sqrtf({hd}.0f);",
        f"for (int hh = 0; hh < {heads}; ++hh) for (int t = 0; t < {t}; ++t) {{",
        f"  const float *q = x + t * {3 * inner} + hh * {hd};",
        "  float top = -INFINITY, sum = 0.0f;",
        f"  for (int s = 0; {stop}; ++s) {{",
        f"    p[s] = dot_f(q, x + s * {3 * inner} + {inner} + hh * {hd}, {hd}) * scale;",
        "    if (p[s] > top) top = p[s];",
        "  }",
        f"  for (int s = 0; {stop}; ++s) {{ p[s] = expf(p[s] - top); sum += p[s]; }}",
        f"  for (int d = 0; d < {hd}; ++d) {{",
        "    float acc = 0.0f;",
        f"    for (int s = 0; {stop}; ++s) acc += p[s] * x[s * {3 * inner} + {2 * inner} + hh * {hd} + d];",
        f"    y[t * {inner} + hh * {hd} + d] = acc / sum;",
        "  }",
        "}",
    ]
