"""A trained brain at the table: load a ``.graph`` for a game, check it fits, and play it.

``openbrains play``, ``openbrains arena`` and the play window all start here, so a file
that cannot play a game (no policy/value heads, a board of another size, a game that is
really a single-player environment) fails the same way everywhere: one ``GameError``
line naming the file and what is wrong.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from openbrains.engine.compile import Brain
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.games.arena import MatchResult, match_games, openings
from openbrains.engine.games.play_budget import DEFAULT_SIMS
from openbrains.engine.games.players import (
    BrainPlayer,
    MinimaxPlayer,
    OneStepPlayer,
    Player,
    RandomPlayer,
)
from openbrains.engine.graph import Graph
from openbrains.engine.tasks.game import (
    POLICY,
    VALUE,
    Game,
    GameError,
    State,
    is_game,
    make_game,
)

OPPONENT_HELP = "random, lookahead, minimax or minimax:DEPTH"


def two_player_game(name: str, options: dict[str, Any] | None = None) -> Game:
    """A two-player game by name or entry point; environments are refused with a reason."""
    game = make_game(name, **(options or {}))
    if not is_game(game):
        raise GameError(
            f"{name!r} is a single-player scored environment; play and arena need a "
            "two-player game such as tictactoe or connect4"
        )
    return game


def check_brain(brain: Brain, game: Game, where: str = "this brain") -> None:
    """Raise ``GameError`` unless ``brain`` reads ``game``'s board and has both heads."""
    outs = brain.output_names
    if POLICY not in outs or VALUE not in outs:
        raise GameError(
            f"{where} has outputs {outs}, but playing {game.name} needs a {POLICY!r} and a "
            f"{VALUE!r} head (export a champion of a `--task {game.name}` run)"
        )
    if len(brain.input_names) != 1:
        raise GameError(f"{where} takes {len(brain.input_names)} inputs; a game brain takes one")
    have = brain.input_specs[brain.input_names[0]]
    want = game.spec()
    if (have.time, have.channels) != (want.time, want.channels):
        raise GameError(
            f"{where} reads a board of {have.time} cells × {have.channels} planes, but "
            f"{game.name} has {want.time} cells × {want.channels} planes (wrong game?)"
        )
    policy = brain.output_specs[POLICY].channels
    if policy != game.action_size:
        raise GameError(
            f"{where} scores {policy} moves, but {game.name} has {game.action_size} (wrong game?)"
        )


def load_champion(
    path: str | os.PathLike[str], game_name: str, options: dict[str, Any] | None = None
) -> tuple[Game, Graph, Brain]:
    """The game, graph and (eval-mode) brain of ``path``, checked to fit each other.

    The game is built with the options the file records for it (a user's ``OthelloGame``
    trained at ``n=6``), ``options`` (the command line's) winning; the user names the game
    itself, a file never does (engine.trust)."""
    from openbrains.engine.export import recorded_options
    from openbrains.engine.format import load_brain

    try:
        graph, brain = load_brain(path)
    except OpenBrainsError as exc:
        raise GameError(str(exc)) from None
    game = two_player_game(game_name, {**recorded_options(graph, game_name), **(options or {})})
    check_brain(brain, game, str(path))
    return game, graph, brain


def champion_player(brain: Brain, game: Game, sims: int = DEFAULT_SIMS) -> BrainPlayer:
    """The brain as a player: MCTS with ``sims`` simulations (0 = its greedy policy)."""
    if sims < 0:
        raise GameError(f"--sims must be 0 (greedy policy) or more, got {sims}")
    return BrainPlayer(brain, game, sims=sims, name="brain")


REFERENCE_NAMES = ("random", "lookahead", "onestep", "minimax")


def opponent(spec: str, game: Game | None = None) -> Player:
    """An opponent for ``arena``: a reference player (``lookahead`` is the one-step player)
    or the user's own player class, ``package.module:Class`` (granted by the user), with
    alpha-zero-general's convention: built with the game, ``play(board)`` answers."""
    name, _, arg = spec.partition(":")
    if name in ("random", "lookahead", "onestep") and not arg:
        return RandomPlayer() if name == "random" else OneStepPlayer()
    if name == "minimax":
        if not arg:
            return MinimaxPlayer()
        if arg.isdigit() and int(arg) > 0:
            return MinimaxPlayer(depth=int(arg))
        raise GameError(f"minimax depth must be a positive number, got {arg!r}")
    if arg and game is not None:
        from openbrains.engine.games.userplayer import user_player

        return user_player(spec, game)
    raise GameError(
        f"unknown opponent {spec!r}; expected one of: {OPPONENT_HELP}, or your own player "
        "as package.module:Class"
    )


@dataclass
class SidedResult:
    """A match from the brain's side, split by who moved first."""

    first: MatchResult
    second: MatchResult

    @property
    def total(self) -> MatchResult:
        return self.first + self.second

    def to_dict(self) -> dict[str, Any]:
        total = self.total
        return {
            "first": self.first.to_dict(),
            "second": self.second.to_dict(),
            "total": total.to_dict(),
            "games": total.games,
            "score": total.score,
            "win_rate": total.wins / total.games if total.games else 0.0,
        }


def sided_match(
    player: Player,
    other: Player,
    game: Game,
    n_games: int,
    seed: int = 0,
    opening_plies: int = 0,
) -> SidedResult:
    """``n_games`` games, ``player`` moving first in the even-numbered ones (as
    ``play_match`` does, with the same per-game seeds), tallied by side.

    With ``opening_plies`` each pair of games starts from its own position after that many
    random moves, played once from each side: against a deterministic opponent
    (depth-limited minimax seldom meets a tie to break at random) and a brain that plays
    its most visited move, games from the empty board are one game per side replayed."""
    starts = openings(game, (n_games + 1) // 2, seed, opening_plies) if opening_plies else []
    out = SidedResult(MatchResult(), MatchResult())
    for i, outcome in match_games(player, other, game, n_games, seed, starts):
        if i % 2 == 0:
            out.first += MatchResult.of(outcome)
        else:
            out.second += MatchResult.of(outcome)
    return out


@dataclass
class BoardView:
    """What a board widget needs, as plain data: ``cells`` row by row (+1 / -1 / 0),
    the legal actions, and whether an action is a cell or a column (``drop``)."""

    cells: list[int]
    rows: int
    cols: int
    legal: list[int]
    drop: bool


def board_view(game: Game, state: State) -> BoardView:
    """The board of a grid game's ``state`` for drawing (games whose states carry a
    ``board`` array, like the built-ins). An action is a column when there is one per
    column (Connect Four), else a cell."""
    board = np.asarray(getattr(state, "board", None))
    if board.ndim != 2:
        raise GameError(f"{game.name} states have no 2-D board to draw")
    rows, cols = (int(n) for n in board.shape)
    drop = game.action_size == cols and rows > 1
    legal = np.flatnonzero(game.legal(state)).tolist()
    return BoardView([int(v) for v in board.reshape(-1)], rows, cols, legal, drop)
