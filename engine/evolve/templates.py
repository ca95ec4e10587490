"""Sensible starting architectures per modality, with randomised widths.

Part of the first population comes from these, the rest is random over the whole catalog:
users expect the tool to start somewhere reasonable, and evolution is free to leave.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from openbrains.engine.evolve.random import SizeBounds, add_io
from openbrains.engine.graph import Graph
from openbrains.engine.signal import SignalSpec

Layers = list[tuple[str, dict]]
SHRINK = 0.85  # each narrower try keeps this share of every width
SHRINK_TRIES = 14  # 0.85**14 ≈ 0.1: by then every width is at its floor of 4
HALF = 0.5  # an image net keeps its flattened head down to this share of its widths
FINE_SHRINK = 0.95  # the deep separable shape narrows in finer steps: every channel counts
FINE_TRIES = 30  # 0.95**30 ≈ 0.2
MAX_TEMPLATE_WIDTH = 32
PLAIN_FLOOR = 6  # an image template narrower than this tries the separable shapes first


def _width(rng: random.Random, bounds: SizeBounds, lo: int = 8) -> int:
    lo = max(bounds.min_width, min(lo, bounds.max_width))
    return rng.randint(lo, max(lo, bounds.max_width))


def _chain(graph: Graph, start: str, layers: list[tuple[str, dict]], rng: random.Random) -> str:
    prev = start
    for unit, params in layers:
        node = graph.add_node(unit, params, rng=rng)
        graph.connect(prev, node.uid, rng=rng)
        prev = node.uid
    return prev


def _first_conv(rng: random.Random, bounds: SizeBounds) -> tuple[int, int]:
    """The widest a template convolution may be, and the first one's width (8 to 16)."""
    hi = max(bounds.min_width, min(MAX_TEMPLATE_WIDTH, bounds.max_width))
    return hi, rng.randint(min(8, hi), min(16, hi))


