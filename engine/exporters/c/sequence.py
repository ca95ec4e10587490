"""C forms of the units that look along time: GRU, LSTM, the echo-state reservoir (state
in static arrays, carried across calls of a stream) and self-attention (within a call)."""

from __future__ import annotations

from typing import Any

from openbrains.engine.exporters.c.ir import Op
from openbrains.engine.exporters.c.lower import Lowering, c_form
from openbrains.engine.shapes import NodePlan


def _state(lw: Lowering, uid: str, floats: int) -> str:
    name = f"st_{uid}"
    lw.prog.states[name] = floats
    return name


@c_form("gru")
def gru(lw: Lowering, np_: NodePlan, m: Any, ports: list[Any]) -> str:
    rnn = m.rnn
    h = int(rnn.hidden_size)
    t, _ = lw.shape(ports[0])
    y = lw.fresh("gru", t, h)
    w = {
        "wi": lw.const("gru_wi", rnn.weight_ih_l0, rows=3 * h, transposed=True),
        "wh": lw.const("gru_wh", rnn.weight_hh_l0, rows=3 * h, transposed=True),
        "bi": lw.const("gru_bi", rnn.bias_ih_l0),
        "bh": lw.const("gru_bh", rnn.bias_hh_l0),
    }
    attrs = {"hidden": h, "state": _state(lw, np_.node.uid, h)}
    lw.prog.add(Op("gru", np_.node.uid, [ports[0]], y, attrs, w, scratch=6 * h))
    return y


@c_form("lstm")
def lstm(lw: Lowering, np_: NodePlan, m: Any, ports: list[Any]) -> str:
    rnn = m.rnn
    h = int(rnn.hidden_size)
    t, _ = lw.shape(ports[0])
    y = lw.fresh("lstm", t, h)
    w = {
        "wi": lw.const("lstm_wi", rnn.weight_ih_l0, rows=4 * h, transposed=True),
        "wh": lw.const("lstm_wh", rnn.weight_hh_l0, rows=4 * h, transposed=True),
        "bi": lw.const("lstm_bi", rnn.bias_ih_l0),
        "bh": lw.const("lstm_bh", rnn.bias_hh_l0),
    }
    attrs = {"hidden": h, "state": _state(lw, np_.node.uid, 2 * h)}  # h then c
    lw.prog.add(Op("lstm", np_.node.uid, [ports[0]], y, attrs, w, scratch=8 * h))
    return y


@c_form("reservoir")
def reservoir(lw: Lowering, np_: NodePlan, m: Any, ports: list[Any]) -> str:
    size = int(m.w.shape[0])
    t, _ = lw.shape(ports[0])
    y = lw.fresh("res", t, size)
    w = {
        "win": lw.const("res_win", m.w_in, rows=size, transposed=True),
        "w": lw.const("res_w", m.w, rows=size, transposed=True),
    }
    attrs = {"hidden": size, "leak": float(m.leak), "state": _state(lw, np_.node.uid, size)}
    lw.prog.add(Op("reservoir", np_.node.uid, [ports[0]], y, attrs, w, scratch=2 * size))
    return y


@c_form("attention")
def attention(lw: Lowering, np_: NodePlan, m: Any, ports: list[Any]) -> str:
    uid = np_.node.uid
    qkv = lw.linear(uid, ports[0], m.qkv.weight, m.qkv.bias, [])
    t, _ = lw.shape(qkv)
    inner = int(m.heads) * int(m.head_dim)
    mixed = lw.fresh("att", t, inner)
    attrs = {"heads": int(m.heads), "head_dim": int(m.head_dim), "causal": bool(m.causal)}
    lw.prog.add(Op("attention", uid, [qkv], mixed, attrs, scratch=t))
    return lw.linear(uid, mixed, m.proj.weight, m.proj.bias, [])
