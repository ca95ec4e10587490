"""Every intermediate value gets a fixed place in one static arena, reused once the value
is dead (greedy, largest first, by live intervals), and elementwise ops write over an input
nobody needs afterwards. The arena's size is the RAM the brain needs beyond its state and
the caller's input and output arrays."""

from __future__ import annotations

from openbrains.engine.exporters.c.ir import Program, Value

IN_PLACE = {"pointwise", "add", "gate", "residual"}


def _last_uses(prog: Program) -> dict[str, int]:
    last: dict[str, int] = {}
    for i, op in enumerate(prog.ops):
        for name in op.inputs:
            last[prog.root(name).name] = i
    return last


def _in_place(prog: Program) -> None:
    last = _last_uses(prog)
    for i, op in enumerate(prog.ops):
        if op.kind not in IN_PLACE:
            continue
        src = prog.root(op.inputs[0])
        out = prog.values[op.output]
        free = src.kind == "arena" and out.kind == "arena" and last.get(src.name) == i
        if free and src.size == out.size and out.alias is None:
            out.alias = src.name
            last = _last_uses(prog)


def _intervals(prog: Program) -> dict[str, tuple[int, int]]:
    span: dict[str, list[int]] = {}
    for i, op in enumerate(prog.ops):
        for name in [*op.inputs, op.output]:
            root = prog.root(name)
            if root.kind != "arena":
                continue
            s = span.setdefault(root.name, [i, i])
            s[0], s[1] = min(s[0], i), max(s[1], i)
        if op.scratch:
            name = f"scratch_{i}"
            prog.values[name] = Value(name, 1, op.scratch)
            op.scratch_value = name
            span[name] = [i, i]
    return {k: (v[0], v[1]) for k, v in span.items()}


def plan(prog: Program) -> Program:
    """Set every arena value's offset (in floats) and ``prog.arena``."""
    _in_place(prog)
    spans = _intervals(prog)
    placed: list[tuple[int, int, int, int]] = []  # offset, size, first, last
    order = sorted(spans, key=lambda n: (-prog.values[n].size, spans[n][0], n))
    for name in order:
        size, (first, last) = prog.values[name].size, spans[name]
        clashes = sorted((o, s) for o, s, f, lt in placed if not (lt < first or last < f) and s > 0)
        offset = 0
        for o, s in clashes:
            if offset + size <= o:
                break
            offset = max(offset, o + s)
        prog.values[name].offset = offset
        placed.append((offset, size, first, last))
    prog.arena = max((o + s for o, s, _, _ in placed), default=0)
    return prog
