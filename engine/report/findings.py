"""What the best tenth of a run has more of than the whole population, and how the
champion's lineage climbed. Torch-free, registry-free: graphs are read as plain structure.

Features of a graph: each unit it uses (``unit``), each node where several wires meet
(``merge``: the node's unit) and each small sub-graph (``motif``): a wire ``a → b`` or a
path ``a → b → c``, named by units (``in``/``out`` for the graph's ends). A feature counts
once per graph. Its effect size is Cohen's h between its share in the best tenth and in
the whole population (0.2 small, 0.5 medium, 0.8 large); the counts are reported beside
it, so a large h on three graphs reads as what it is.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT, Graph
from openbrains.engine.store import Record

TOP_SHARE = 0.1
MAX_FINDINGS = 20


@dataclass(frozen=True)
class Finding:
    """One feature's standing among the best tenth against the whole population."""

    kind: str  # unit, merge or motif
    feature: str
    top_count: int
    top_total: int
    all_count: int
    all_total: int

    @property
    def top_share(self) -> float:
        return self.top_count / self.top_total

    @property
    def all_share(self) -> float:
        return self.all_count / self.all_total

    @property
    def effect(self) -> float:
        """Cohen's h: 2·asin√p_top − 2·asin√p_all."""
        return 2 * math.asin(math.sqrt(self.top_share)) - 2 * math.asin(math.sqrt(self.all_share))


def features(graph: Graph) -> set[tuple[str, str]]:
    """(kind, name) of each unit, merge point and motif in ``graph``."""

    def name(uid: str) -> str:
        unit = graph.nodes[uid].unit
        return "in" if unit == INPUT_UNIT else "out" if unit == OUTPUT_UNIT else unit

    out: set[tuple[str, str]] = set()
    into: dict[str, list[str]] = {}
    for e in graph.edges.values():
        into.setdefault(e.dst, []).append(e.src)
    for uid, node in graph.nodes.items():
        if node.unit in (INPUT_UNIT, OUTPUT_UNIT):
            continue
        out.add(("unit", node.unit))
        if len(into.get(uid, [])) > 1:
            out.add(
                (
                    "merge",
                    f"{len(into[uid]) if len(into[uid]) < 3 else '3+'} wires into {node.unit}",
                )
            )
    for dst, srcs in into.items():
        for src in srcs:
            out.add(("motif", f"{name(src)} → {name(dst)}"))
            for before in into.get(src, []):
                out.add(("motif", f"{name(before)} → {name(src)} → {name(dst)}"))
    return out


def best_tenth(records: Sequence[Record]) -> list[Record]:
    """The best tenth by selection fitness (at least one)."""
    ranked = sorted(records, key=lambda r: -(r.fitness if r.fitness is not None else -math.inf))
    return ranked[: max(1, math.ceil(len(ranked) * TOP_SHARE))]


def over_represented(
    records: Sequence[Record], graphs: Mapping[int, Graph], limit: int = MAX_FINDINGS
) -> list[Finding]:
    """Features with a larger share among the best tenth than in the whole population,
    largest effect first (ties: more graphs first)."""
    top = best_tenth(records)
    feats = {r.id: features(graphs[r.id]) for r in records}
    everywhere: Counter[tuple[str, str]] = Counter(f for r in records for f in feats[r.id])
    in_top: Counter[tuple[str, str]] = Counter(f for r in top for f in feats[r.id])
    found = [
        Finding(kind, feat, in_top[(kind, feat)], len(top), n, len(records))
        for (kind, feat), n in everywhere.items()
        if in_top[(kind, feat)] > 0
    ]
    found = [f for f in found if f.effect > 1e-9]
    found.sort(key=lambda f: (-f.effect, -f.top_count, f.kind, f.feature))
    return found[:limit]


@dataclass(frozen=True)
class Step:
    """One individual on the champion's line, with what changed from its parent."""

    id: int
    origin: str
    mutation: str
    detail: str
    metric: float | None
    jump: float | None  # its metric minus its parent's (None for the first)


def lineage(champion: Record, by_id: Mapping[int, Record]) -> list[Step]:
    """The champion's ancestry through first parents, oldest first."""
    chain: list[Record] = []
    seen: set[int] = set()
    cur: Record | None = champion
    while cur is not None and cur.id not in seen:
        chain.append(cur)
        seen.add(cur.id)
        cur = by_id.get(cur.parents[0]) if cur.parents else None
    chain.reverse()
    steps: list[Step] = []
    prev: float | None = None
    for r in chain:
        jump = None if prev is None or r.val_metric is None else r.val_metric - prev
        steps.append(Step(r.id, r.origin, r.mutation, r.detail, r.val_metric, jump))
        prev = r.val_metric if r.val_metric is not None else prev
    return steps


def unit_frequencies(
    records: Sequence[Record], graphs: Mapping[int, Graph], bins: int = 8
) -> tuple[list[str], list[dict[str, float]]]:
    """Share of graphs using each unit, per stretch of the run (births in order): the
    units shown (most used first) and one ``{unit: share}`` per stretch."""
    ordered = sorted(records, key=lambda r: r.id)
    bins = max(1, min(bins, len(ordered)))
    size = math.ceil(len(ordered) / bins)
    parts = [ordered[i : i + size] for i in range(0, len(ordered), size)]
    total: Counter[str] = Counter()
    shares: list[dict[str, float]] = []
    for part in parts:
        used: Counter[str] = Counter()
        for r in part:
            used.update({f for k, f in features(graphs[r.id]) if k == "unit"})
        total.update(used)
        shares.append({u: n / len(part) for u, n in used.items()})
    units = [u for u, _ in total.most_common(8)]
    return units, shares
