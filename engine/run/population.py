"""The living population as the coordinator keeps it: members (record, graph, weights in
RAM, oldest first), the lineage of everyone, and what successive halving remembers
(who was promoted, the fitness of every finisher per rung). Torch-free; the choices made
on it are engine.run.policy's."""

from __future__ import annotations

from dataclasses import dataclass, field

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
        for rec in archive.records():
            pop.lineage[rec.id] = rec.parents
            if rec.origin == "promotion":
                pop.promoted.update(rec.parents)
            if rec.fitness is not None:
                pop.rung_history.setdefault(rec.rung, []).append(rec.fitness)
        return pop

    def species_of(self, graph: Graph) -> int:
        return self.speciator.assign(graph)

    def finished(self, rec: Record) -> None:
        """A newcomer was archived: remember its lineage and, if scored, its rung's score."""
        self.lineage[rec.id] = rec.parents
        if rec.status == "done" and rec.fitness is not None:
            self.rung_history.setdefault(rec.rung, []).append(rec.fitness)

    def replace(self, retire: list[Member], newcomer: Member | None) -> None:
        for m in retire:
            self.members.remove(m)
        if newcomer is not None:
            self.members.append(newcomer)

    def find(self, individual: int) -> Member | None:
        return next((m for m in self.members if m.record.id == individual), None)
