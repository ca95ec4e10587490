"""The C text of the ops that look along time: GRU, LSTM and reservoir steps (state in
static arrays, a scratch row for the new state) and self-attention within a call."""

from __future__ import annotations

from openbrains.engine.exporters.c.emit import Emit, Lines, f32, shape
from openbrains.engine.exporters.c.ir import Op


def _gates(e: Emit, op: Op, row: str, i: int, h: int, hidden_part: bool = True) -> str:
    wi, wh, bi, bh = (op.weights[k] for k in ("wi", "wh", "bi", "bh"))
    xi = e.scaled(wi, e.dot(wi, f"({row}) * {i}", "xt", i), row) + f" + {bi}[{row}]"
    if not hidden_part:
        return xi
    return xi + " + " + e.scaled(wh, e.dot(wh, f"({row}) * {h}", "h", h), row) + f" + {bh}[{row}]"


def gru(e: Emit, op: Op) -> Lines:
    t, i = shape(e.prog, op.inputs[0])
    h = op.attrs["hidden"]
    wh, bh = op.weights["wh"], op.weights["bh"]
    hn = (
        e.scaled(wh, e.dot(wh, f"({2 * h} + j) * {h}", "h", h), f"{2 * h} + j")
        + f" + {bh}[{2 * h} + j]"
    )
    return [
        f"const float *x = {e.ptr(op.inputs[0])}; float *y = {e.ptr(op.output)};",
        f"float *h = {op.attrs['state']}; float *hn = {e.ptr(op.scratch_value)};",
        f"for (int t = 0; t < {t}; ++t) {{",
        f"  const float *xt = x + t * {i};",
        f"  for (int j = 0; j < {h}; ++j) {{",
        f"    float r = sigmoid_(({_gates(e, op, 'j', i, h)}));",
        f"    float z = sigmoid_(({_gates(e, op, f'{h} + j', i, h)}));",
        f"    float n = tanhf({_gates(e, op, f'{2 * h} + j', i, h, False)} + r * ({hn}));",
        "    hn[j] = (1.0f - z) * n + z * h[j];",
        "  }",
        f"  for (int j = 0; j < {h}; ++j) {{ h[j] = hn[j]; y[t * {h} + j] = hn[j]; }}",
        "}",
    ]


def lstm(e: Emit, op: Op) -> Lines:
    t, i = shape(e.prog, op.inputs[0])
    h = op.attrs["hidden"]
    return [
        f"const float *x = {e.ptr(op.inputs[0])}; float *y = {e.ptr(op.output)};",
        f"float *h = {op.attrs['state']}; float *c = {op.attrs['state']} + {h};",
        f"float *hn = {e.ptr(op.scratch_value)};",
        f"for (int t = 0; t < {t}; ++t) {{",
        f"  const float *xt = x + t * {i};",
        f"  for (int j = 0; j < {h}; ++j) {{",
        f"    float ig = sigmoid_(({_gates(e, op, 'j', i, h)}));",
        f"    float fg = sigmoid_(({_gates(e, op, f'{h} + j', i, h)}));",
        f"    float gg = tanhf({_gates(e, op, f'{2 * h} + j', i, h)});",
        f"    float og = sigmoid_(({_gates(e, op, f'{3 * h} + j', i, h)}));",
        "    c[j] = fg * c[j] + ig * gg;",
        "    hn[j] = og * tanhf(c[j]);",
        "  }",
        f"  for (int j = 0; j < {h}; ++j) {{ h[j] = hn[j]; y[t * {h} + j] = hn[j]; }}",
        "}",
    ]


def reservoir(e: Emit, op: Op) -> Lines:
    t, i = shape(e.prog, op.inputs[0])
    s = op.attrs["hidden"]
    win, w = op.weights["win"], op.weights["w"]
    leak = op.attrs["leak"]
    drive = e.scaled(win, e.dot(win, f"j * {i}", "xt", i), "j")
    rec = e.scaled(w, e.dot(w, f"j * {s}", "h", s), "j")
    return [
        f"const float *x = {e.ptr(op.inputs[0])}; float *y = {e.ptr(op.output)};",
        f"float *h = {op.attrs['state']}; float *hn = {e.ptr(op.scratch_value)};",
        f"for (int t = 0; t < {t}; ++t) {{",
        f"  const float *xt = x + t * {i};",
        f"  for (int j = 0; j < {s}; ++j)",
        f"    hn[j] = {f32(1.0 - leak)} * h[j] + {f32(leak)} * tanhf({drive} + {rec});",
        f"  for (int j = 0; j < {s}; ++j) {{ h[j] = hn[j]; y[t * {s} + j] = hn[j]; }}",
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
