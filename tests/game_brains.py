"""Small policy+value brains for game tests, saved as real ``.graph`` files."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from openbrains.engine.compile import Brain, compile_graph
from openbrains.engine.evolve.random import add_io
from openbrains.engine.format import save_brain
from openbrains.engine.graph import Graph
from openbrains.engine.tasks.game import game_io, make_game


def game_brain(game_name: str, seed: int = 0) -> Brain:
    """conv2d(16) → flatten → dense(32) → policy and value heads, fresh weights."""
    return brain_for(make_game(game_name), seed)


def brain_for(game: Any, seed: int = 0) -> Brain:
    """The same small policy+value brain for a game object."""
    ins, outs = game_io(game)
    rng = random.Random(seed)
    graph = Graph()
    in_uids, out_uids = add_io(graph, ins, outs, rng)
    prev = in_uids[0]
    for unit, params in (
        ("conv2d", {"width": 16, "kernel": 3}),
        ("flatten", {}),
        ("dense", {"width": 32, "activation": "relu"}),
    ):
        node = graph.add_node(unit, params, rng=rng)
        graph.connect(prev, node.uid, rng=rng)
        prev = node.uid
    for out in out_uids:
        graph.connect(prev, out, rng=rng)
    return compile_graph(graph, seed=seed)


def write_game_graph(path: Path, game_name: str, seed: int = 0, selfplay_games: int = 0) -> Path:
    """A ``.graph`` for ``game_name``; ``selfplay_games > 0`` trains it by self-play first."""
    brain = game_brain(game_name, seed)
    if selfplay_games:
        from openbrains.engine.games.selfplay import selfplay_train

        selfplay_train(brain, make_game(game_name), budget_games=selfplay_games, seed=seed)
    save_brain(path, brain)
    return path
