"""Tic-tac-toe: the smallest game that still needs search, solved exactly by minimax.

Action ``a`` puts a mark in cell ``a = 3 * row + col``. Player +1 (X) starts. The eight
dihedral symmetries of the square are exact, so every self-play example becomes eight.
"""

from __future__ import annotations

import numpy as np

from openbrains.engine.signal import SignalSpec
from openbrains.engine.tasks.game import BoardState, board_spec, planes

ROWS = COLS = 3
LINES = np.array(
    [
        [0, 1, 2],
        [3, 4, 5],
        [6, 7, 8],
        [0, 3, 6],
        [1, 4, 7],
        [2, 5, 8],
        [0, 4, 8],
        [2, 4, 6],
    ]
)
MARKS = {1: "X", -1: "O", 0: "."}


def _dihedral(a: np.ndarray, k: int) -> np.ndarray:
    """The k-th of the eight symmetries of a square array (rotations, then mirrored)."""
    out = np.rot90(a, k % 4)
    return np.fliplr(out) if k >= 4 else out


class TicTacToe:
    """Three in a row on a 3×3 board; see ``engine.tasks.game.Game`` for the protocol."""

    name = "tictactoe"
    action_size = ROWS * COLS
    rows, cols = ROWS, COLS

    def initial(self) -> BoardState:
        return BoardState(np.zeros((ROWS, COLS), dtype=np.int8), 1, None, 0)

    def from_board(self, board: np.ndarray, player: int | None = None) -> BoardState:
        """A state from a ±1/0 board (tests, puzzles). The player to move defaults to
        whoever has fewer marks (X on ties), as in a real game."""
        b = np.asarray(board, dtype=np.int8).reshape(ROWS, COLS).copy()
        moves = int(np.count_nonzero(b))
        if player is None:
            player = 1 if int(b.sum()) <= 0 else -1
        return BoardState(b, int(player), _result(b), moves)

    def current_player(self, state: BoardState) -> int:
        return state.player

    def legal(self, state: BoardState) -> np.ndarray:
        if state.result is not None:
            return np.zeros(self.action_size, dtype=bool)
        return state.board.reshape(-1) == 0

    def play(self, state: BoardState, action: int) -> BoardState:
        a = int(action)
        if state.result is not None:
            raise ValueError("the game is over")
        if not 0 <= a < self.action_size or state.board.flat[a] != 0:
            raise ValueError(f"illegal move {a} in\n{self.render(state)}")
        board = state.board.copy()
        board.flat[a] = state.player
        return BoardState(board, -state.player, _result(board), state.moves + 1)

    def outcome(self, state: BoardState) -> int | None:
        return state.result

    def ending_moves(self, state: BoardState) -> list[int]:
        """The cells that end the game (the third of a line, or the board's last cell):
        MCTS asks this on every expansion, and it is cheaper than playing each move."""
        if state.result is not None:
            return []
        flat = state.board.reshape(-1)
        if state.moves == ROWS * COLS - 1:
            return [int(a) for a in np.flatnonzero(flat == 0)]
        two_of_mine = LINES[flat[LINES].sum(axis=1) == 2 * state.player]
        return sorted({int(a) for a in two_of_mine.reshape(-1) if flat[a] == 0})

    def encode(self, state: BoardState) -> np.ndarray:
        return planes(state.board, state.player)

    def spec(self) -> SignalSpec:
        return board_spec(ROWS, COLS, 3)

    def key(self, state: BoardState) -> bytes:
        return state.key()

    def symmetries(
        self, state: BoardState, policy: np.ndarray
    ) -> list[tuple[BoardState, np.ndarray]]:
        pi = np.asarray(policy, dtype=np.float32).reshape(ROWS, COLS)
        out = []
        for k in range(8):
            board = np.ascontiguousarray(_dihedral(state.board, k))
            sym = BoardState(board, state.player, state.result, state.moves)
            out.append((sym, np.ascontiguousarray(_dihedral(pi, k)).reshape(-1)))
        return out

    def render(self, state: BoardState) -> str:
        rows = [" ".join(MARKS[int(v)] for v in row) for row in state.board]
        return "\n".join(rows)


def _result(board: np.ndarray) -> int | None:
    sums = board.reshape(-1)[LINES].sum(axis=1, dtype=np.int16)
    if (sums == 3).any():
        return 1
    if (sums == -3).any():
        return -1
    if not (board == 0).any():
        return 0
    return None
