"""C forms of the feed-forward units: how each becomes ops of the C program. Modules are
read by their torch parts (``nn.Conv2d``, buffers, params) and activations are recognised
by what they compute, so the engine never imports the node library."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from openbrains.engine.exporters.c.ir import Op, Pointwise
from openbrains.engine.exporters.c.lower import Lowering, c_form
from openbrains.engine.exporters.errors import ExportError
from openbrains.engine.shapes import NodePlan

_PROBE = torch.linspace(-4.0, 4.0, 17)
_ACTIVATIONS = {
    "identity": lambda x: x,
    "relu": torch.relu,
    "gelu": F.gelu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "sin": torch.sin,
    "softplus": F.softplus,
}


def activation_of(fn: Any, where: str) -> list[Pointwise]:
    """The pointwise step ``fn`` computes (None and identity: none)."""
    if fn is None:
        return []
    with torch.no_grad():
        y = fn(_PROBE.clone())
    for name, ref in _ACTIVATIONS.items():
        if torch.allclose(y, ref(_PROBE), atol=1e-6, rtol=0):
            return [] if name == "identity" else [Pointwise(name)]
    raise ExportError(f"{where}: an activation with no C form")


def _where(np_: NodePlan) -> str:
    return f"node {np_.node.uid!r} ({np_.unit.name})"


@c_form("dense")
def dense(lw: Lowering, np_: NodePlan, m: Any, ports: list[Any]) -> str:
    post = activation_of(m.act, _where(np_))
    return lw.linear(np_.node.uid, ports[0], m.linear.weight, m.linear.bias, post)


@c_form("hebbian")
def hebbian(lw: Lowering, np_: NodePlan, m: Any, ports: list[Any]) -> str:
    """In a trained brain the local rule is off: a dense layer with its current weights."""
    return lw.linear(np_.node.uid, ports[0], m.weight, None, [])


@c_form("activation")
def activation(lw: Lowering, np_: NodePlan, m: Any, ports: list[Any]) -> str:
    post = activation_of(m, _where(np_))
    return _pointwise(lw, np_.node.uid, ports[0], post)


def _pointwise(lw: Lowering, uid: str, x: str, post: list[Pointwise]) -> str:
    if not post:
        return x
    t, c = lw.shape(x)
    y = lw.fresh("pw", t, c)
    lw.prog.add(Op("pointwise", uid, [x], y, post=post))
    return y


@c_form("dropout")
def dropout(lw: Lowering, np_: NodePlan, m: Any, ports: list[Any]) -> str:
    return ports[0]  # identity at inference


@c_form("flatten")
def flatten(lw: Lowering, np_: NodePlan, m: Any, ports: list[Any]) -> str:
    t, c = lw.shape(ports[0])
    y = lw.fresh("flat", 1, t * c)  # [T][C] row-major is already [1][T*C]
    lw.prog.values[y].alias = ports[0]
    return y


@c_form("batchnorm")
def batchnorm(lw: Lowering, np_: NodePlan, m: Any, ports: list[Any]) -> str:
    """Evaluation-mode batch norm is a per-channel affine map: folded to scale and shift."""
    mean, var = m.running_mean.double(), m.running_var.double()
    c = mean.shape[0]
    w = m.weight.double() if m.weight is not None else torch.ones(c, dtype=torch.float64)
    b = m.bias.double() if m.bias is not None else torch.zeros(c, dtype=torch.float64)
    scale = w / torch.sqrt(var + m.eps)
    shift = b - mean * scale
    step = Pointwise(
        "affine", lw.const("bn_scale", scale.float()), lw.const("bn_shift", shift.float())
    )
    return _pointwise(lw, np_.node.uid, ports[0], [step])


@c_form("layernorm")
def layernorm(lw: Lowering, np_: NodePlan, m: Any, ports: list[Any]) -> str:
    t, c = lw.shape(ports[0])
    y = lw.fresh("norm", t, c)
    w = {"g": lw.const("ln_g", m.weight), "b": lw.const("ln_b", m.bias)}
    lw.prog.add(Op("layernorm", np_.node.uid, [ports[0]], y, {"eps": float(m.eps)}, w))
    return y


@c_form("rmsnorm")
def rmsnorm(lw: Lowering, np_: NodePlan, m: Any, ports: list[Any]) -> str:
    t, c = lw.shape(ports[0])
    y = lw.fresh("norm", t, c)
    eps = m.eps if m.eps is not None else torch.finfo(torch.float32).eps
    w = {"g": lw.const("rms_g", m.weight)}
    lw.prog.add(Op("rmsnorm", np_.node.uid, [ports[0]], y, {"eps": float(eps)}, w))
    return y


@c_form("sum", "concat")
def wiring(lw: Lowering, np_: NodePlan, m: Any, ports: list[Any]) -> str:
    return ports[0]  # merged already


@c_form("gate")
def gate(lw: Lowering, np_: NodePlan, m: Any, ports: list[Any]) -> str:
    xs = ports[0]
    t, c = lw.shape(xs[0])
    y = lw.fresh("gate", t, c)
    lw.prog.add(Op("gate", np_.node.uid, list(xs), y))
    return y


@c_form("residual")
def residual(lw: Lowering, np_: NodePlan, m: Any, ports: list[Any]) -> str:
    xs = ports[0]
    if len(xs) == 1:
        return xs[0]
    t, c = lw.shape(xs[0])
    y = lw.fresh("res", t, c)
    w = {"alpha": lw.const("alpha", m.alpha.reshape(1))}
    lw.prog.add(Op("residual", np_.node.uid, list(xs), y, {}, w))
    return y


@c_form("output")
def output(lw: Lowering, np_: NodePlan, m: Any, ports: list[Any]) -> str:
    x = ports[0]
    if m.time is not None and lw.shape(x)[0] != m.time:
        x = lw.resize_time(np_.node.uid, x, int(m.time))
    if m.adapter is not None:
        x = lw.linear(np_.node.uid, x, m.adapter.weight, m.adapter.bias, [])
    return x


@c_form("embedding")
def embedding(lw: Lowering, np_: NodePlan, m: Any, ports: list[Any]) -> str:
    t, _ = lw.shape(ports[0])
    table = m.table.weight
    y = lw.fresh("emb", t, int(table.shape[1]))
    w = {"table": lw.const("table", table, rows=int(table.shape[0]))}
    lw.prog.add(Op("embed", np_.node.uid, [ports[0]], y, {"vocab": int(table.shape[0])}, w))
    return y


# ----- convolution and pooling: one op over a [H][W][C] grid (1-D: W = 1) ----------------
@c_form("conv1d", "conv2d")
def conv(lw: Lowering, np_: NodePlan, m: Any, ports: list[Any]) -> str:
    x = ports[0]
    t, c = lw.shape(x)
    w = m.conv.weight  # [O, I, k] or [O, I, kh, kw]
    o = int(w.shape[0])
    if w.dim() == 3:  # 1-D over time: explicit (left, right) padding
        k, s, d = int(w.shape[2]), int(m.conv.stride[0]), int(m.conv.dilation[0])
        grid, kern, stride, dil = (t, 1), (k, 1), (s, 1), (d, 1)
        pad = (int(m.pad[0]), 0, int(m.pad[1]), 0)  # top, left, bottom, right
        wk = w.permute(0, 2, 1).unsqueeze(2)  # [O, k, 1, I]
    else:
        k, s = int(w.shape[2]), int(m.conv.stride[0])
        grid, kern, stride, dil = tuple(m.grid), (k, k), (s, s), (1, 1)
        p = int(m.conv.padding[0])
        pad = (p, p, p, p)
        wk = w.permute(0, 2, 3, 1)  # [O, kh, kw, I]
    oh = (grid[0] + pad[0] + pad[2] - dil[0] * (kern[0] - 1) - 1) // stride[0] + 1
    ow = (grid[1] + pad[1] + pad[3] - dil[1] * (kern[1] - 1) - 1) // stride[1] + 1
    y = lw.fresh("conv", oh * ow, o)
    attrs = {"grid": grid, "kernel": kern, "stride": stride, "dilation": dil, "pad": pad[:2]}
    attrs.update(out=(oh, ow), channels_in=c)
    weights = {"w": lw.const("conv_w", wk.reshape(o, -1), rows=o, source=w, transposed=True)}
    if m.conv.bias is not None:
        weights["b"] = lw.const("conv_b", m.conv.bias)
    post = activation_of(m.act, _where(np_))
    lw.prog.add(Op("conv", np_.node.uid, [x], y, attrs, weights, post))
    return y


@c_form("pool")
def pool(lw: Lowering, np_: NodePlan, m: Any, ports: list[Any]) -> str:
    x = ports[0]
    t, c = lw.shape(x)
    if m.causal:  # running form: each step pools itself and its past (within the call)
        window = t if m.scope == "global" else min(int(m.size), t)
        y = lw.fresh("pool", t, c)
        attrs = {"kind": m.kind, "window": window}
        lw.prog.add(Op("pool_causal", np_.node.uid, [x], y, attrs))
        return y
    if m.scope == "global":
        grid, kern = (t, 1), (t, 1)
    elif m.grid is not None:
        grid = tuple(m.grid)
        kern = (min(int(m.size), grid[0]), min(int(m.size), grid[1]))
    else:
        grid, kern = (t, 1), (min(int(m.size), t), 1)
    out = (math.ceil(grid[0] / kern[0]), math.ceil(grid[1] / kern[1]))
    y = lw.fresh("pool", out[0] * out[1], c)
    attrs = {"kind": m.kind, "grid": grid, "kernel": kern, "out": out}
    lw.prog.add(Op("pool", np_.node.uid, [x], y, attrs))
    return y
