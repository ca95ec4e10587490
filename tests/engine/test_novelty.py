"""Less template, more exploration (issue #18): structural novelty blind to uids, the
template test, the template share falling as a run ages, novelty weighed in tournaments."""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import dataclass

from openbrains.engine.evolve.novelty import (
    TEMPLATE_UNITS,
    NoveltyArchive,
    distance,
    signature,
    template_like,
)
from openbrains.engine.evolve.random import SizeBounds, random_graph
from openbrains.engine.evolve.templates import template_graph
from openbrains.engine.graph import Graph
from openbrains.engine.run import policy
from openbrains.engine.store import Record
from tests.engine.specs import MODALITIES

BOUNDS = SizeBounds(max_nodes=8, max_width=32)


def template(i: int, kind: str) -> Graph:
    ins, outs = MODALITIES[kind]
    return template_graph(random.Random(i), ins, outs, BOUNDS, causal=False)


def randomly(i: int, kind: str) -> Graph:
    ins, outs = MODALITIES[kind]
    return random_graph(random.Random(i), ins, outs, BOUNDS)


def test_novelty_loads_without_torch_so_the_canvas_can_use_it() -> None:
    code = (
        "import sys, openbrains.engine.evolve.novelty; "
        "bad = [m for m in sys.modules if m == 'torch' or m.startswith('torch.')]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_every_template_is_template_like_and_built_of_template_units() -> None:
    for kind in MODALITIES:
        for i in range(30):
            g = template(i, kind)
            units = {n.unit for n in g.nodes.values()} - {"input", "output"}
            assert units <= TEMPLATE_UNITS, (kind, units - TEMPLATE_UNITS)
            assert template_like(g), (kind, i)


def test_a_branch_or_a_research_unit_is_not_template_like() -> None:
    g = template(0, "vector")
    hidden = [u for u, n in g.nodes.items() if n.unit not in ("input", "output")]
    branched = g.copy()
    extra = branched.add_node("dense", {"width": 4}, rng=random.Random(1))
    branched.connect(hidden[0], extra.uid, rng=random.Random(2))
    out = next(u for u, n in branched.nodes.items() if n.unit == "output")
    branched.connect(extra.uid, out, rng=random.Random(3))
    assert not template_like(branched)
    swapped = g.copy()
    swapped.nodes[hidden[0]].unit = "kan"
    assert not template_like(swapped)
    empty = Graph()
    assert not template_like(empty)


def test_signature_ignores_uids_and_widths_but_not_structure() -> None:
    a = template(3, "vector")
    b = template(3, "vector")
    for uid in list(b.nodes):  # same shape, other widths: distance 0
        if "width" in b.nodes[uid].params:
            b.nodes[uid].params["width"] += 5
    assert distance(signature(a), signature(b)) == 0.0
    c = randomly(11, "vector")
    d = distance(signature(a), signature(c))
    assert 0.0 < d <= 1.0
    assert distance(signature(c), signature(a)) == d  # symmetric


def test_novelty_is_the_mean_distance_to_the_k_nearest_tried_individuals() -> None:
    archive = NoveltyArchive(k=4)
    tried = [template(i % 3, "vector") for i in range(3)] + [
        randomly(i, "vector") for i in range(9)
    ]
    for g in tried:
        archive.add(g)
    for probe in (randomly(50, "vector"), template(7, "vector"), randomly(51, "image")):
        gaps = sorted(distance(signature(probe), signature(g)) for g in tried)
        assert abs(archive.novelty(probe) - sum(gaps[:4]) / 4) < 1e-12


def test_the_archive_forgets_its_oldest_structures_beyond_its_limit() -> None:
    archive = NoveltyArchive(limit=3)
    shapes = [
        template(0, "image"),
        randomly(1, "vector"),
        randomly(2, "audio"),
        randomly(3, "text"),
    ]
    for g in shapes:
        archive.add(g)
    assert len(archive.seen) == 3
    assert frozenset(signature(shapes[0]).items()) not in archive.seen  # the oldest went
    assert frozenset(signature(shapes[3]).items()) in archive.seen


def test_novelty_is_high_for_a_new_shape_and_falls_as_it_repeats() -> None:
    archive = NoveltyArchive(k=3)
    assert archive.novelty(template(0, "image")) == 1.0  # nothing tried yet
    for i in range(6):
        archive.add(template(i, "image"))
    assert len(archive) == 6
    again = archive.novelty(template(0, "image"))
    other = archive.novelty(randomly(5, "text_classify"))
    assert again < 0.2 and other > 0.5, (again, other)
    assert again < other


def test_the_template_share_halves_every_half_life() -> None:
    assert policy.template_share(0.4, 0, 100) == 0.4
    assert abs(policy.template_share(0.4, 100, 100) - 0.2) < 1e-12
    assert abs(policy.template_share(0.4, 300, 100) - 0.05) < 1e-12
    assert policy.template_share(0.4, 10_000, 0) == 0.4  # 0: never falls


@dataclass
class M:
    record: Record


def _member(i: int, fitness: float) -> M:
    return M(Record(i, "t", [], "{}", "s", "done", fitness=fitness))


def test_novelty_weighed_in_a_tournament_can_beat_a_slightly_better_score() -> None:
    pop = [_member(1, 0.90), _member(2, 0.88)]
    plain = {policy.select(pop, random.Random(s), 2).record.id for s in range(30)}
    assert plain == {1}
    novel = {2: 0.5 * 0.8, 1: 0.5 * 0.05}  # weight 0.5, novelty 0.8 against 0.05
    weighed = {policy.select(pop, random.Random(s), 2, novel).record.id for s in range(30)}
    assert weighed == {2}


# ----- in a real run (xor, trained in-process) ---------------------------------------------
def test_a_run_reports_each_births_novelty_and_a_resumed_run_knows_it(tmp_path) -> None:
    from openbrains.engine.run import Run, RunSettings

    events: list[dict] = []
    settings = RunSettings(
        task={"name": "xor"}, workers=0, population=5, sibling_rate=0.0, novelty_weight=0.5
    )
    run = Run(
        tmp_path / "run",
        settings,
        on_event=lambda k, d: events.append(d) if k == "individual" else None,
    )
    try:
        run.run(max_individuals=12)
        values = [e["novelty"] for e in events]
        assert len(values) == 12 and all(0.0 <= v <= 1.0 for v in values)
        assert values[0] == 1.0  # the first structure is new by definition
        tried = sum(1 for r in run.archive.records() if r.origin != "promotion")
        assert len(run.population.novelty) == tried  # a promotion is no new structure
        living = {m.record.id for m in run.members}
        assert set(run.population.novelty_of) == living  # remembered for the living only
    finally:
        run.close()
    again = Run(tmp_path / "run", None)
    try:
        assert len(again.population.novelty) == tried  # the archive's structures, reloaded
        assert set(again.population.novelty_of) == living
        assert again.settings.novelty_weight == 0.5
    finally:
        again.close()


def test_fresh_graphs_are_templates_less_often_as_the_run_ages(tmp_path) -> None:
    from openbrains.engine.run import Run, RunSettings

    settings = RunSettings(
        task={"name": "xor"}, workers=0, template_fraction=0.8, template_half_life=20
    )
    run = Run(tmp_path / "run", settings)
    try:
        early = [run.breeder.fresh(i).origin for i in range(1, 41)]
        late = [run.breeder.fresh(i).origin for i in range(200, 240)]
    finally:
        run.close()
    assert early.count("template") > 12  # about 0.8 · 0.5^(i/20) averaged: ~0.55
    assert late.count("template") <= 2  # 0.8 · 0.5^10: about 0.001


def test_under_a_tight_bound_templates_keep_their_share_of_fresh_graphs(tmp_path) -> None:
    """A digits template never fits 500 parameters until it is shrunk; a random graph
    usually fits at once. The share is decided once per birth, so the shrunk template is
    not outrun by random draws (before, one template in forty births)."""
    from openbrains.engine.run import Run, RunSettings

    settings = RunSettings(
        task={"name": "digits"},
        workers=0,
        max_params=500,
        template_fraction=0.5,
        template_half_life=0,
    )
    run = Run(tmp_path / "run", settings)
    try:
        births = [run.breeder.fresh(i) for i in range(1, 41)]
        fits = [run.breeder.fits(b.graph) for b in births]
    finally:
        run.close()
    origins = [b.origin for b in births]
    assert all(fits)
    assert 10 <= origins.count("template") <= 30  # 0.5 of 40: 20 ± 3.2
