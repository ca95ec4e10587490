"""Game and environment tasks through the whole run loop: real runs, real archives, real
self-play and policy-gradient training; the champion is then judged against fixed
players on fixed seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.games.arena import play_match
from openbrains.engine.games.envs import evaluate_env, random_actor
from openbrains.engine.games.players import BrainPlayer, RandomPlayer
from openbrains.engine.graph import Graph
from openbrains.engine.run import Run, RunSettings, status_of
from openbrains.engine.runners.environment import VAL_SEED
from openbrains.engine.weights import decode_weights
from openbrains.nodes.games.maze import Maze
from openbrains.nodes.games.tictactoe import TicTacToe


def champion_brain(run_dir: Path) -> tuple[Graph, torch.nn.Module]:
    run = Run(run_dir)
    try:
        best = run.best
        assert best is not None
        graph = Graph.from_json(best.graph_json)
        brain = compile_graph(graph)
        brain.load_weights(decode_weights(run.archive.weights(best.id)))
    finally:
        run.close()
    return graph, brain.eval()


def test_short_tictactoe_run_champion_beats_random_more_often(tmp_path: Path) -> None:
    run_dir = tmp_path / "ttt"
    # 8 candidates of 600 steps (96 self-play games) each, no promotions: about 20 s
    settings = RunSettings(
        task={"name": "tictactoe"}, seed=1, workers=0, population=4, budget_steps=600, max_rung=0
    )
    run = Run(run_dir, settings)
    try:
        run.run(max_individuals=8)
    finally:
        run.close()
    st = status_of(run_dir)
    assert st["individuals"] == 8 and st["references"]["random"] == 0.0
    graph, brain = champion_brain(run_dir)
    game = TicTacToe()
    # the same brain before any training, over five draws of its first weights (one draw
    # alone can already beat random three games in four)
    before = [
        play_match(
            BrainPlayer(compile_graph(graph, seed=seed).eval(), game), RandomPlayer(), game, 200, 7
        ).score
        for seed in range(123, 128)
    ]
    after = play_match(BrainPlayer(brain, game), RandomPlayer(), game, 200, seed=7)
    print(f"champion {st['best']['score']:.0f} elo; vs random before {before}, after {after}")
    assert after.score > float(np.mean(before)) + 0.15, (before, after)
    assert after.wins > 3 * after.losses and st["best"]["score"] > 100


@pytest.mark.slow
def test_maze_run_beats_a_random_walker(tmp_path: Path) -> None:
    run_dir = tmp_path / "maze"
    settings = RunSettings(task={"name": "maze"}, seed=0, workers=0, population=3)
    run = Run(run_dir, settings)
    try:
        assert run.task.metric == "score" and not run.task.two_player
        run.run(max_individuals=3)
    finally:
        run.close()
    st = status_of(run_dir)
    assert st["best"]["metric"] == "score" and "references" not in st
    walker = evaluate_env(Maze(), random_actor(4), episodes=32, seed=VAL_SEED)
    print(f"champion {st['best']['score']:.3f}, random walker {walker.mean:.3f}")
    assert st["best"]["score"] > walker.mean + 0.5
    assert st["best"]["test_score"] > walker.mean + 0.3  # not just luck on the scored mazes


def test_a_users_environment_by_entry_point_runs_like_the_maze(tmp_path: Path) -> None:
    run_dir = tmp_path / "env"
    settings = RunSettings(
        task={"name": "openbrains.nodes.games.maze:Maze", "size": 4},
        seed=0,
        workers=0,
        population=2,
    )
    run = Run(run_dir, settings)
    try:
        assert run.task.train_steps == 30 and run.task.episodes == 32  # environment budget
        run.run(max_individuals=1)
    finally:
        run.close()
    best = status_of(run_dir)["best"]
    assert best["metric"] == "score" and best["steps"] == 30 and -3.0 < best["score"] <= 1.0
