"""Making the next individual (a ``Birth``): a hand-made graph first, then the initial
population (the project's seeds and their mutations, or a conventional graph, templates
and random graphs), then, in the steady state, a promotion every ``promote_every`` births
or a child of a tournament's winner (mutation, sometimes crossover)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from openbrains.engine.compile import bind_io, compile_graph
from openbrains.engine.errors import GraphError, OpenBrainsError
from openbrains.engine.evolve.crossover import crossover
from openbrains.engine.evolve.mutate import mutate
from openbrains.engine.evolve.random import SizeBounds, random_graph
from openbrains.engine.evolve.templates import is_board, template_graph
from openbrains.engine.exporters.budget import DeviceGate
from openbrains.engine.graph import Graph
from openbrains.engine.jobs import Birth
from openbrains.engine.run import policy
from openbrains.engine.run.population import Member, Population
from openbrains.engine.run.settings import RunSettings
from openbrains.engine.train import genes
from openbrains.engine.views import task_views, with_views
from openbrains.engine.weights import decode_weights, encode_weights

BREED_TRIES = 10  # children that exceed the size bound are drawn again this often
FRESH_TRIES = 40
SHRINK_AFTER = FRESH_TRIES // 4  # template draws before one is shrunk to the bound
PROBES_FILE = "probes.safetensors"  # a continued run's old-task probes, in the seeds folder


class Breeder:
    def __init__(
        self,
        settings: RunSettings,
        task: Any,
        bounds: SizeBounds,
        rng: random.Random,
        population: Population,
        seeds_dir: Path,
        budget: Callable[[int], int],
        device: DeviceGate | None = None,
    ) -> None:
        self.settings = settings
        self.task = task
        self.bounds = bounds
        self.rng = rng
        self.population = population
        self.seeds_dir = seeds_dir
        self._probes: bytes | None = None
        self.budget = budget
        self.device = device  # every candidate's C build must fit it (--device-budget)
        self.injections: list[Birth] = []
        # the run's phase of the template draw (policy.is_template): the same on a resume
        self.template_offset = random.Random(settings.seed).random()
        self.views = task_views(task)  # image inputs that answer with views, by name

    @property
    def members(self) -> list[Member]:
        return self.population.members

    def next(self, births: int, archived: int, inflight: int) -> Birth:
        """The next individual to train, given how many were born (this session), are in
        the archive and are in flight; an image brain answers with views where the task
        says so (engine.views), whatever graph it came from."""
        birth = self._next(births, archived, inflight)
        graph = with_views(birth.graph, self.views)
        return birth if graph is birth.graph else replace(birth, graph=graph)

    def _next(self, births: int, archived: int, inflight: int) -> Birth:
        if self.injections:
            return self.injections.pop(0)
        if len(self.members) + inflight < self.settings.population:
            return self.fresh(archived + inflight)
        if births and births % self.settings.promote_every == 0:
            promo = self.promotion()
            if promo is not None:
                return promo
        return self.breed()

    # ----- the initial population -------------------------------------------------------
    def fresh(self, index: int) -> Birth:
        """The project's seed graphs and their mutations, or (with no seed) a conventional
        graph first, then templates and random graphs."""
        t = self.task
        seeds = self.settings.seeds
        if index < len(seeds):
            return Birth(Graph.from_json(seeds[index]), self.seed_weights(index), origin="seed")
        if seeds:
            pick = self.rng.randrange(len(seeds))
            graph, tensors = Graph.from_json(seeds[pick]), decode_weights(self.seed_weights(pick))
            details = []
            for _ in range(self.rng.randint(1, 2)):
                for _try in range(BREED_TRIES):  # one that outgrows --max-params is redrawn
                    m = mutate(graph, tensors, self.rng, self.bounds)
                    if self.fits(m.graph):
                        graph, tensors = m.graph, m.weights
                        details.append(m.detail)
                        break
            if self.device is not None and not self.fits(graph):  # the seed itself fits
                return Birth(Graph.from_json(seeds[pick]), self.seed_weights(pick), origin="seed")
            return Birth(
                graph,
                self._inherited(tensors),
                origin="seed-mutation",
                mutation="seed mutation",
                detail="; ".join(details),
            )
        # the very first graph is a conventional one, so a run always starts somewhere sane;
        # after it a birth is a template with the run's template share, decided once per
        # birth. Deciding on every draw let a random graph that fits win against a template
        # that is shrunk only later: under a tight bound (MNIST ≤ 1,000 parameters) the
        # first population was one template and fifteen random graphs, so the whole search
        # grew from one template and its one draw of training genes (docs/decisions.md,
        # session 16). Which births are templates is spread evenly (session 19).
        templated = index == 0 or policy.is_template(
            self.settings.template_fraction,
            index,
            self.settings.template_half_life,
            self.template_offset,
        )
        for attempt in range(FRESH_TRIES):
            # A template is drawn again while it is too big for the size bound; after
            # SHRINK_AFTER draws it is shrunk to fit (narrower layers, a global average
            # head). Shrinking at once made digits' first graphs worse than a redraw
            # (docs/decisions.md, session 10). The last tries are random graphs.
            shrink = attempt >= SHRINK_AFTER
            late = attempt >= FRESH_TRIES * 3 // 4
            if templated and not late:
                g = template_graph(
                    self.rng,
                    t.inputs,
                    t.outputs,
                    self.bounds,
                    t.causal,
                    fits=self.fits if shrink else None,
                    board=is_board(t),
                )
                origin = "template"
            else:
                g = random_graph(self.rng, t.inputs, t.outputs, self.bounds, t.causal)
                origin = "random"
            g.hparams = genes.first(self.rng, getattr(t, "kind", None))
            if self.fits(g):
                break
        if self.device is not None and not self.fits(g):  # the budget is a hard limit
            small = self.device.smallest(t)
            small.hparams = g.hparams
            g, origin = small, "template"
        return Birth(g, origin=origin)

    def seed_weights(self, index: int) -> bytes:
        path = self.seeds_dir / f"{index}.safetensors"
        return path.read_bytes() if path.exists() else b""

    def save_seed_weights(self, weights: list[bytes]) -> None:
        """Keep the project's seed weights beside the archive (written once, at creation)."""
        self.seeds_dir.mkdir(exist_ok=True)
        for i, data in enumerate(weights):
            path = self.seeds_dir / f"{i}.safetensors"
            if data and not path.exists():
                tmp = path.with_suffix(".tmp")
                tmp.write_bytes(data)
                tmp.replace(path)

    def seed_probes(self) -> bytes:
        """The old tasks' probes of a continued run (``b""``: none)."""
        if self._probes is None:
            path = self.seeds_dir / PROBES_FILE
            self._probes = path.read_bytes() if path.exists() else b""
        return self._probes

    def save_seed_probes(self, probes: bytes) -> None:
        """Keep a continued run's probes beside its seed weights (written once)."""
        self.seeds_dir.mkdir(exist_ok=True)
        path = self.seeds_dir / PROBES_FILE
        if probes and not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(probes)
            tmp.replace(path)
        self._probes = None

    # ----- the steady state -------------------------------------------------------------
    def breed(self) -> Birth:
        """A child of a tournament's winner: crossover with another winner at
        ``crossover_rate``, else a mutation; drawn again while it exceeds the size bound."""
        s = self.settings
        child, kept = None, {}
        for _ in range(BREED_TRIES):
            a = policy.select(self.members, self.rng, s.tournament, self._bonus())
            if len(self.members) > 1 and self.rng.random() < s.crossover_rate:
                b = policy.select(self.members, self.rng, s.tournament, self._bonus())
                if b is not a:
                    g, w, detail = crossover(
                        a.graph,
                        decode_weights(a.weights),
                        a.record.fitness or -math.inf,
                        b.graph,
                        decode_weights(b.weights),
                        b.record.fitness or -math.inf,
                        self.rng,
                    )
                    if self.fits(g):
                        return Birth(
                            g,
                            self._inherited(w),
                            origin="crossover",
                            parents=(a.record.id, b.record.id),
                            mutation="crossover",
                            detail=detail,
                        )
                    continue
            child, kept = self._mutant(a)
            if self.fits(child.graph):
                break
        if child is None:  # every try was a crossover too big to train: mutate instead
            a = policy.select(self.members, self.rng, s.tournament, self._bonus())
            child, kept = self._mutant(a)
        if not self.fits(child.graph):  # nothing bred fits: the parent retrains (a hard limit)
            return self._clone(child)
        return replace(child, weights=self._inherited(kept))

    def _clone(self, child: Birth) -> Birth:
        """The parent of ``child`` again, when no child fitted --max-params or the device
        budget."""
        parent = next(m for m in self.members if m.record.id == child.parents[0])
        return Birth(
            parent.graph.copy(),
            self._inherited(decode_weights(parent.weights)),
            origin="mutation",
            parents=(parent.record.id,),
            mutation="clone",
            detail="no child fitted the device budget"
            if self.device is not None
            else f"no child fitted within {self.bounds.max_params} parameters",
        )

    def _mutant(self, parent: Member) -> tuple[Birth, dict[str, Any]]:
        m = mutate(parent.graph, decode_weights(parent.weights), self.rng, self.bounds)
        birth = Birth(
            m.graph,
            origin="mutation",
            parents=(parent.record.id,),
            mutation=m.name,
            detail=m.detail,
            preserving=m.preserving,
        )
        return birth, dict(m.weights)

    def promotion(self) -> Birth | None:
        """The best promotable member trains on for the next rung's budget (ASHA,
        engine.run.policy.promotable): it continues its weights, or with ``inherit`` off
        retrains from fresh weights for the whole budget (nothing learned carried over)."""
        s = self.settings
        m = policy.promotable(
            self.members, self.population.rung_history, self.population.promoted, s.eta, s.max_rung
        )
        if m is None:
            return None
        self.population.promoted.add(m.record.id)
        rung = m.record.rung
        if not s.inherit:
            full = self.budget(rung + 1)
            steps, weights, prior = full, b"", 0
            detail = f"trains {full} steps from scratch"
        else:
            steps = self.budget(rung + 1) - self.budget(rung)
            weights, prior = m.weights, m.record.steps
            detail = f"trains {steps} more steps"
        return Birth(
            m.graph.copy(),
            weights,
            origin="promotion",
            parents=(m.record.id,),
            mutation="promotion",
            detail=f"{detail} (rung {rung + 1})",
            rung=rung + 1,
            steps=steps,
            prior_steps=prior,
        )

    def inject(self, graph: Graph, weights: bytes, parents: list[int], detail: str) -> None:
        """A hand-made graph is trained next, like any child."""
        self.injections.append(
            Birth(
                graph.copy(),
                weights,
                origin="hand",
                parents=tuple(parents),
                mutation="hand edit",
                detail=detail,
            )
        )

    # ----- helpers ----------------------------------------------------------------------
    def _bonus(self) -> dict[int, float]:
        """The novelty objective, as weighed by the user (nothing when the weight is 0)."""
        w = self.settings.novelty_weight
        if w <= 0:
            return {}
        novelty = self.population.novelty_of
        return {m.record.id: w * novelty.get(m.record.id, 0.0) for m in self.members}

    def fits(self, graph: Graph) -> bool:
        try:
            small = compile_graph(graph).param_count() <= self.bounds.max_params
        except GraphError:
            return False
        return small and (self.device is None or self.device.fits(graph))

    def _inherited(self, weights: dict[str, Any]) -> bytes:
        return encode_weights(weights) if self.settings.inherit and weights else b""


def fit_seed(graph_json: str, task: Any) -> str:
    """A seed graph with its input/output nodes set to the task's signals (adapters in the
    graph absorb the difference); names must match."""
    graph = Graph.from_json(graph_json)
    if sorted(graph.input_names) != sorted(task.inputs) or sorted(graph.output_names) != sorted(
        task.outputs
    ):
        raise OpenBrainsError(
            f"the seed graph has inputs {sorted(graph.input_names)} and outputs "
            f"{sorted(graph.output_names)}, but task {task.name!r} gives inputs "
            f"{sorted(task.inputs)} and expects outputs {sorted(task.outputs)}"
        )
    graph = bind_io(graph, task.inputs, task.outputs)
    graph.causal = graph.causal or task.causal
    graph.validate()
    return graph.to_json().decode()
