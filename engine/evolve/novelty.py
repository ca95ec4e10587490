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

import numpy as np

from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT, Graph

Signature = Counter[str]

K_NEAREST = 5
# distinct structures remembered (the oldest are forgotten first): each birth is compared
# with all of them, so this bounds its cost in a run of weeks
MAX_STRUCTURES = 5000
NOVEL_ABOVE = 0.35  # a graph this far from every template shape counts as novel

# The units the hand-made templates (engine.evolve.templates) are built of, plus the
# merge they join extra inputs with; a template is a plain chain of these.
TEMPLATE_UNITS = frozenset(
    {
        "embedding",
        "gru",
        "pool",
        "dense",
        "conv1d",
        "conv2d",
        "sepconv2d",  # a template shrunk under a tight bound
        "dwconv2d",  # its head
        "batchnorm",
        "flatten",
        "sum",
    }
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


Key = frozenset[tuple[str, int]]


@dataclass
class NoveltyArchive:
    """The structures a run has tried (each distinct signature once, with how many
    individuals had it), and the novelty of a new one against them.

    The signatures are also kept as rows of a count matrix over every token seen, so a
    birth's distances to all of them are a few vectorised operations, not a Python loop.
    """

    k: int = K_NEAREST
    limit: int = MAX_STRUCTURES
    seen: dict[Key, int] = field(default_factory=dict)
    _vocab: dict[str, int] = field(default_factory=dict, repr=False)
    _rows: dict[Key, int] = field(default_factory=dict, repr=False)
    _matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)

    def add(self, graph: Graph) -> None:
        sig = signature(graph)
        key: Key = frozenset(sig.items())
        if key in self.seen:
            self.seen[key] += 1
            return
        self.seen[key] = 1
        for token in sig:
            if token not in self._vocab:
                self._vocab[token] = len(self._vocab)
        m = self._matrix
        if m.shape[1] < len(self._vocab):
            m = np.pad(m, ((0, 0), (0, len(self._vocab) - m.shape[1])))
        self._rows[key] = m.shape[0]
        self._matrix = np.vstack([m, self._vector(sig)[None, :]])
        while len(self.seen) > self.limit:  # dicts keep insertion order: oldest first
            self._forget(next(iter(self.seen)))

    def _forget(self, key: Key) -> None:
        del self.seen[key]
        row = self._rows.pop(key)
        self._matrix = np.delete(self._matrix, row, axis=0)
        self._rows = {k: r - (r > row) for k, r in self._rows.items()}

    def _vector(self, sig: Signature) -> np.ndarray:
        v = np.zeros(len(self._vocab))
        for token, n in sig.items():
            if token in self._vocab:
                v[self._vocab[token]] = n
        return v

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
        v = self._vector(sig)
        unknown = sum(n for token, n in sig.items() if token not in self._vocab)
        low = np.minimum(self._matrix, v).sum(axis=1)
        high = np.maximum(self._matrix, v).sum(axis=1) + unknown
        gaps = np.where(high > 0, 1.0 - low / np.maximum(high, 1e-12), 0.0)
        counts = np.empty(len(self._rows))
        for key, row in self._rows.items():
            counts[row] = self.seen[key]
        total, taken = 0.0, 0
        for row in np.argsort(gaps, kind="stable"):
            use = min(int(counts[row]), self.k - taken)
            total += float(gaps[row]) * use
            taken += use
            if taken == self.k:
                break
        return total / taken
