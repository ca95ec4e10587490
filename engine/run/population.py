"""The living population as the coordinator keeps it: members (record, graph, weights in
RAM, oldest first), the lineage of everyone, and what successive halving remembers
(who was promoted, the fitness of every finisher per rung). Torch-free; the choices made
on it are engine.run.policy's."""

from __future__ import annotations

from dataclasses import dataclass, field

from openbrains.engine.evolve.novelty import NoveltyArchive
from openbrains.engine.evolve.species import Speciator
from openbrains.engine.graph import Graph
from openbrains.engine.store import Archive, Record


@dataclass
class Member:
    """A living individual: record, graph, weights in RAM."""

    record: Record
    graph: Graph
    weights: bytes


@dataclass
class Population:
    members: list[Member] = field(default_factory=list)
    lineage: dict[int, list[int]] = field(default_factory=dict)
    promoted: set[int] = field(default_factory=set)
    rung_history: dict[int, list[float]] = field(default_factory=dict)
    speciator: Speciator = field(default_factory=Speciator)
    # every structure the run has tried, and each individual's novelty when it was born
    novelty: NoveltyArchive = field(default_factory=NoveltyArchive)
    novelty_of: dict[int, float] = field(default_factory=dict)

    @classmethod
    def load(cls, archive: Archive) -> Population:
        """The population a run folder holds (a resumed run continues it)."""
        pop = cls()
        for rec in archive.records(alive_only=True):
            weights = archive.weights(rec.id)
            if weights is None:
                continue
            graph = Graph.from_json(rec.graph_json)
            pop.speciator.assign(graph)
            pop.members.append(Member(rec, graph, weights))
        shapes: dict[str, Graph] = {}
        for rec in archive.records():
            if rec.origin != "promotion":  # a promotion is its parent's structure again
                if rec.structure not in shapes:  # one parse per distinct structure
                    shapes[rec.structure] = Graph.from_json(rec.graph_json)
                pop.novelty.add(shapes[rec.structure])
            pop.lineage[rec.id] = rec.parents
            if rec.origin == "promotion":
                pop.promoted.update(rec.parents)
            if rec.fitness is not None:
                pop.rung_history.setdefault(rec.rung, []).append(rec.fitness)
        for m in pop.members:  # a resumed run's living members, against all it has tried
            pop.novelty_of[m.record.id] = pop.novelty.novelty(m.graph)
        return pop

    def species_of(self, graph: Graph) -> int:
        return self.speciator.assign(graph)

    def novelty_at_birth(self, graph: Graph) -> float:
        """How far ``graph`` is from the structures tried so far; it joins them."""
        value = self.novelty.novelty(graph)
        self.novelty.add(graph)
        return value

    def finished(self, rec: Record, novelty: float = 0.0) -> None:
        """A newcomer was archived: remember its lineage, its novelty and, if scored, its
        rung's score."""
        self.lineage[rec.id] = rec.parents
        self.novelty_of[rec.id] = novelty
        if rec.status == "done" and rec.fitness is not None:
            self.rung_history.setdefault(rec.rung, []).append(rec.fitness)

    def replace(self, retire: list[Member], newcomer: Member | None) -> None:
        for m in retire:
            self.members.remove(m)
            self.novelty_of.pop(m.record.id, None)  # kept for the living only
        if newcomer is not None:
            self.members.append(newcomer)

    def find(self, individual: int) -> Member | None:
        return next((m for m in self.members if m.record.id == individual), None)
