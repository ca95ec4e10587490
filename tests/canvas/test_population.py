"""Population view, plots, run bar and thumbnails as real widgets (offscreen Qt, pytest-qt).

Graphs are built as plain data (no unit registry, so no torch): the canvas only ever sees
graph JSON and summary dicts, exactly as the engine sends them.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage

from openbrains.canvas.plots import PlotsView, pareto_front
from openbrains.canvas.population import PopulationView
from openbrains.canvas.runbar import RunBar
from openbrains.canvas.thumbnail import cache_size, clear_cache, render_thumbnail
from openbrains.engine.graph import Graph

ROOT = Path(__file__).resolve().parents[2]
HIDDEN = ["dense", "conv1d", "gru", "attention", "layernorm", "activation", "sum", "pool"]


# ----- helpers ---------------------------------------------------------------------------
def graph_json(n_hidden: int, seed: int = 0, branchy: bool = False) -> str:
    """A random DAG input → hidden… → output, as the engine would send it."""
    rng = random.Random(seed)
    nodes: list[dict[str, Any]] = [{"uid": "in", "unit": "input", "params": {"name": "x"}}]
    edges: list[dict[str, Any]] = []
    ids = ["in"]
    for i in range(n_hidden):
        uid = f"h{i}"
        nodes.append({"uid": uid, "unit": rng.choice(HIDDEN), "params": {}})
        parents = rng.sample(ids, min(len(ids), 2 if branchy else 1)) if branchy else [ids[-1]]
        for p in parents:
            edges.append({"uid": f"e{len(edges)}", "src": p, "dst": uid})
        ids.append(uid)
    nodes.append({"uid": "out", "unit": "output", "params": {"name": "y"}})
    edges.append({"uid": f"e{len(edges)}", "src": ids[-1], "dst": "out"})
    g = Graph.from_dict({"nodes": nodes, "edges": edges})  # validates structure
    return g.to_json().decode()


def summary(ind: int, fitness: float | None, **kw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": ind,
        "origin": "mutation",
        "parents": [max(0, ind - 1)],
        "status": "done",
        "metric": "acc",
        "score": fitness,
        "test_score": None if fitness is None else fitness - 0.01,
        "fitness": fitness,
        "params": 1000 + ind,
        "species": ind % 3,
        "mutation": "add dense",
        "detail": "",
        "rung": 0,
        "steps": 200,
        "graph": graph_json(1 + ind % 5, seed=ind),
    }
    d.update(kw)
    return d


def opaque_pixels(img: QImage) -> int:
    return sum(
        1
        for y in range(0, img.height(), 2)
        for x in range(0, img.width(), 2)
        if img.pixelColor(x, y).alpha() > 0
    )


@pytest.fixture
def population(qtbot: Any) -> PopulationView:
    view = PopulationView()
    qtbot.addWidget(view)
    view.resize(760, 560)
    view.set_metric("acc")
    view.show()
    qtbot.waitExposed(view)
    return view


@pytest.fixture
def plots(qtbot: Any) -> PlotsView:
    view = PlotsView()
    qtbot.addWidget(view)
    view.resize(1100, 320)
    view.show()
    qtbot.waitExposed(view)
    return view


# ----- layering --------------------------------------------------------------------------
def test_canvas_modules_do_not_import_torch() -> None:
    code = (
        "import sys, openbrains.canvas.thumbnail, openbrains.canvas.population, openbrains.canvas.plots, openbrains.canvas.runbar\n"
        "bad = sorted(m for m in sys.modules if m == 'torch' or m.startswith(('torch.', 'openbrains.nodes')))\n"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


# ----- thumbnails ------------------------------------------------------------------------
def test_thumbnail_is_drawn_and_differs_by_topology(qapp: Any) -> None:
    clear_cache()
    chain = render_thumbnail(graph_json(3, seed=1), (160, 100))
    branchy = render_thumbnail(graph_json(9, seed=2, branchy=True), (160, 100))
    assert (chain.width(), chain.height()) == (160, 100)
    assert opaque_pixels(chain) > 60
    assert opaque_pixels(branchy) > opaque_pixels(chain)
    assert chain != branchy
    # cached by content: the same JSON gives the same image without drawing again
    n = cache_size()
    again = render_thumbnail(graph_json(3, seed=1), (160, 100))
    assert again == chain and cache_size() == n
    # high-DPI rendering is sharper, not bigger on screen
    hi = render_thumbnail(graph_json(3, seed=1), (160, 100), dpr=2.0)
    assert (hi.width(), hi.height()) == (320, 200) and hi.devicePixelRatio() == 2.0


def test_thumbnail_of_broken_json_is_a_placeholder(qapp: Any) -> None:
    img = render_thumbnail('{"nodes": "nope"}', (120, 80))
    assert (img.width(), img.height()) == (120, 80)
    assert opaque_pixels(img) > 0


# ----- population view -------------------------------------------------------------------
def test_population_adds_updates_and_retires(population: PopulationView) -> None:
    for i, f in enumerate([0.5, 0.9, 0.7], start=1):
        population.add_individual(summary(i, f))
    assert population.count() == 3
    assert population.ids() == [2, 3, 1]  # best first

    population.add_individual(summary(1, 0.95))  # the same id again: updated in place
    assert population.count() == 3
    assert population.entry(1).data["score"] == 0.95
    assert population.ids()[0] == 1

    population.add_individual(summary(4, 0.6, retired=[2, 3]))
    assert sorted(population.ids()) == [1, 4]
    population.add_individual(summary(5, None, status="failed"))
    assert population.count() == 2  # failures never join the population
    population.remove([4])
    assert population.ids() == [1] and population.count() == 1
    assert "1 alive" in population.count_label.text()


def test_population_sorts_by_each_key(population: PopulationView) -> None:
    rows = [(1, 0.80, 5000, 2), (2, 0.95, 900, 1), (3, 0.60, 120, 2), (4, 0.90, 70000, 0)]
    population.set_population([summary(i, f, params=p, species=s) for i, f, p, s in rows])
    assert population.count() == 4
    assert population.ids() == [2, 4, 1, 3]
    population.set_sort_key("params")
    assert population.ids() == [3, 2, 1, 4]
    population.set_sort_key("age")
    assert population.ids() == [4, 3, 2, 1]
    population.set_sort_key("species")
    assert population.ids() == [4, 2, 1, 3]  # species 0, 1, then 2 best first
    # new arrivals land in their sorted place
    population.add_individual(summary(5, 0.99, params=10, species=1))
    assert population.ids() == [4, 5, 2, 1, 3]
    # the combo box drives the same thing
    population.sort_box.setCurrentIndex(population.sort_box.findData("score"))
    assert population.sort_key() == "score"
    assert population.ids() == [5, 2, 4, 1, 3]


def test_population_order_survives_random_updates(population: PopulationView) -> None:
    rng = random.Random(3)
    population.set_keep_history(True)
    fitness: dict[int, float] = {}
    for step in range(400):
        op = rng.random()
        if op < 0.5 or not fitness:
            ind = rng.randint(1, 60)
            fitness[ind] = rng.choice([0.1, 0.5, 0.9, rng.random()])  # ties too
            population.add_individual(summary(ind, fitness[ind], params=rng.randint(1, 50)))
        elif op < 0.8:
            gone = rng.sample(sorted(fitness), min(len(fitness), rng.randint(1, 3)))
            population.remove(gone)
        else:
            population.set_keep_history(rng.random() < 0.5)
        if step % 50 == 0:
            population.set_sort_key(rng.choice(["score", "params", "age", "species"]))
        model = population.model
        assert model.keys == sorted(model.keys)
        assert {e.id: i for i, e in enumerate(model.entries)} == model.rows
    population.set_sort_key("score")
    living = [e for e in population.model.entries if not e.retired]
    assert [e.id for e in living] == sorted(
        (e.id for e in living), key=lambda i: (-fitness[i], population.entry(i).params, i)
    )


def test_population_lower_is_better_metric_sorts_by_fitness(population: PopulationView) -> None:
    population.set_metric("bpc")
    population.set_population(
        [summary(i, -bpc, score=bpc, metric="bpc") for i, bpc in [(1, 2.5), (2, 1.9), (3, 3.1)]]
    )
    assert population.ids() == [2, 1, 3]  # fewest bits per character first


def test_population_marks_the_champion(population: PopulationView) -> None:
    population.set_population([summary(i, 0.5 + i / 10) for i in range(1, 4)])
    population.mark_champion(2)
    assert [population.entry(i).champion for i in (1, 2, 3)] == [False, True, False]
    population.add_individual(summary(4, 0.99, champion=True))
    assert population.champion == 4
    assert [population.entry(i).champion for i in (1, 2, 3, 4)] == [False, False, False, True]
    assert "champion" in population.model.data(
        population.model.index(population.ids().index(4)), Qt.ItemDataRole.ToolTipRole
    )


def test_population_click_emits_individual_activated(
    population: PopulationView, qtbot: Any
) -> None:
    population.set_population([summary(i, 0.5 + i / 10) for i in range(1, 6)])
    rect = population.card_rect(3)
    assert rect.isValid()
    with qtbot.waitSignal(population.individualActivated, timeout=2000) as blocker:
        qtbot.mouseClick(population.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [3]
    assert population.current_id() == 3


def test_population_follow_champion_checkbox(population: PopulationView, qtbot: Any) -> None:
    with qtbot.waitSignal(population.followChampionChanged, timeout=2000) as blocker:
        qtbot.mouseClick(population.follow_box, Qt.MouseButton.LeftButton)
    assert blocker.args == [True]
    population.set_population([summary(i, 0.5) for i in range(1, 4)])
    population.mark_champion(2)  # following: the new champion is selected
    assert population.current_id() == 2
    with qtbot.assertNotEmitted(population.followChampionChanged):
        population.set_follow_champion(False)
    assert not population.follow_box.isChecked()


def test_population_history_keeps_retired_dimmed(population: PopulationView) -> None:
    population.set_keep_history(True)
    population.set_population([summary(i, 0.5 + i / 10) for i in range(1, 4)])
    population.add_individual(summary(4, 0.1, retired=[3]))
    assert population.count() == 4 and population.living_count() == 3
    assert population.entry(3).retired
    assert population.ids()[-1] == 3  # retired ones after the living
    population.set_keep_history(False)
    assert sorted(population.ids()) == [1, 2, 4]


def chain_json(units: list[str]) -> str:
    nodes: list[dict[str, Any]] = [{"uid": "in", "unit": "input", "params": {"name": "x"}}]
    nodes += [{"uid": f"h{i}", "unit": u, "params": {}} for i, u in enumerate(units)]
    nodes.append({"uid": "out", "unit": "output", "params": {"name": "y"}})
    ids = [n["uid"] for n in nodes]
    edges = [
        {"uid": f"e{i}", "src": a, "dst": b} for i, (a, b) in enumerate(itertools.pairwise(ids))
    ]
    return Graph.from_dict({"nodes": nodes, "edges": edges}).to_json().decode()


def band_pixel(population: PopulationView, ind: int) -> tuple[int, int, int]:
    rect = population.card_rect(ind)
    img = population.list.viewport().grab().toImage()
    c = img.pixelColor(rect.left() + 4, rect.center().y())
    return c.red(), c.green(), c.blue()


def test_population_colours_cards_by_species_or_template_and_novel(
    population: PopulationView, qtbot: Any
) -> None:
    from openbrains.canvas.theme import color
    from openbrains.canvas.thumbnail import species_color

    population.set_population(
        [
            summary(1, 0.9, species=1, graph=chain_json(["conv1d", "gru", "dense"])),
            summary(2, 0.8, species=2, graph=chain_json(["ssm", "kan"]), novelty=0.61),
        ]
    )
    assert population.entry(1).template_like is True
    assert population.entry(2).template_like is False
    plain = band_pixel(population, 1)
    population.colour_box.setCurrentIndex(population.colour_box.findData("novelty"))
    assert population.colour_mode == "novelty"
    grey, violet = color("template_like"), color("novel")
    assert band_pixel(population, 1) == (grey.red(), grey.green(), grey.blue()) != plain
    assert band_pixel(population, 2) == (violet.red(), violet.green(), violet.blue())
    tip = population.model.data(
        population.model.index(population.ids().index(2)), Qt.ItemDataRole.ToolTipRole
    )
    assert "novel" in tip and "0.61" in tip
    population.set_colour_mode("species")
    for ind, sp in ((1, 1), (2, 2)):
        c = species_color(sp)
        assert band_pixel(population, ind) == (c.red(), c.green(), c.blue())
    population.set_colour_mode("plain")
    assert band_pixel(population, 1) == plain


# ----- plots -----------------------------------------------------------------------------
def test_best_series_is_monotone_in_fitness(plots: PlotsView) -> None:
    rng = random.Random(5)
    plots.set_metric("acc", True)
    scores = [rng.random() for _ in range(200)]
    for i, s in enumerate(scores, start=1):
        plots.add_individual({"id": i, "score": s, "params": 100, "status": "done"})
    ys = [y for _, y in plots.best_series()]
    assert len(ys) == 200
    assert all(b >= a for a, b in itertools.pairwise(ys))
    assert ys[-1] == max(scores)

    plots.set_metric("bpc", False)  # lower is better: the best line goes down
    ys = [y for _, y in plots.best_series()]
    assert all(b <= a for a, b in itertools.pairwise(ys))
    assert ys[-1] == min(scores)


def test_median_of_a_known_sequence(plots: PlotsView) -> None:
    plots.set_window(3)
    for i, s in enumerate([5, 1, 4, 2, 3], start=1):
        plots.add_individual({"id": i, "score": s, "params": 10, "status": "done"})
    assert [y for _, y in plots.median_series()] == [5, 3, 4, 2, 3]
    assert [x for x, _ in plots.median_series()] == [1, 2, 3, 4, 5]
    # failures are counted but not plotted
    plots.add_individual({"id": 6, "score": None, "status": "failed"})
    assert plots.count() == 6 and len(plots.median_series()) == 5
    plots.set_window(32)
    assert plots.median_series()[-1][1] == statistics.median([5, 1, 4, 2, 3])


def brute_front(points: list[tuple[float, float]], higher: bool) -> set[tuple[float, float]]:
    sign = 1 if higher else -1

    def dominates(q: tuple[float, float], p: tuple[float, float]) -> bool:
        return (
            q[0] <= p[0]
            and sign * q[1] >= sign * p[1]
            and (q[0] < p[0] or sign * q[1] > sign * p[1])
        )

    return {p for p in points if not any(dominates(q, p) for q in points)}


@pytest.mark.parametrize("higher", [True, False])
def test_pareto_front_equals_brute_force(plots: PlotsView, higher: bool) -> None:
    rng = random.Random(11 if higher else 12)
    plots.set_metric("acc" if higher else "bpc", higher)
    points = []
    for i in range(1, 301):
        params = rng.choice([rng.randint(10, 100_000), rng.choice([64, 128, 256])])
        score = round(rng.random(), 3)
        points.append((float(params), score))
        plots.add_individual({"id": i, "score": score, "params": params, "status": "done"})
    expected = brute_front(points, higher)
    assert set(plots.pareto_points()) == expected
    assert set(pareto_front(points, higher)) == expected
    xs = [x for x, _ in plots.pareto_points()]
    assert xs == sorted(xs)
    # drawn as a step line reaching the biggest individual
    plots.flush()
    fx, _fy = plots.front_item.getData()
    assert fx is not None and len(fx) >= 2 * len(expected) - 1
    assert math.isclose(max(fx), math.log10(max(p for p, _ in points)))  # log x axis


def test_curve_of_the_selected_individual(plots: PlotsView) -> None:
    for i in range(1, 6):
        plots.add_individual({"id": i, "score": i / 10, "params": 100 * i, "status": "done"})
    curve = [[0, 2.3], [50, 1.1], [100, 0.7]]
    plots.show_curve(4, curve)
    plots.flush()
    assert plots.curve_data() == (4, curve)
    x, y = plots.loss_item.getData()
    assert list(x) == [0, 50, 100] and list(y) == [2.3, 1.1, 0.7]
    assert "#4" in plots.loss.titleLabel.text
    sx, sy = plots.selected_item.getData()  # the opened one is ringed in the scatter
    assert list(sy) == [0.4] and math.isclose(sx[0], math.log10(400))
    plots.show_curve(2, [])
    plots.flush()
    assert plots.curve_data() == (2, [])


def test_clicking_a_pareto_front_point_opens_that_individual(plots: PlotsView, qtbot: Any) -> None:
    """Front points are drawn twice (dot and ring); the click must reach the dot's id."""
    for i in range(1, 6):
        plots.add_individual({"id": i, "score": 0.5 + i / 20, "params": 100 * i, "status": "done"})
    plots.flush()
    qtbot.wait(50)  # the view box takes its new range
    assert len(plots.pareto_points()) == 5
    got: list[int] = []
    plots.individualActivated.connect(got.append)
    for ind in (3, 1):
        i = plots.s_ids.index(ind)
        at = QPointF(float(plots.s_logp.view()[i]), float(plots.s_score.view()[i]))
        pos = plots.pareto_w.mapFromScene(plots.pareto.vb.mapViewToScene(at))
        qtbot.mouseClick(plots.pareto_w.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert got == [3, 1]


def test_plots_history_then_events_and_throttled_redraws(plots: PlotsView, qtbot: Any) -> None:
    history = [
        {"id": i, "score": 0.1 * i, "params": 10 * i, "status": "done", "created": 1000.0 + 60 * i}
        for i in range(1, 6)
    ]
    plots.set_history(history)
    assert [round(y, 6) for _, y in plots.best_series()] == [0.1, 0.2, 0.3, 0.4, 0.5]
    plots.flush()
    before = plots.redraws
    for i in range(6, 106):
        plots.add_individual({"id": i, "score": 0.3, "params": 5, "status": "done"})
    assert plots.redraws == before  # nothing drawn per event…
    qtbot.waitUntil(lambda: plots.redraws > before, timeout=2000)  # …one redraw soon after
    assert plots.redraws <= before + 2
    x, _y = plots.best_item.getData()
    assert len(x) == 105
    # an event that raced the history reply is merged, not lost
    plots.set_history(history[:3])
    plots.add_individual({"id": 5, "score": 0.9, "params": 10, "status": "done"})
    plots.add_individual({"id": 4, "score": 0.2, "params": 10, "status": "done"})
    assert [x for x, _ in plots.best_series()] == [1, 2, 3, 4, 5]
    plots.set_x_mode("minutes")
    assert plots.best_series()[0][0] == 0.0 and plots.best_series()[2][0] == 2.0


# ----- run bar ---------------------------------------------------------------------------
def test_runbar_emits_on_interaction(qtbot: Any) -> None:
    bar = RunBar()
    qtbot.addWidget(bar)
    bar.show()
    qtbot.waitExposed(bar)
    with qtbot.waitSignal(bar.startPauseClicked, timeout=2000):
        qtbot.mouseClick(bar.start_button, Qt.MouseButton.LeftButton)
    bar.set_running(True)
    assert bar.start_button.text() == "Pause"
    bar.set_running(False)
    assert bar.start_button.text() == "Start"

    with qtbot.waitSignal(bar.workersChanged, timeout=2000) as blocker:
        qtbot.keyClick(bar.workers, Qt.Key.Key_Up)
    assert blocker.args == [2]
    bar.workers.lineEdit().selectAll()
    with qtbot.waitSignal(bar.workersChanged, timeout=2000) as blocker:
        qtbot.keyClicks(bar.workers, "12")  # typed digits report once, on Enter
        qtbot.keyClick(bar.workers, Qt.Key.Key_Return)
    assert blocker.args == [12]

    with qtbot.waitSignal(bar.cpuCapChanged, timeout=2000) as blocker:
        qtbot.keyClick(bar.cpu, Qt.Key.Key_Right)
    assert blocker.args == [5.0] and bar.cpu_label.text() == "5 % of a core"
    with qtbot.waitSignal(bar.cpuCapChanged, timeout=2000) as blocker:
        qtbot.keyClick(bar.cpu, Qt.Key.Key_End)
    assert blocker.args == [400.0]
    with qtbot.waitSignal(bar.cpuCapChanged, timeout=2000) as blocker:
        qtbot.keyClick(bar.cpu, Qt.Key.Key_Home)
    assert blocker.args == [0.0] and bar.cpu_label.text() == "no cap"

    with qtbot.waitSignal(bar.tradeoffChanged, timeout=2000) as blocker:
        qtbot.keyClick(bar.tradeoff, Qt.Key.Key_Right)
    assert blocker.args == [pytest.approx(0.021)]
    with qtbot.waitSignal(bar.tradeoffChanged, timeout=2000) as blocker:
        qtbot.keyClick(bar.tradeoff, Qt.Key.Key_End)
    assert blocker.args == [pytest.approx(0.2)]

    # dragging the handle reports once, when it is let go
    seen: list[float] = []
    bar.tradeoffChanged.connect(seen.append)
    handle = QPoint(bar.tradeoff.width() - 6, bar.tradeoff.height() // 2)
    qtbot.mousePress(bar.tradeoff, Qt.MouseButton.LeftButton, pos=handle)
    assert bar.tradeoff.isSliderDown()
    bar.tradeoff.setSliderPosition(100)  # where a drag would have moved it
    assert seen == []
    qtbot.mouseRelease(bar.tradeoff, Qt.MouseButton.LeftButton, pos=handle)
    assert seen == [pytest.approx(0.1)]

    # showing the project's settings is not a change
    with qtbot.assertNotEmitted(bar.cpuCapChanged), qtbot.assertNotEmitted(bar.workersChanged):
        bar.set_values(workers=3, cpu_cap=25.0, tradeoff=0.05)
    assert bar.values() == {"workers": 3, "cpu_cap": 25.0, "tradeoff": 0.05}


def test_runbar_progress_text(qtbot: Any) -> None:
    bar = RunBar()
    qtbot.addWidget(bar)
    assert "not running" in bar.status.text()
    bar.set_progress(
        {
            "individuals": 1234,
            "per_minute": 31.42,
            "species": 7,
            "best": {"id": 88, "score": 0.96123, "params": 12345, "metric": "acc"},
        }
    )
    text = bar.status.text()
    for part in ("1,234 individuals", "31.4/min", "7 species", "#88", "acc", "0.9612", "12,345"):
        assert part in text
    bar.set_progress({"individuals": 3, "per_minute": 0.0, "species": 1, "best": None})
    assert "3 individuals" in bar.status.text() and "champion" not in bar.status.text()
    # a continued run: the champion's score on every old task beside the new one's
    best = {"id": 4, "score": 0.9, "params": 10, "metric": "accuracy"}
    best["tasks"] = {"digits": {"probe": 0.9944}, "<b>": {"probe": 1.0}}
    bar.set_progress({"individuals": 4, "per_minute": 1.0, "species": 1, "best": best})
    text = bar.status.text()
    assert "old tasks: digits: probe 0.994" in text and "&lt;b&gt;: probe 1.000" in text
    # the champion's refit (engine.refits): what an export of it writes
    best = {"id": 5, "score": 0.98, "params": 10, "metric": "accuracy"}
    bar.set_progress({"individuals": 5, "best": {**best, "refit": {"of": 5, "test_score": 0.9811}}})
    assert "refit with the validation data: test 0.9811" in bar.status.text()
    bar.set_progress({"individuals": 6, "best": best})
    assert "refit" not in bar.status.text()


# ----- a long run's worth of events -----------------------------------------------------
def test_smoke_500_events_stay_responsive(
    population: PopulationView, plots: PlotsView, qtbot: Any, qapp: Any, tmp_path: Path
) -> None:
    rng = random.Random(0)
    bar = RunBar()
    qtbot.addWidget(bar)
    bar.show()
    graphs = [graph_json(rng.randint(1, 12), seed=k, branchy=True) for k in range(40)]
    alive: list[int] = []
    best = -math.inf
    done = 0
    for i in range(1, 501):
        failed = i % 37 == 0
        f = None if failed else min(0.99, 0.4 + 0.5 * i / 500 + rng.gauss(0, 0.05))
        retired: list[int] = []
        if not failed:
            done += 1
            alive.append(i)
            if len(alive) > 32:
                retired = [alive.pop(0)]
        champion = f is not None and f > best
        best = max(best, f or -math.inf)
        ev = summary(
            i,
            f,
            status="failed" if failed else "done",
            params=rng.randint(50, 200_000),
            species=rng.randint(0, 8),
            graph=graphs[i % len(graphs)],
            retired=retired,
            champion=champion,
        )
        population.add_individual(ev)
        plots.add_individual(ev)
        if champion:
            population.mark_champion(i)
        bar.set_progress({"individuals": i, "per_minute": 60.0, "species": 9, "best": ev})
        if i % 25 == 0:
            qapp.processEvents()
    qtbot.wait(200)
    plots.flush()
    assert population.count() == 32 and sorted(population.ids()) == sorted(alive)
    assert plots.count() == 500
    assert len(plots.best_series()) == done
    assert len(plots.scatter_points()) == done
    champion = population.champion
    assert champion is not None
    assert population.entry(champion) is None or population.entry(champion).champion
    for name, widget in (("population", population), ("plots", plots), ("runbar", bar)):
        path = tmp_path / f"{name}.png"
        assert widget.grab().save(str(path))
        assert path.stat().st_size > 1000
    data = orjson.loads(population.entry(alive[-1]).data["graph"])
    assert data["nodes"][0]["unit"] == "input"
