"""The population policy alone (engine.run.policy): selection, successive halving, aging
with one elite, the Pareto front and retention, on plain records — and it loads without
torch."""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import dataclass

from openbrains.engine.run import policy
from openbrains.engine.store import Record


def rec(
    i: int, fitness: float | None, rung: int = 0, species: int = 0, params: int = 100
) -> Record:
    return Record(
        id=i,
        origin="t",
        parents=[],
        graph_json="{}",
        structure="s",
        status="done",
        rung=rung,
        fitness=fitness,
        species=species,
        params=params,
    )


@dataclass
class M:
    record: Record


def members(*fitness: float | None, rung: int = 0) -> list[M]:
    return [M(rec(i + 1, f, rung=rung)) for i, f in enumerate(fitness)]


def test_the_policy_loads_without_torch() -> None:
    code = (
        "import sys; import openbrains.engine.run.policy, openbrains.engine.run.population, "
        "openbrains.engine.run.pace, openbrains.engine.jobs, openbrains.engine.train.genes, "
        "openbrains.engine.widening; "
        "bad = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_budgets_grow_eta_fold_per_rung() -> None:
    assert [policy.budget(100, 3, r) for r in range(4)] == [100, 300, 900, 2700]


def test_a_tournament_picks_its_best_entrant() -> None:
    pop = members(0.1, 0.9, 0.5, 0.7)
    # a tournament of the whole population always finds the best
    assert all(policy.select(pop, random.Random(s), tournament=4) is pop[1] for s in range(20))
    # of one entrant, any member can win: selection pressure comes from the size
    winners = {policy.select(pop, random.Random(s), tournament=1).record.id for s in range(200)}
    assert winners == {1, 2, 3, 4}


def test_half_the_tournaments_stay_within_one_species() -> None:
    pop = [M(rec(1, 0.9, species=1)), M(rec(2, 0.1, species=2)), M(rec(3, 0.2, species=2))]
    winners = [policy.select(pop, random.Random(s), tournament=3).record.id for s in range(400)]
    # the weak species wins only when the tournament was held inside it
    share = winners.count(3) / len(winners)
    assert 0.15 < share < 0.35 and set(winners) == {1, 3}


def test_promotion_ranks_against_every_finisher_of_a_rung() -> None:
    pop = members(0.9, 0.6, rung=2)
    history = {2: [0.9, 0.5, 0.4]}  # three finished rung 2: the best third may go on
    assert policy.promotable(pop, history, set(), eta=3, max_rung=4) is pop[0]
    assert policy.promotable(pop, history, {1}, eta=3, max_rung=4) is None  # already promoted
    assert policy.promotable(pop, {2: [0.9, 0.5]}, set(), eta=3, max_rung=4) is None  # too few
    assert policy.promotable(pop, history, set(), eta=3, max_rung=2) is None  # top rung
    # higher rungs first
    low, high = M(rec(5, 0.99, rung=0)), M(rec(6, 0.8, rung=1))
    hist = {0: [0.99, 0.5, 0.4], 1: [0.8, 0.7, 0.6]}
    assert policy.promotable([low, high], hist, set(), eta=3, max_rung=4) is high


def test_aging_retires_the_oldest_but_keeps_the_elite() -> None:
    pop = members(0.9, 0.2, 0.3)  # oldest first; the oldest is the best
    assert policy.aged_out(pop, 0.5, population=4) == []
    assert policy.aged_out(pop, 0.5, population=3) == [pop[1]]
    assert policy.aged_out(pop, 0.5, population=2) == [pop[1], pop[2]]
    # a newcomer better than the elite frees it to age out
    assert policy.aged_out(pop, 0.95, population=3) == [pop[0]]
    unscored = members(None, None)
    assert policy.aged_out(unscored, None, population=2) == [unscored[0]]


def test_champion_needs_a_score_and_to_beat_the_best() -> None:
    assert policy.is_champion(0.5, None, has_best=False)
    assert policy.is_champion(0.5, None, has_best=True)
    assert policy.is_champion(0.6, 0.5, has_best=True)
    assert not policy.is_champion(0.5, 0.5, has_best=True)
    assert not policy.is_champion(None, None, has_best=False)


def test_pareto_front_is_score_against_size() -> None:
    recs = [rec(1, 0.9, params=100), rec(2, 0.8, params=50), rec(3, 0.85, params=200)]
    recs += [rec(4, 0.95, params=300), rec(5, 0.7, params=60)]
    assert policy.pareto_front(recs) == {1, 2, 4}


def test_retention_keeps_living_front_species_champions_and_lineage() -> None:
    recs = [
        rec(1, 0.5, species=1, params=10),  # front (smallest)
        rec(2, 0.6, species=1, params=500),  # champion's grandparent
        rec(3, 0.4, species=2, params=900),  # best of species 2
        rec(4, 0.3, species=1, params=800),  # nothing
        rec(5, 0.9, species=1, params=1000),  # the champion
        rec(6, None, species=1, params=5),  # failed: only lineage could keep it
        rec(7, 0.35, species=2, params=700),  # living
    ]
    parents = {5: [8], 8: [2], 2: [6]}
    keep = policy.retained(recs, living={7}, champion=5, parents=parents)
    assert keep == {1, 2, 3, 5, 6, 7, 8}
    assert policy.lineage(5, parents) == {5, 8, 2, 6}
