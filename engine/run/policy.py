"""Population policy, pure: who breeds, who trains on, who retires, whose weights are kept.

Regularised (aging) evolution with one elite, species-aware tournaments, asynchronous
successive halving (ASHA) and the retention rule of DESIGN §3.10. Every function takes
plain values (records, members, a ``random.Random``) and returns its choice, so the
policy is tested alone, without torch or an archive (tests/engine/test_policy.py).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, TypeVar


class Standing(Protocol):
    """What the policy reads of an individual (``engine.store.Record`` has it all)."""

    id: int
    fitness: float | None
    rung: int
    species: int
    params: int


class Living(Protocol):
    """A living member as the policy sees it: its record."""

    @property
    def record(self) -> Standing: ...


M = TypeVar("M", bound=Living)


def _fit(m: Living) -> float:
    f = m.record.fitness
    return -math.inf if f is None else f


def budget(base_steps: int, eta: int, rung: int) -> int:
    """Training steps of a job at ``rung``: each rung trains ``eta`` times longer."""
    return int(base_steps * eta**rung)


def select(
    members: Sequence[M],
    rng: random.Random,
    tournament: int,
    bonus: Mapping[int, float] | None = None,
) -> M:
    """Tournament; half the time within one random species, which shields new structure.
    ``bonus`` (by id) is added to fitness for the contest: the weighed novelty objective."""
    pool = list(members)
    if rng.random() < 0.5:
        species = sorted({m.record.species for m in pool})
        chosen = rng.choice(species)
        pool = [m for m in pool if m.record.species == chosen]
    entrants = rng.sample(pool, min(tournament, len(pool)))
    if not bonus:
        return max(entrants, key=_fit)
    return max(entrants, key=lambda m: _fit(m) + bonus.get(m.record.id, 0.0))


def template_share(base: float, index: int, half_life: int) -> float:
    """The chance that a fresh graph is a template: ``base`` at the start of a run,
    halving every ``half_life`` individuals (0: never falls), so templates stay one seed
    among others while a run ages into its own structures."""
    if half_life <= 0:
        return base
    return base * 0.5 ** (index / half_life)


def template_total(base: float, n: int, half_life: int) -> float:
    """How many of the first ``n`` fresh graphs are templates on average: the sum of
    ``template_share`` over indices 0 … n − 1."""
    if half_life <= 0:
        return base * n
    r = 0.5 ** (1 / half_life)
    return base * (1 - r**n) / (1 - r)


def is_template(base: float, index: int, half_life: int, offset: float) -> bool:
    """Whether fresh graph ``index`` is a template: systematic sampling of
    ``template_share``, so any stretch of births holds its expected number of templates
    to within one. ``offset`` in [0, 1) is the run's own draw. A coin per birth let seed 1
    of the digits bench start with 2 templates in 16 births (6.25 expected) and spend its
    first minute on random graphs (docs/decisions.md, session 19)."""
    before = math.floor(offset + template_total(base, index, half_life))
    return math.floor(offset + template_total(base, index + 1, half_life)) > before


def promotable(
    members: Sequence[M],
    rung_history: Mapping[int, Sequence[float]],
    promoted: set[int],
    eta: int,
    max_rung: int,
) -> M | None:
    """Successive halving, asynchronously (ASHA): the best unpromoted living member of a
    rung, if it is in the top 1/eta of *every* individual that ever finished that rung —
    not just of the living ones: a rung's few survivors are otherwise never enough to
    promote, and good brains age out unpromoted. Higher rungs first."""
    for rung in range(max_rung - 1, -1, -1):
        history = sorted(rung_history.get(rung, []), reverse=True)
        if len(history) < eta:
            continue
        threshold = history[len(history) // eta - 1]
        ready = [
            m
            for m in members
            if m.record.rung == rung
            and m.record.fitness is not None
            and m.record.fitness >= threshold
            and m.record.id not in promoted
        ]
        if ready:
            return max(ready, key=_fit)
    return None


def aged_out(members: Sequence[M], newcomer_fitness: float | None, population: int) -> list[M]:
    """Who leaves to make room for a newcomer: the oldest first (aging evolution), except
    the best living member, which stays until someone beats it. Without that one elite
    the best lineage can age out before its rung has enough finishers to promote it,
    and with inheritance on the population then drifts into a low-learning-rate
    lineage that training no longer improves (seen on digits: stuck at 0.8
    validation for 400 evaluations). ``members`` are oldest first."""
    alive_after = len(members) + 1
    if alive_after <= population:
        return []
    ranked = [m for m in members if m.record.fitness is not None]
    elite = max(ranked, key=_fit, default=None)
    if elite is not None and (newcomer_fitness or -math.inf) > _fit(elite):
        elite = None  # the newcomer is the new best; the old one may age out
    retire = []
    for m in members:
        if alive_after <= population:
            break
        if m is not elite:
            retire.append(m)
            alive_after -= 1
    return retire


def is_champion(fitness: float | None, best_fitness: float | None, has_best: bool) -> bool:
    """Whether a newcomer with ``fitness`` becomes the champion."""
    if fitness is None:
        return False
    return not has_best or best_fitness is None or fitness > best_fitness


def pareto_front(records: Iterable[Standing]) -> set[int]:
    """Ids not dominated on (higher fitness, fewer parameters)."""
    front: set[int] = set()
    best_fit = -math.inf
    for r in sorted(records, key=lambda r: (r.params, -(r.fitness or -math.inf))):
        if (r.fitness or -math.inf) > best_fit:
            front.add(r.id)
            best_fit = r.fitness or -math.inf
    return front


def lineage(start: int, parents: Mapping[int, Sequence[int]]) -> set[int]:
    """``start`` and all its ancestors."""
    seen: set[int] = set()
    stack = [start]
    while stack:
        i = stack.pop()
        if i not in seen:
            seen.add(i)
            stack.extend(parents.get(i, []))
    return seen


def retained(
    records: Sequence[Standing],
    living: set[int],
    champion: int | None,
    parents: Mapping[int, Sequence[int]],
) -> set[int]:
    """Whose weights the archive keeps (DESIGN §3.10): the living, the Pareto front (score
    vs size), each species' champion and the champion's lineage."""
    scored = [r for r in records if r.fitness is not None]
    keep = set(living) | pareto_front(scored)
    best_by_species: dict[int, Standing] = {}
    for r in scored:
        cur = best_by_species.get(r.species)
        if cur is None or (r.fitness or -math.inf) > (cur.fitness or -math.inf):
            best_by_species[r.species] = r
    keep |= {r.id for r in best_by_species.values()}
    if champion is not None:
        keep |= lineage(champion, parents)
    return keep
