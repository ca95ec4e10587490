"""Novelty in structure: how far a graph is from what the run has already tried, and
whether it looks like one of the hand-made templates (issue #18, "less template").

Species (engine.evolve.species) compare genes by uid, so two lineages that grew the same
shape independently are still "different"; novelty must not be fooled by that. Here a
graph is reduced to a *signature*: the multiset of its hidden units and of its wires as
(unit → unit) pairs, blind to uids, widths and params. Two signatures are compared by the
weighted Jaccard distance (1 − Σmin/Σmax): 0 for the same shape, 1 for nothing shared.
Novelty is the mean distance to the k nearest structures already in the archive (novelty
search, Lehman & Stanley 2011). Torch-free, so the canvas can classify cards too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT, Graph

Signature = Counter[str]

K_NEAREST = 5
# distinct structures remembered (the oldest are forgotten first): each birth is compared
# with all of them, so this bounds its cost in a run of weeks (~30 ms at 5,000)
MAX_STRUCTURES = 5000
NOVEL_ABOVE = 0.35  # a graph this far from every template shape counts as novel

# The units the hand-made templates (engine.evolve.templates) are built of, plus the
# merge they join extra inputs with; a template is a plain chain of these.
TEMPLATE_UNITS = frozenset(
    {"embedding", "gru", "pool", "dense", "conv1d", "conv2d", "batchnorm", "flatten", "sum"}
)


def signature(graph: Graph) -> Signature:
    """Units (``u:name``) and wires (``e:src>dst``) by unit name; io nodes by role."""

    def name(uid: str) -> str:
        unit = graph.nodes[uid].unit
        return "in" if unit == INPUT_UNIT else "out" if unit == OUTPUT_UNIT else unit

    sig: Signature = Counter()
    for node in graph.nodes.values():
        if node.unit not in (INPUT_UNIT, OUTPUT_UNIT):
            sig[f"u:{node.unit}"] += 1
    for edge in graph.edges.values():
        sig[f"e:{name(edge.src)}>{name(edge.dst)}"] += 1
    return sig


def distance(a: Signature, b: Signature) -> float:
    """Weighted Jaccard distance of two signatures, in [0, 1]."""
    keys = a.keys() | b.keys()
    high = sum(max(a[k], b[k]) for k in keys)
    if high == 0:
        return 0.0
    return 1.0 - sum(min(a[k], b[k]) for k in keys) / high


def template_like(graph: Graph) -> bool:
    """A plain chain of template units: what a hand-made template looks like, and what
    a template's descendants stay while evolution only retunes them."""
    hidden = {u for u, n in graph.nodes.items() if n.unit not in (INPUT_UNIT, OUTPUT_UNIT)}
    if not hidden or any(graph.nodes[u].unit not in TEMPLATE_UNITS for u in hidden):
        return False
    succ: Counter[str] = Counter()
    pred: Counter[str] = Counter()
    for e in graph.edges.values():
        if e.src in hidden and e.dst in hidden:
            succ[e.src] += 1
            pred[e.dst] += 1
    return all(succ[u] <= 1 and pred[u] <= 1 for u in hidden)


@dataclass
class NoveltyArchive:
    """The structures a run has tried (each distinct signature once, with how many
    individuals had it), and the novelty of a new one against them."""

    k: int = K_NEAREST
    limit: int = MAX_STRUCTURES
    seen: dict[frozenset[tuple[str, int]], int] = field(default_factory=dict)

    def add(self, graph: Graph) -> None:
        key = frozenset(signature(graph).items())
        self.seen[key] = self.seen.get(key, 0) + 1
        while len(self.seen) > self.limit:  # dicts keep insertion order: oldest first
            del self.seen[next(iter(self.seen))]

    def extend(self, graphs: Iterable[Graph]) -> None:
        for g in graphs:
            self.add(g)

    def __len__(self) -> int:
        """Individuals remembered (each distinct structure with its count)."""
        return sum(self.seen.values())

    def novelty(self, graph: Graph) -> float:
        """Mean distance to the k nearest archived individuals (1.0 for the first one)."""
        if not self.seen:
            return 1.0
        sig = signature(graph)
        gaps = sorted((distance(sig, Counter(dict(key))), n) for key, n in self.seen.items())
        total, taken = 0.0, 0
        for gap, n in gaps:
            use = min(n, self.k - taken)
            total += gap * use
            taken += use
            if taken == self.k:
                break
        return total / taken
