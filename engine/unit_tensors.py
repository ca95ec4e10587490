"""Which tensors a unit stores, and their shapes as a function of its params: the part of
docs/units.md that lets another language read ``weights.safetensors`` without guessing.

Measured, not declared: each unit is compiled alone between a float input and an output
(``input → unit → output``) with its default params, once with ``C_in`` = 5 and once with
7 input channels, and each tensor's dimensions are named by what they follow: ``C_in``
where the input width shows through, a param's name where the dimension equals it.
"""

from __future__ import annotations

from typing import Any

C_IN = (5, 7)  # two input widths: a dimension that follows them is C_in


def _shapes(unit: Any, channels: int) -> dict[str, tuple[int, ...]] | None:
    from openbrains.engine.compile import compile_graph
    from openbrains.engine.errors import GraphError
    from openbrains.engine.graph import Graph

    kind = unit.inputs[0].kind if unit.inputs else "float"
    if kind == "tokens":
        params = {"name": "x", "channels": 1, "time": 4, "vocab": channels * 4}
    elif "2d" in unit.name:  # image units see a 2×2 patch grid
        params = {"name": "x", "channels": channels, "time": 4, "modality": "image"}
        params.update(grid_h=2, grid_w=2)
    else:
        params = {"name": "x", "channels": channels, "time": 4}
    g = Graph()
    g.add_node("input", params, uid="in")
    g.add_node(unit.name, {p.name: p.default for p in unit.params}, uid="u")
    g.add_node("output", {"name": "y", "channels": 3, "time": 4}, uid="out")
    for port in unit.inputs[:1]:
        g.connect("in", "u", uid="a", dst_port=port.name)
    g.connect("u", "out", uid="b")
    try:
        weights = compile_graph(g, seed=0).weights()
    except (GraphError, ValueError, RuntimeError, KeyError, TypeError):
        return None
    prefix = "node/u/"
    return {k[len(prefix) :]: tuple(v.shape) for k, v in weights.items() if k.startswith(prefix)}


def _name_dim(a: int, b: int, unit: Any, vocab: bool) -> str:
    if a != b:
        if vocab and (a, b) == (C_IN[0] * 4, C_IN[1] * 4):
            return "vocab"
        if (a, b) == C_IN:
            return "C_in"
        for k in (2, 3, 4):
            if (a, b) == (C_IN[0] * k, C_IN[1] * k):
                return f"{k}·C_in"
        return "?"
    names = [
        p.name
        for p in unit.params
        if isinstance(p.default, int) and not isinstance(p.default, bool) and p.default == a
    ]
    if names:
        return names[0]
    ints = [
        (p.name, p.default)
        for p in unit.params
        if isinstance(p.default, int) and not isinstance(p.default, bool) and p.default > 1
    ]
    for k in (1, 2, 3, 4):
        for i, (n1, d1) in enumerate(ints):
            if k > 1 and a == k * d1:
                return f"{k}·{n1}"
            for n2, d2 in ints[i + 1 :]:
                if a == k * d1 * d2:
                    return f"{'' if k == 1 else f'{k}·'}{n1}·{n2}"
    return str(a)


def tensor_lines(unit: Any) -> list[str]:
    """Markdown lines: each tensor of ``unit`` with its shape in terms of C_in and params
    (at their defaults), or a sentence saying it has none or could not be measured."""
    if unit.name in ("input", "output"):
        return []
    first, second = _shapes(unit, C_IN[0]), _shapes(unit, C_IN[1])
    if first is None or second is None:
        return ["- tensors: not measurable alone (needs a particular input)"]
    if not first:
        return ["- tensors: none"]
    vocab = bool(unit.inputs) and unit.inputs[0].kind == "tokens"
    parts = []
    for name in sorted(first):
        a, b = first[name], second.get(name, first[name])
        dims = [_name_dim(x, y, unit, vocab) for x, y in zip(a, b)]
        parts.append(f"`node/<uid>/{name}` [{', '.join(dims)}]")
    return ["- tensors (measured, params at their defaults): " + "; ".join(parts)]
