"""The steady-state loop in process: births, aging, promotions, sibling groups, retention,
injection and resume, all against a real archive."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from openbrains.engine.graph import Graph
from openbrains.engine.run import Run, RunSettings, pareto_front
from openbrains.engine.store import Record


def xor_run(tmp: Path, **kw) -> Run:
    kw.setdefault("sibling_rate", 0.0)
    return Run(tmp / "run", RunSettings(task={"name": "xor"}, workers=0, population=6, **kw))


def test_population_ages_promotes_and_keeps_archive_consistent(tmp_path: Path) -> None:
    run = xor_run(tmp_path, sibling_rate=0.0)
    try:
        run.run(max_individuals=30)
        recs = run.archive.records()
        assert len(recs) == 30
        assert len(run.members) == 6  # aging keeps the population at its size
        alive = [r for r in recs if r.alive]
        assert {r.id for r in alive} == {m.record.id for m in run.members}
        origins = {r.origin for r in recs}
        assert {"template", "mutation", "promotion"} <= origins
        promos = [r for r in recs if r.origin == "promotion"]
        assert all(r.rung >= 1 and r.steps > run.budget(0) for r in promos)
        assert run.archive.integrity_ok()
    finally:
        run.close()


def test_sibling_groups_become_one_individual_each(tmp_path: Path) -> None:
    # templates only: a random first population can be taken over by hebbian graphs, which
    # are never batched (and which way selection goes depends on measured latency)
    run = xor_run(tmp_path, sibling_rate=1.0, siblings=3, template_fraction=1.0)
    try:
        sibs = []
        while not sibs and run.births < 80:
            run.run(max_individuals=run.births + 8)
            sibs = [r for r in run.archive.records() if "sibling" in r.detail]
        assert sibs, "no sibling group was made"
        lrs = {Graph.from_json(r.graph_json).hparams["lr"] for r in sibs}
        assert len(lrs) > 1
        assert all(run.archive.weights(r.id) for r in sibs if r.alive)
    finally:
        run.close()


def test_retention_keeps_living_front_champions_and_lineage(tmp_path: Path) -> None:
    run = xor_run(tmp_path, sibling_rate=0.0)
    try:
        run.run(max_individuals=40)

        def stored() -> set[int]:
            db = sqlite3.connect(run.archive.path)
            return {r[0] for r in db.execute("SELECT individual FROM weights")}

        before = stored()
        run.retain()
        # what an earlier pass dropped stays dropped; this pass must keep the rest of its set
        with_weights = stored() | (set(range(1, 1000)) - before)
        records = run.archive.records()
        assert {m.record.id for m in run.members} <= with_weights
        assert pareto_front([r for r in records if r.fitness is not None]) <= with_weights
        lineage, stack = set(), [run.best.id]
        parents = {r.id: r.parents for r in records}
        while stack:
            i = stack.pop()
            if i not in lineage:
                lineage.add(i)
                stack.extend(parents.get(i, []))
        assert lineage <= with_weights
        assert len(stored()) < len(records)  # something was dropped: disk stays bounded
    finally:
        run.close()


def test_injected_graph_is_trained_next_with_its_lineage(tmp_path: Path) -> None:
    run = xor_run(tmp_path)
    try:
        run.run(max_individuals=3)
        source = run.members[0]
        run.inject(source.graph, source.weights, parents=[source.record.id])
        run.run(max_individuals=4)
        hand = [r for r in run.archive.records() if r.origin == "hand"]
        assert len(hand) == 1 and hand[0].parents == [source.record.id]
    finally:
        run.close()


def test_resume_continues_ids_and_population(tmp_path: Path) -> None:
    run = xor_run(tmp_path)
    run.run(max_individuals=8)
    alive = {m.record.id for m in run.members}
    run.close()
    again = Run(tmp_path / "run", None)
    try:
        assert {m.record.id for m in again.members} == alive
        again.run(max_individuals=3)
        assert again.archive.count() == 11
    finally:
        again.close()


def test_pareto_front() -> None:
    def rec(i: int, fit: float, params: int) -> Record:
        return Record(
            id=i,
            origin="x",
            parents=[],
            graph_json="{}",
            structure="",
            status="done",
            fitness=fit,
            params=params,
        )

    recs = [
        rec(1, 0.9, 100),
        rec(2, 0.8, 50),
        rec(3, 0.85, 200),
        rec(4, 0.95, 300),
        rec(5, 0.7, 60),
    ]
    assert pareto_front(recs) == {1, 2, 4}


def _only_candidate(run: Run, rung: int, history: list[float], fitness: float | None = None) -> int:
    """Make one living member the sole promotable one, at ``rung``, with ``fitness`` (the
    best of ``history`` by default) and that rung's finishers' fitness ``history``."""
    chosen = run.members[-1]
    for m in run.members:
        run.population.promoted.add(m.record.id)
    run.population.promoted.discard(chosen.record.id)
    chosen.record.rung = rung
    chosen.record.fitness = max(history) if fitness is None else fitness
    run.population.rung_history = {rung: list(history)}
    return chosen.record.id


def test_promotion_ranks_against_every_finisher_of_the_rung_not_just_the_living(
    tmp_path: Path,
) -> None:
    run = xor_run(tmp_path)
    try:
        run.run(max_individuals=8)
        # one living member at rung 2, but three finished it: the best third is promotable
        chosen = _only_candidate(run, 2, [0.9, 0.5, 0.4])
        promo = run.breeder.promotion()
        assert promo is not None and promo.parents == (chosen,) and promo.rung == 3
        assert promo.weights and promo.steps == run.budget(3) - run.budget(2)
        # two finishers are too few to rank; a member outside the top third is not promoted
        _only_candidate(run, 2, [0.9, 0.5])
        assert run.breeder.promotion() is None
        _only_candidate(run, 1, [0.9, 0.95, 0.97], fitness=0.9)
        assert run.breeder.promotion() is None
    finally:
        run.close()


def test_without_inheritance_a_promotion_retrains_from_scratch(tmp_path: Path) -> None:
    run = xor_run(tmp_path, inherit=False, budget_steps=20)  # short budgets: promotions are 3^r×
    try:
        run.run(max_individuals=8)
        chosen = _only_candidate(run, 0, [0.9, 0.5, 0.4])
        promo = run.breeder.promotion()
        assert promo is not None and promo.parents == (chosen,) and promo.weights == b""
        assert promo.steps == run.budget(1) and promo.prior_steps == 0
        run.run(max_individuals=40)
        promos = [r for r in run.archive.records() if r.origin == "promotion"]
        trainable = [r for r in promos if r.params]  # a graph of activations has no steps
        assert trainable and all(r.steps == run.budget(r.rung) for r in trainable)
        assert all("from scratch" in r.detail for r in promos)
    finally:
        run.close()


def test_the_best_member_outlives_aging(tmp_path: Path) -> None:
    run = xor_run(tmp_path, template_fraction=0.0, budget_steps=20)
    try:
        for births in (15, 30, 45):
            run.run(max_individuals=births)
            living = {m.record.id for m in run.members}
            assert len(living) == 6
            best_living = max(run.members, key=lambda m: m.record.fitness or -1e9)
            assert run.best is not None and run.best.id == best_living.record.id
            assert run.best.id in living
    finally:
        run.close()
