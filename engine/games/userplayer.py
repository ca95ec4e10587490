"""A user's own player at the arena, with alpha-zero-general's convention.

alpha-zero-general's players (``RandomPlayer(game)``, ``GreedyOthelloPlayer(game)``…) are
built with the game and answer ``play(board)`` with an action number, where ``board`` is the
*canonical* board: the player to move is +1. ``UserPlayer`` wraps such a class so that it
meets brains and references like any ``Player``. The class is imported only when the user
named it (``--opponent package.module:Class``, engine.trust).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.tasks.game import AlphaZeroGeneralAdapter, Game, GameError, State


def canonical_board(game: Game, state: State) -> Any:
    """The board as alpha-zero-general's players expect it: from the mover's side (+1)."""
    if isinstance(game, AlphaZeroGeneralAdapter):
        return game.game.getCanonicalForm(state.board, state.player)
    board = getattr(state, "board", None)
    if board is None:
        raise GameError(f"{game.name} states carry no board for a play(board) player")
    return np.asarray(board) * game.current_player(state)


class UserPlayer:
    """``obj.play(board)`` as a ``Player``; an illegal answer is a one-line ``GameError``."""

    def __init__(self, entry: str, obj: Any) -> None:
        if not callable(getattr(obj, "play", None)):
            raise GameError(f"player {entry!r} has no play(board) method")
        self.name = entry
        self.obj = obj

    def act(self, game: Game, state: State, rng: np.random.Generator) -> int:
        try:
            action = int(self.obj.play(canonical_board(game, state)))
        except GameError:
            raise
        except Exception as e:
            raise GameError(f"player {self.name!r} failed: {type(e).__name__}: {e}") from e
        legal = game.legal(state)
        if not (0 <= action < len(legal)) or not legal[action]:
            raise GameError(f"player {self.name!r} chose {action}, not a legal move")
        return action


def user_player(entry: str, game: Game) -> UserPlayer:
    """Build the user's player class ``entry`` for ``game`` (with the alpha-zero-general game
    object when ``game`` wraps one), or use an object that already has ``play``."""
    from openbrains.engine.trust import UntrustedCode, load_code, parameters

    try:
        target = load_code(entry, "player")
    except UntrustedCode:
        raise
    except OpenBrainsError as e:
        raise GameError(str(e)) from None
    if isinstance(target, type):
        inner = game.game if isinstance(game, AlphaZeroGeneralAdapter) else game
        needs_game = any(p.default is p.empty for p in parameters(target).values())
        try:
            target = target(inner) if needs_game else target()
        except Exception as e:
            raise GameError(f"building player {entry!r} failed: {type(e).__name__}: {e}") from e
    return UserPlayer(entry, target)
