"""Species protect new structure (DESIGN §3.4): a NEAT-like compatibility distance on
genes, and a speciator that groups graphs by it.

A fresh structural mutation usually scores worse until it has trained; competing first
within its species gives it that time. Genes are aligned by uid, as in crossover.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from openbrains.engine.graph import Graph, Node
from openbrains.engine.units import REGISTRY, Param


@dataclass(frozen=True)
class Coefficients:
    """Weights of the two parts of the distance (NEAT's c1/c2 and c3)."""

    disjoint: float = 1.0
    params: float = 0.5


def _param_gap(p: Param | None, a: Any, b: Any) -> float:
    """How far apart two values of one param are, in [0, 1] (1 for any change of kind)."""
    if a == b:
        return 0.0
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
    if p is None or not numeric or p.low is None or p.high is None or p.high <= p.low:
        return 1.0
    if p.log and p.low > 0 and a > 0 and b > 0:
        span = math.log(p.high) - math.log(p.low)
        return min(1.0, abs(math.log(a) - math.log(b)) / span)
    return min(1.0, abs(a - b) / (p.high - p.low))


def node_difference(a: Node, b: Node) -> float:
    """0 for identical genes, 1 for different units; else the mean gap of their params."""
    if a.unit != b.unit:
        return 1.0
    decl = REGISTRY.get(a.unit).param_map if a.unit in REGISTRY else {}
    defaults = {k: p.default for k, p in decl.items()}
    pa, pb = defaults | a.params, defaults | b.params
    keys = sorted(set(pa) | set(pb))
    if not keys:
        return 0.0
    return sum(_param_gap(decl.get(k), pa.get(k), pb.get(k)) for k in keys) / len(keys)


def distance(a: Graph, b: Graph, c: Coefficients | None = None) -> float:
    """NEAT compatibility: disjoint node and edge uids over the larger genome, plus the mean
    difference of matching nodes. 0 for identical graphs; grows as lineages drift apart."""
    c = c or Coefficients()
    na, nb = set(a.nodes), set(b.nodes)
    ea, eb = set(a.edges), set(b.edges)
    size = max(len(na) + len(ea), len(nb) + len(eb), 1)
    disjoint = (len(na ^ nb) + len(ea ^ eb)) / size
    matching = na & nb
    params = (
        sum(node_difference(a.nodes[u], b.nodes[u]) for u in matching) / len(matching)
        if matching
        else 0.0
    )
    rewired = sum(1 for u in ea & eb if _ends(a, u) != _ends(b, u))
    return c.disjoint * (disjoint + rewired / size) + c.params * params


def _ends(g: Graph, uid: str) -> tuple[str, str, str, str]:
    e = g.edges[uid]
    return e.src, e.dst, e.src_port, e.dst_port


@dataclass
class Species:
    """One species: its id (never reused), the graph new members are compared with, how
    many graphs joined it and when one last did."""

    id: int
    representative: Graph
    members: int = 0
    last_seen: int = 0


class Speciator:
    """Assigns graphs to species by a distance threshold against each representative.

    The threshold adapts toward ``target`` species active within the last ``window``
    assignments (too many → raise it, too few → lower it), as NEAT's dynamic threshold.
    Ids are stable: a species keeps its id while it lives, and ids are never reused.
    Species inactive for ``expire_after`` assignments are forgotten.
    """

    def __init__(
        self,
        threshold: float = 0.5,
        target: int = 6,
        step: float = 0.05,
        window: int = 64,
        expire_after: int = 1000,
        bounds: tuple[float, float] = (0.02, 4.0),
        coefficients: Coefficients | None = None,
    ) -> None:
        self.threshold = threshold
        self.target = target
        self.step = step
        self.window = window
        self.expire_after = expire_after
        self.bounds = bounds
        self.coefficients = coefficients or Coefficients()
        self.species: dict[int, Species] = {}
        self.clock = 0
        self._next_id = 1

    def distance(self, a: Graph, b: Graph) -> float:
        return distance(a, b, self.coefficients)

    def assign(self, graph: Graph) -> int:
        """The id of the species ``graph`` belongs to (a new one if none is close enough)."""
        self.clock += 1
        best, best_d = None, math.inf
        for sp in self.species.values():
            d = self.distance(graph, sp.representative)
            if d < best_d:
                best, best_d = sp, d
        if best is None or best_d > self.threshold:
            best = Species(self._next_id, graph.copy())
            self.species[best.id] = best
            self._next_id += 1
        best.members += 1
        best.last_seen = self.clock
        self._expire()
        self._adapt()
        return best.id

    def assign_all(self, graphs: list[Graph]) -> list[int]:
        return [self.assign(g) for g in graphs]

    def active(self) -> list[int]:
        """Ids of species that gained a member within the last ``window`` assignments."""
        return [s.id for s in self.species.values() if self.clock - s.last_seen < self.window]

    def _adapt(self) -> None:
        n = len(self.active())
        if n > self.target:
            self.threshold *= 1 + self.step
        elif n < self.target:
            self.threshold *= 1 - self.step
        lo, hi = self.bounds
        self.threshold = min(hi, max(lo, self.threshold))

    def _expire(self) -> None:
        for sid in [
            s.id for s in self.species.values() if self.clock - s.last_seen >= self.expire_after
        ]:
            del self.species[sid]

    # ----- persistence (a run resumes with the same ids) ------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "clock": self.clock,
            "next_id": self._next_id,
            "species": [
                {
                    "id": s.id,
                    "members": s.members,
                    "last_seen": s.last_seen,
                    "representative": s.representative.to_dict(),
                }
                for s in self.species.values()
            ],
        }

    def load(self, d: dict[str, Any]) -> None:
        """Restore state written by ``to_dict`` (settings stay as constructed)."""
        self.threshold = float(d["threshold"])
        self.clock = int(d["clock"])
        self._next_id = int(d["next_id"])
        self.species = {
            int(s["id"]): Species(
                int(s["id"]),
                Graph.from_dict(s["representative"]),
                int(s["members"]),
                int(s["last_seen"]),
            )
            for s in d["species"]
        }
