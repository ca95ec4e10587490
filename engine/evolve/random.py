"""Random graphs over the whole unit catalog, sized by the caller (DESIGN §3.5).

Every graph this returns validates and compiles: sources are chosen so port kinds match
(token wires only into embeddings), causal graphs draw only causal unit settings, and
every hidden node feeds something downstream.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT, Graph
from openbrains.engine.shapes import resolve
from openbrains.engine.signal import SignalSpec
from openbrains.engine.units import REGISTRY, Param, Unit

# Units the generator never places on its own: I/O is fixed by the task.
_NOT_HIDDEN = {INPUT_UNIT, OUTPUT_UNIT}


@dataclass(frozen=True)
class SizeBounds:
    """What random graphs (and mutations) may grow to; a run setting, visible in the UI."""

    min_nodes: int = 1
    max_nodes: int = 8
    min_width: int = 4
    max_width: int = 64
    max_fan_in: int = 3
    max_params: int = 200_000

    def to_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def hidden_units(causal: bool = False, allowed: Sequence[str] | None = None) -> list[Unit]:
    """Units a generator may place (all registered ones, minus I/O and token readers)."""
    units = [u for u in REGISTRY.units() if u.name not in _NOT_HIDDEN]
    if allowed is not None:
        units = [u for u in units if u.name in allowed]
    if causal:
        units = [u for u in units if u.causal is not False]
    return [u for u in units if all(p.kind != "tokens" for p in u.inputs)]


def sample_params(unit: Unit, rng: random.Random, bounds: SizeBounds, causal: bool) -> dict:
    """Random params for ``unit``; widths stay inside ``bounds``; causal-safe when needed."""
    for _ in range(20):
        params = {p.name: _sample_param(p, rng, bounds) for p in unit.params if p.mutable}
        full = unit.defaults() | params
        if not causal or unit.supports_causal(full):
            return params
    return {
        p.name: p.default
        for p in unit.params
        if p.mutable and unit.supports_causal(unit.defaults())
    }


def _sample_param(p: Param, rng: random.Random, bounds: SizeBounds) -> object:
    if p.name == "width" and p.kind == "int":
        lo = max(int(p.low or 1), bounds.min_width)
        hi = min(int(p.high or lo), bounds.max_width)
        return int(round(math.exp(rng.uniform(math.log(lo), math.log(max(lo, hi))))))
    return p.sample(rng)


def add_io(
    graph: Graph,
    inputs: Mapping[str, SignalSpec],
    outputs: Mapping[str, SignalSpec],
    rng: random.Random,
) -> tuple[list[str], list[str]]:
    """Input and output nodes for the given specs; returns their uids."""
    ins, outs = [], []
    for name, spec in inputs.items():
        grid = spec.meta.grid or (0, 0)
        params = {
            "name": name,
            "modality": spec.meta.modality,
            "channels": spec.channels,
            "time": spec.time or 0,
            "grid_h": grid[0],
            "grid_w": grid[1],
            "vocab": spec.meta.vocab or 0,
            "rate": spec.meta.rate or 0.0,
        }
        ins.append(graph.add_node(INPUT_UNIT, params, rng=rng).uid)
    for name, spec in outputs.items():
        params = {
            "name": name,
            "modality": spec.meta.modality,
            "channels": spec.channels,
            "time": 0 if graph.causal else (spec.time or 0),
        }
        outs.append(graph.add_node(OUTPUT_UNIT, params, rng=rng).uid)
    return ins, outs


def random_graph(
    rng: random.Random,
    inputs: Mapping[str, SignalSpec],
    outputs: Mapping[str, SignalSpec],
    bounds: SizeBounds = SizeBounds(),
    causal: bool = False,
    allowed: Sequence[str] | None = None,
) -> Graph:
    """A random DAG from ``inputs`` to ``outputs`` with ``min_nodes..max_nodes`` hidden nodes."""
    graph = Graph(causal=causal)
    in_uids, out_uids = add_io(graph, inputs, outputs, rng)
    sources: list[str] = []
    for uid, spec in zip(in_uids, inputs.values()):
        if spec.meta.vocab:
            emb = REGISTRY.get("embedding")
            node = graph.add_node("embedding", sample_params(emb, rng, bounds, causal), rng=rng)
            graph.connect(uid, node.uid, rng=rng)
            sources.append(node.uid)
        else:
            sources.append(uid)
    pool = hidden_units(causal, allowed)
    n_hidden = rng.randint(bounds.min_nodes, max(bounds.min_nodes, bounds.max_nodes))
    for _ in range(n_hidden):
        for _attempt in range(10):
            uid = _add_random_node(graph, rng.choice(pool), sources, rng, bounds, causal)
            if uid is not None:
                sources.append(uid)
                break
    _wire_outputs(graph, sources, out_uids, rng)
    return graph


def _add_random_node(
    graph: Graph,
    unit: Unit,
    sources: list[str],
    rng: random.Random,
    bounds: SizeBounds,
    causal: bool,
) -> str | None:
    """Add ``unit`` fed by 1..max_fan_in earlier nodes; undo and return None if it cannot
    resolve there (e.g. flatten after a variable-length input)."""
    node = graph.add_node(unit.name, sample_params(unit, rng, bounds, causal), rng=rng)
    fan_in = rng.randint(2, max(2, bounds.max_fan_in)) if unit.category == "merge" else 1
    if unit.category != "merge" and rng.random() < 0.25:
        fan_in = rng.randint(1, bounds.max_fan_in)
    # prefer recent nodes so graphs get depth, not just width
    weights = [1.0 + i for i in range(len(sources))]
    for src in dict.fromkeys(rng.choices(sources, weights)[0] for _ in range(fan_in)):
        graph.connect(src, node.uid, rng=rng)
    if node.uid in resolve(graph).errors:
        graph.remove_node(node.uid)
        return None
    return node.uid


def _wire_outputs(
    graph: Graph, sources: list[str], out_uids: list[str], rng: random.Random
) -> None:
    """Connect the last node to every output, and every childless hidden node onward."""
    last = sources[-1]
    for out in out_uids:
        graph.connect(last, out, rng=rng)
    children = graph.children_map()
    for i, uid in enumerate(sources[:-1]):
        if children.get(uid):
            continue
        later = [u for u in sources[i + 1 :] if _takes_floats(graph, u)]
        graph.connect(uid, rng.choice(later) if later else rng.choice(out_uids), rng=rng)


def _takes_floats(graph: Graph, uid: str) -> bool:
    unit = REGISTRY.get(graph.nodes[uid].unit)
    return bool(unit.inputs) and unit.inputs[0].kind != "tokens"