def _conv_stack(
    rng: random.Random, bounds: SizeBounds, grid: tuple[int, ...], width: int
) -> list[tuple[str, dict]]:
    """Conv + batch-norm + max-pool blocks while the grid is at least 8 cells a side, each
    about 1.5× wider than the last, then flatten, sometimes a dense. Two blocks of 16 and 24
    are the best small brain measured on 8×8 digits (docs/benchmarks.md); batch norm gets it
    there in a quarter of the steps (docs/decisions.md). A game's board is never pooled:
    ``_board_stack``."""
    hi, width_now = _first_conv(rng, bounds)
    layers: list[tuple[str, dict]] = []
    side = min(grid)
    while True:
        layers += [
            ("conv2d", {"width": width_now, "kernel": 3}),
            ("batchnorm", {}),
            ("pool", {"kind": "max", "size": 2}),
        ]
        width_now = min(hi, width_now * 3 // 2)
        side //= 2
        if side < 4 or len(layers) >= 9 or len(layers) + 5 > bounds.max_nodes:
            break
    layers.append(("flatten", {}))
    if rng.random() < 0.5:
        layers.append(("dense", {"width": width, "activation": "relu"}))
    return layers


def is_board(task: Any) -> bool:
    """Whether ``task`` reads a game's board (two-player games and scored environments):
    a grid where every cell matters, where an image's patches can be pooled."""
    return getattr(task, "kind", None) == "game"


def _board_stack(rng: random.Random, bounds: SizeBounds) -> list[tuple[str, dict]]:
    """Two conv + batch-norm layers at full resolution, then flatten, sometimes a dense:
    on a game board where a piece stands is the whole story, and a pool would blur a 6×7
    board to 3×3 after one layer (and a 3×3 one to a single cell). Two 3×3 layers see 5×5
    around each cell, a Connect Four line's reach; AlphaZero-style game nets do not pool
    either."""
    hi, width = _first_conv(rng, bounds)
    layers: list[tuple[str, dict]] = [
        ("conv2d", {"width": width, "kernel": 3}),
        ("batchnorm", {}),
        ("conv2d", {"width": min(hi, width * 3 // 2), "kernel": 3}),
        ("batchnorm", {}),
        ("flatten", {}),
    ]
    if rng.random() < 0.5 and len(layers) + 3 <= bounds.max_nodes:
        layers.append(("dense", {"width": _width(rng, bounds), "activation": "relu"}))
    return layers


def template_graph(
    rng: random.Random,
    inputs: dict[str, SignalSpec],
    outputs: dict[str, SignalSpec],
    bounds: SizeBounds,
    causal: bool = False,
    fits: Callable[[Graph], bool] | None = None,
    board: bool = False,
) -> Graph:
    """A conventional graph for the first input's modality (others join through a sum).

    With ``fits`` (the run's size check), a template that is too big is made smaller
    instead of being given up: a user who asks for a 1,000-parameter MNIST brain expects
    the search to start from a small conv net, not from random wiring. The result may
    still not fit (the caller checks again)."""
    graph = Graph(causal=causal)
    ios = add_io(graph, inputs, outputs, rng)  # drawn first, as before sizes were fitted
    layers = template_layers(rng, next(iter(inputs.values())), bounds, causal, board)
    _wire(graph, *ios, layers, rng)
    if fits is None or fits(graph):
        return graph
    for smaller in _shrinking(layers, bounds):
        candidate = Graph(causal=causal)
        _wire(candidate, *add_io(candidate, inputs, outputs, rng), smaller, rng)
        if fits(candidate):
            return candidate
    return graph


def template_layers(
    rng: random.Random,
    spec: SignalSpec,
    bounds: SizeBounds,
    causal: bool = False,
    board: bool = False,
) -> Layers:
    """The template's chain of ``(unit, params)`` for an input of ``spec`` (``board``: a
    game's, ``is_board``)."""
    w = _width(rng, bounds)
    if spec.meta.vocab:
        layers = [("embedding", {"width": w}), ("gru", {"width": _width(rng, bounds)})]
        if not causal:
            layers.append(("pool", {"kind": "avg", "scope": "global"}))
        layers.append(("dense", {"width": _width(rng, bounds), "activation": "relu"}))
    elif spec.meta.grid is not None and not causal:
        layers = _board_stack(rng, bounds) if board else _conv_stack(rng, bounds, spec.meta.grid, w)
    elif (spec.time or 0) > 1 or spec.time is None:
        layers = [("conv1d", {"width": w, "kernel": 3}), ("gru", {"width": _width(rng, bounds)})]
    else:
        layers = [("dense", {"width": w, "activation": rng.choice(["relu", "tanh", "gelu"])})]
        if rng.random() < 0.5:
            layers.append(("dense", {"width": _width(rng, bounds), "activation": "relu"}))
    return layers


def _shrinking(layers: Layers, bounds: SizeBounds) -> Iterator[Layers]:
    """What to try, in order, when the template is over the bound: ``_smaller``'s
    sequence, except for an image net that would have to narrow a convolution below
    ``PLAIN_FLOOR`` channels. That one tries the plain versions that stay above the floor,
    then the deep separable shape (``_deep_separable``) and ever narrower versions of it
    in fine steps; then, where that shape does not apply, the shallow one (only the later
    convolutions separable) and its smaller versions; then the rest of the plain net's
    narrowing. Trained by hand under 1,000 parameters on MNIST, the plain net a bound
    shrinks to (4 and 6 channels) stops at 0.977 and the deep separable one passes 0.98
    (docs/benchmarks.md, ``bench/mnist_hand.py``); a bound with room for wider plain
    convolutions (MNIST or digits with thousands of parameters) keeps the plain shape that
    meets those goals."""
    plain = list(_smaller(layers))
    separable = _separable(layers)
    if not any(unit == "sepconv2d" for unit, _ in separable):
        yield from plain
        return
    wide = plain[: _wide_steps()]
    roomy = [v for v in wide if min(_conv_widths(v)) >= PLAIN_FLOOR]
    yield from roomy
    deep = _deep_separable(separable, min(MAX_TEMPLATE_WIDTH, bounds.max_width))
    if deep is not None:
        yield deep
        yield from (_scaled(deep, FINE_SHRINK**step) for step in range(1, FINE_TRIES + 1))
    yield from (v for v in wide if v not in roomy)
    yield separable
    yield from _smaller(separable)
    yield from plain[len(wide) :]


def _conv_widths(layers: Layers) -> list[int]:
    return [p["width"] for unit, p in layers if unit in ("conv2d", "sepconv2d")] or [0]


def _separable(layers: Layers) -> Layers:
    """Every convolution after the first made depthwise-separable (the first one reads
    the few channels of the raw image, where separating saves little and loses much), and
    no hidden dense layer in the head: under a tight bound channels are worth more than a
    hidden layer that would take half of it."""
    out, convs = [], 0
    for unit, p in layers:
        convs += unit == "conv2d"
        if unit == "dense" and convs:
            continue
        out.append(("sepconv2d", dict(p)) if unit == "conv2d" and convs > 1 else (unit, p))
    return out


def _deep_separable(separable: Layers, widest: int) -> Layers | None:
    """The shape of the best small MNIST net measured by hand (``deepsep``): ``separable``
    with one more separable layer (and its batch norm) at the full grid, as wide as the
    first convolution, between it and the first pool, so the cheap per-channel filters see
    a 5×5 field before anything is pooled away; the later separable layers twice as wide
    as the first convolution (they cost little per channel, and the head reads only the
    last); and a depthwise ``valid`` filter over the last small grid before the flatten,
    a learned pooling that costs C·k² where a flattened grid costs cells × C × classes.
    The first convolution keeps at most half of ``widest`` so that the later ones can be
    twice as wide. None when the net has no pool or no flatten."""
    units = [unit for unit, _ in separable]
    if "pool" not in units or "flatten" not in units:
        return None
    drawn = next(p["width"] for unit, p in separable if unit == "conv2d")
    first = max(4, min(drawn, widest // 2))
    out: Layers = []
    for unit, p in separable:
        if unit == "pool" and not any(u == "sepconv2d" for u, _ in out):
            out += [("sepconv2d", {"width": first, "kernel": 3}), ("batchnorm", {})]
        if unit == "conv2d":
            p = {**p, "width": first}
        if unit == "sepconv2d":
            p = {**p, "width": min(widest, 2 * first)}
        if unit == "flatten":
            out.append(("dwconv2d", {"kernel": 7, "padding": "valid"}))
        out.append((unit, p))
    return out


def _wide_steps() -> int:
    """How many narrowing steps keep at least ``HALF`` of every width."""
    return sum(SHRINK**step >= HALF for step in range(1, SHRINK_TRIES + 1))


def _smaller(layers: Layers) -> Iterator[Layers]:
    """Ever smaller versions of ``layers``: every width shrinks by ``SHRINK`` per step,
    down to 4. A flatten (an image net's head) is kept while the widths are at least half
    of what was drawn; past that, the head becomes a global average at each width from
    the top (it then costs width × classes, not cells × width × classes: tiny image nets
    end this way), and only then the narrowest flattened versions."""
    narrow = [_scaled(layers, SHRINK**step) for step in range(1, SHRINK_TRIES + 1)]
    if not any(unit == "flatten" for unit, _ in layers):
        yield from narrow
        return
    wide = _wide_steps()
    yield from narrow[:wide]
    for version in (layers, *narrow):
        yield [_GLOBAL_AVERAGE if unit == "flatten" else (unit, p) for unit, p in version]
    yield from narrow[wide:]


_GLOBAL_AVERAGE = ("pool", {"kind": "avg", "scope": "global"})


def _scaled(layers: Layers, scale: float) -> Layers:
    return [
        (unit, {**p, "width": max(4, int(p["width"] * scale))} if "width" in p else dict(p))
        for unit, p in layers
    ]


def _wire(
    graph: Graph, in_uids: list[str], out_uids: list[str], layers: Layers, rng: random.Random
) -> None:
    """``layers`` as a chain from the first input to every output; other inputs join
    through a sum."""
    last = _chain(graph, in_uids[0], layers, rng)
    for extra in in_uids[1:]:
        merge = graph.add_node("sum", {}, rng=rng)
        graph.connect(last, merge.uid, rng=rng)
        graph.connect(extra, merge.uid, rng=rng)
        last = merge.uid
    for out in out_uids:
        graph.connect(last, out, rng=rng)
