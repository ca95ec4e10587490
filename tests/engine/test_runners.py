"""Each runner at both ends of a job: the worker side trains real candidates on real tasks,
the coordinator side prepares and absorbs against a real run and archive."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from openbrains.engine.compile import compile_graph
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.evolve.random import SizeBounds
from openbrains.engine.evolve.templates import template_graph
from openbrains.engine.graph import Graph
from openbrains.engine.jobs import (
    Birth,
    JobResult,
    JobSpec,
    MatchTally,
    Opponent,
    Outcome,
    Sibling,
    TaskRef,
)
from openbrains.engine.run import Run, RunSettings
from openbrains.engine.run.pace import TIME_CAP, TIME_CAP_MIN_JOBS
from openbrains.engine.run.records import candidates
from openbrains.engine.runners import RUNNERS, runner_for
from openbrains.engine.runners.dataset import DatasetRunner
from openbrains.engine.runners.environment import EnvironmentRunner
from openbrains.engine.runners.game import GameRunner, rate
from openbrains.engine.tasks.game import GameTask
from openbrains.engine.tasks.registry import load_task
from openbrains.engine.train import genes
from openbrains.engine.weights import decode_weights, encode_weights

XOR = TaskRef({"name": "xor"})
TINY_TTT = {"name": "tictactoe", "selfplay_games": 4, "sims": 4, "arena_games": 2}


def first_graph(task: object, seed: int = 0) -> Graph:
    g = template_graph(random.Random(seed), task.inputs, task.outputs, SizeBounds())
    g.hparams = genes.defaults(getattr(task, "kind", None))
    return g


def spec_for(task: object, ref: TaskRef, steps: int, **kw: object) -> JobSpec:
    return JobSpec(1, ref, first_graph(task).to_json().decode(), seed=3, steps=steps, **kw)


def test_each_task_names_its_runner() -> None:
    assert isinstance(runner_for(load_task("xor")), DatasetRunner)
    assert isinstance(runner_for(load_task("tictactoe")), GameRunner)
    assert isinstance(runner_for(load_task("maze")), EnvironmentRunner)
    assert sorted(RUNNERS) == ["dataset", "environment", "game"]

    class Odd:
        name, runner = "odd", "telepathy"

    with pytest.raises(OpenBrainsError, match="needs runner 'telepathy'"):
        runner_for(Odd())


# ----- dataset ----------------------------------------------------------------------------
def test_dataset_runner_trains_a_candidate_whose_weights_come_back() -> None:
    task = load_task("xor")
    spec = spec_for(task, XOR, steps=60)
    result = DatasetRunner().train(spec, task)
    (out,) = result.outcomes
    assert out.status == "done" and out.steps == 60 and 0 <= out.val["accuracy"] <= 1
    assert out.params > 0 and out.latency_ms > 0 and result.train_size == len(task.train)
    brain = compile_graph(Graph.from_json(spec.graph))
    brain.load_weights(decode_weights(out.weights))  # every tensor fits the graph
    # the child of a trained parent starts from its weights
    child = DatasetRunner().train(spec.with_(weights=out.weights, steps=1), task)
    assert child.outcomes[0].details["inherit"]["fresh"] == 0


def test_dataset_runner_trains_siblings_one_outcome_each() -> None:
    task = load_task("xor")
    base = spec_for(task, XOR, steps=30)
    birth = Birth(Graph.from_json(base.graph), origin="mutation", parents=(4,), detail="widen")
    spec = base.with_(siblings=(Sibling(1, {"lr": 0.01}), Sibling(2, {"lr": 0.001})))
    result = DatasetRunner().train(spec, task)
    assert [o.status for o in result.outcomes] == ["done", "done"]
    assert result.outcomes[0].weights != result.outcomes[1].weights
    (_, g1), (b2, g2) = candidates(birth, spec)
    assert Graph.from_json(g1).hparams["lr"] == 0.01 and Graph.from_json(g2).hparams["lr"] == 0.001
    assert b2.detail == "widen; sibling 2/2 lr 0.001" and b2.parents == (4,)


def test_a_broken_candidate_comes_back_failed_not_raised() -> None:
    task = load_task("xor")
    graph = first_graph(task)
    node = next(n for n in graph.nodes.values() if n.unit not in ("input", "output"))
    node.unit = "not_installed_anywhere"
    spec = JobSpec(1, XOR, graph.to_json().decode(), seed=0, steps=5)
    result = DatasetRunner().train(spec, task)
    (out,) = result.outcomes
    assert out.status == "failed" and "not_installed_anywhere" in out.error
    assert "Traceback" in result.trace and result.wall_seconds > 0


def test_dataset_prepare_makes_siblings_of_children_and_caps_time(tmp_path: Path) -> None:
    run = Run(
        tmp_path / "run",
        RunSettings(task={"name": "xor"}, workers=0, sibling_rate=1.0, siblings=3),
    )
    try:
        runner = DatasetRunner()
        spec = spec_for(run.task, run.feedback.task_ref(), steps=100)
        graph = Graph.from_json(spec.graph)
        child = runner.prepare(spec, Birth(graph, origin="mutation"), run)
        assert len(child.siblings) == 3 and child.siblings[0].genes["lr"] == graph.hparams["lr"]
        assert runner.prepare(spec, Birth(graph, origin="template"), run).siblings == ()
        assert child.seconds is None  # no pace known yet
        for _ in range(TIME_CAP_MIN_JOBS):
            run.pace.add(0.002)
        capped = runner.prepare(spec, Birth(graph, origin="mutation"), run)
        assert capped.seconds == pytest.approx(TIME_CAP * 0.002 * 100 * 3)
    finally:
        run.close()


def test_dataset_absorb_rescores_a_candidate_trained_on_older_data(tmp_path: Path) -> None:
    run = Run(tmp_path / "run", RunSettings(task={"name": "xor"}, workers=0))
    try:
        spec = spec_for(run.task, run.feedback.task_ref(), steps=40)
        result = DatasetRunner().train(spec, run.task)
        out = result.outcomes[0]
        honest = dict(out.val)
        out.val = {"accuracy": -1.0, "loss": 99.0}
        same = DatasetRunner().absorb(spec, result, out, run)
        assert same.val["accuracy"] == -1.0  # trained on the data the run has now
        result.data_version = run.data_version + 1
        fresh = DatasetRunner().absorb(spec, result, out, run)
        assert fresh.val == pytest.approx(honest)  # measured again on the current split
    finally:
        run.close()


# ----- game -------------------------------------------------------------------------------
def test_game_runner_plays_its_opponents_and_moves_them(tmp_path: Path) -> None:
    settings = RunSettings(task=dict(TINY_TTT), workers=0, population=2, budget_steps=4, max_rung=0)
    run = Run(tmp_path / "ttt", settings)
    try:
        run.run(max_individuals=2)
        assert len(run.members) == 2
        runner = GameRunner()
        spec = JobSpec(9, run.feedback.task_ref(), run.members[0].record.graph_json, 5, 4)
        prepared = runner.prepare(spec, Birth(Graph.from_json(spec.graph)), run)
        assert {o.id for o in prepared.opponents} == {m.record.id for m in run.members}
        result = runner.train(prepared, run.task)
        (out,) = result.outcomes
        assert out.status == "done" and "elo" in out.val
        assert out.references["random"] == 0.0
        member = run.members[0]
        tally = out.matches[f"#{member.record.id}"]
        assert tally.games == run.task.arena_games
        # a newcomer that beat a member every time pulls the member's Elo down
        before = member.record.val_metric
        won = Outcome(
            status="done",
            val={"elo": before + 200},
            matches={f"#{member.record.id}": MatchTally(4, 0, 0)},
            references=out.references,
        )
        runner.absorb(prepared, JobResult(9, [won]), won, run)
        assert member.record.val_metric < before
        assert run.archive.get(member.record.id).val_metric == pytest.approx(
            member.record.val_metric
        )
        assert run.archive.get_meta("references") == out.references
    finally:
        run.close()


def test_a_champion_whose_elo_falls_below_a_member_hands_over_the_crown(tmp_path: Path) -> None:
    """The run's champion is the archive's best as scores stand now (what `export --best`
    writes), not the last newcomer that beat a score which has moved since."""
    events: list[tuple[str, dict]] = []
    settings = RunSettings(task=dict(TINY_TTT), workers=0, population=2, budget_steps=4, max_rung=0)
    run = Run(tmp_path / "ttt", settings, on_event=lambda kind, data: events.append((kind, data)))
    try:
        run.run(max_individuals=2)
        champion = run.best
        assert champion is not None and champion.id == run.archive.best().id
        other = next(m for m in run.members if m.record.id != champion.id)
        held = next(m for m in run.members if m.record.id == champion.id)
        events.clear()
        run.moved(other, other.record.val_metric)  # a move that changes no order
        assert run.best.id == champion.id and not events
        run.moved(held, other.record.val_metric - 300)  # the champion lost its games
        assert run.best.id == other.record.id == run.archive.best().id
        assert run.best.val_metric == pytest.approx(other.record.val_metric)
        ((kind, data),) = events
        assert kind == "individual" and data["champion"] and data["id"] == other.record.id
        assert run.archive.last_event("champion")["id"] == other.record.id
    finally:
        run.close()


def test_a_connect4_arena_starts_its_games_from_openings() -> None:
    class Recorder:
        """Plays the first legal move and notes how full each board it meets is."""

        name = "recorder"

        def __init__(self) -> None:
            self.pieces: set[int] = set()

        def act(self, game, state, rng):
            self.pieces.add(int(abs(state.board).sum()))
            return int(game.legal(state).argmax())

    task = load_task("connect4", arena_games=4)
    assert task.arena_openings == 2, "greedy brains and minimax:2 would replay one game a side"
    assert GameTask.from_dict(task.describe()).arena_openings == 2
    player = Recorder()
    rate(player, task, {}, seed=0, n_games=4)
    assert 0 not in player.pieces and 1 not in player.pieces and 2 in player.pieces
    plain = load_task("connect4", arena_games=4, arena_openings=0)
    player = Recorder()
    rate(player, plain, {}, seed=0, n_games=4)
    assert 0 in player.pieces, "arena_openings=0: from the empty board"


def test_game_runner_loads_an_opponent_from_its_own_blob() -> None:
    task = load_task(**TINY_TTT)
    graph = first_graph(task, seed=1)
    weights = encode_weights(compile_graph(graph, seed=2).weights())
    opp = Opponent(42, graph.to_json().decode(), 300.0, weights)
    spec = JobSpec(1, TaskRef(dict(TINY_TTT)), graph.to_json().decode(), 0, 4, opponents=(opp,))
    (out,) = GameRunner().train(spec, task).outcomes
    assert out.status == "done", out.error
    assert set(out.matches) == {"#42", *task.references}


def test_a_game_task_tunes_training_steps_and_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    from openbrains.engine.games import selfplay

    tuned = {"train_steps": "7", "replay_ratio": "2.5", "full_share": "0.5", "fast_sims": "3"}
    task = load_task(**TINY_TTT, **tuned)
    want = (7, 2.5, 0.5, 3)
    assert (task.train_steps, task.replay_ratio, task.full_share, task.fast_sims) == want
    again = GameTask.from_dict(task.describe())
    assert (again.train_steps, again.replay_ratio, again.full_share, again.fast_sims) == want
    assert load_task("connect4").replay_ratio == 1.0
    with pytest.raises(OpenBrainsError, match="replay_ratio"):
        load_task(**TINY_TTT, replay_ratio="lots")
    with pytest.raises(OpenBrainsError, match="full_share"):
        load_task(**TINY_TTT, full_share="0")
    seen: dict[str, object] = {}
    real = selfplay.selfplay_train

    def spying(*args, **kw):  # type: ignore[no-untyped-def]
        seen.update(kw)
        return real(*args, **kw)

    monkeypatch.setattr(selfplay, "selfplay_train", spying)
    spec = JobSpec(1, TaskRef(dict(TINY_TTT)), first_graph(task).to_json().decode(), 0, None)
    (out,) = GameRunner().train(spec, task).outcomes
    assert out.status == "done", out.error
    assert seen["shared_ratio"] == 2.5 and seen["train_steps"] == 7 and out.steps == 7
    assert seen["full_share"] == 0.5 and seen["fast_sims"] == 3


# ----- environment ------------------------------------------------------------------------
def test_environment_runner_learns_alone_and_is_scored_on_fixed_episodes(tmp_path: Path) -> None:
    task = load_task("maze", size=4, episodes=4)
    ref = TaskRef({"name": "maze", "size": 4, "episodes": 4})
    spec = spec_for(task, ref, steps=3)
    runner = EnvironmentRunner()
    assert runner.base_steps(task) == 30
    result = runner.train(spec, task)
    (out,) = result.outcomes
    assert out.status == "done" and "score" in out.val and out.details["episodes"] > 0
    again = runner.train(spec, task).outcomes[0]
    assert again.val == out.val  # same seeds, same episodes: the score is reproducible
    assert runner.absorb(spec, result, out, None) is out  # nothing moves on arrival
