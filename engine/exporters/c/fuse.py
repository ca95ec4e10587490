"""Fold work into the op that produces its input, so a microcontroller never stores what it
can compute on the way: activations and folded batch norms join the dense or convolution
before them, and a pooling window after a convolution is computed straight from the
convolution (the full-size feature map is never held: on 8×8 digits that is most of RAM).
"""

from __future__ import annotations

from openbrains.engine.exporters.c.ir import Op, Program

TAKES_POST = {"dense", "conv", "pointwise"}


def _rename(prog: Program, old: str, new: str) -> None:
    for op in prog.ops:
        op.inputs = [new if i == old else i for i in op.inputs]
    for v in prog.values.values():
        if v.alias == old:
            v.alias = new


def _producer(prog: Program, name: str) -> Op | None:
    return next((op for op in prog.ops if op.output == name), None)


def _only_consumer(prog: Program, name: str, op: Op) -> bool:
    aliased = any(v.alias == name for v in prog.values.values())
    users = [o for o in prog.ops if name in o.inputs]
    return not aliased and users == [op] and op.inputs.count(name) == 1


def fuse_pointwise(prog: Program) -> None:
    for op in list(prog.ops):
        if op.kind != "pointwise":
            continue
        src = op.inputs[0]
        head = _producer(prog, src)
        if head is None or head.kind not in TAKES_POST or not _only_consumer(prog, src, op):
            continue
        head.post.extend(op.post)
        prog.ops.remove(op)
        del prog.values[op.output]
        _rename(prog, op.output, src)
        if op.output in prog.outputs:  # never: outputs are copies, kept for safety
            prog.outputs[prog.outputs.index(op.output)] = src


def fuse_conv_pool(prog: Program) -> None:
    for op in list(prog.ops):
        if op.kind != "pool":
            continue
        src = op.inputs[0]
        conv = _producer(prog, src)
        if conv is None or conv.kind != "conv" or "pool" in conv.attrs:
            continue
        if not _only_consumer(prog, src, op) or tuple(conv.attrs["out"]) != tuple(op.attrs["grid"]):
            continue
        conv.attrs["pool"] = {k: op.attrs[k] for k in ("kind", "kernel", "out")}
        conv.scratch = prog.values[src].channels  # one position's outputs at a time
        conv.output = op.output
        prog.ops.remove(op)
        del prog.values[src]


def fuse(prog: Program) -> Program:
    fuse_pointwise(prog)
    fuse_conv_pool(prog)
    return prog
