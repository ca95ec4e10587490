"""Connect Four on the classic 6×7 board, with bitboard win detection.

Action ``c`` drops a disc into column ``c`` (gravity: it lands on the lowest free cell).
Each state keeps, beside the ±1/0 board a brain sees, one bitboard per player (7 bits a
column: 6 cells and a sentinel), so "did the last move win" is four shift-and-mask tests
instead of a scan of the board. The left-right mirror is the one exact symmetry.
"""

from __future__ import annotations

import numpy as np

from openbrains.engine.signal import SignalSpec
from openbrains.engine.tasks.game import BoardState, board_spec

ROWS, COLS = 6, 7
H1 = ROWS + 1  # bits per column in a bitboard (one sentinel bit keeps columns apart)
CENTER_FIRST = (3, 2, 4, 1, 5, 0, 6)
MARKS = {1: "X", -1: "O", 0: "."}


def _windows() -> np.ndarray:
    """Flat indices of every line of four cells (69 of them), for the heuristic."""
    out = []
    for r in range(ROWS):
        for c in range(COLS):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                cells = [(r + i * dr, c + i * dc) for i in range(4)]
                if all(0 <= rr < ROWS and 0 <= cc < COLS for rr, cc in cells):
                    out.append([rr * COLS + cc for rr, cc in cells])
    return np.array(out)


WINDOWS = _windows()


def wins(bits: int) -> bool:
    """Whether a bitboard holds four in a row (vertical, horizontal or either diagonal)."""
    for shift in (1, H1, H1 - 1, H1 + 1):
        m = bits & (bits >> shift)
        if m & (m >> (2 * shift)):
            return True
    return False


class ConnectFour:
    """Four in a row with gravity; see ``engine.tasks.game.Game`` for the protocol.

    ``extra`` of a state is ``(bits of +1, bits of -1, column heights)``. Board row 0 is
    the *top* row, as it is rendered.
    """

    name = "connect4"
    action_size = COLS
    rows, cols = ROWS, COLS

    def initial(self) -> BoardState:
        return BoardState(np.zeros((ROWS, COLS), dtype=np.int8), 1, None, 0, (0, 0, (0,) * COLS))

    def from_board(self, board: np.ndarray, player: int | None = None) -> BoardState:
        """A state from a ±1/0 board (row 0 on top). Discs must rest on discs; the player to
        move defaults to whoever has fewer discs (+1 on ties)."""
        b = np.asarray(board, dtype=np.int8).reshape(ROWS, COLS).copy()
        bits = [0, 0]
        heights = []
        for c in range(COLS):
            col = b[::-1, c]  # bottom first
            h = int(np.count_nonzero(col))
            if (col[:h] == 0).any():
                raise ValueError(f"column {c} has a floating disc")
            heights.append(h)
            for r in range(h):
                bits[0 if col[r] > 0 else 1] |= 1 << (c * H1 + r)
        if player is None:
            player = 1 if int(b.sum()) <= 0 else -1
        moves = int(np.count_nonzero(b))
        result = (
            1 if wins(bits[0]) else -1 if wins(bits[1]) else (0 if moves == ROWS * COLS else None)
        )
        return BoardState(b, int(player), result, moves, (bits[0], bits[1], tuple(heights)))

    def current_player(self, state: BoardState) -> int:
        return state.player

    def legal(self, state: BoardState) -> np.ndarray:
        if state.result is not None:
            return np.zeros(COLS, dtype=bool)
        return np.array(state.extra[2]) < ROWS

    def play(self, state: BoardState, action: int) -> BoardState:
        c = int(action)
        if state.result is not None:
            raise ValueError("the game is over")
        mine, theirs, heights = (
            state.extra
            if state.player > 0
            else (
                state.extra[1],
                state.extra[0],
                state.extra[2],
            )
        )
        if not 0 <= c < COLS or heights[c] >= ROWS:
            raise ValueError(f"illegal move {c} (column full or off the board)")
        h = heights[c]
        board = state.board.copy()
        board[ROWS - 1 - h, c] = state.player
        mine |= 1 << (c * H1 + h)
        new_heights = (*heights[:c], h + 1, *heights[c + 1 :])
        moves = state.moves + 1
        if wins(mine):
            result: int | None = state.player
        else:
            result = 0 if moves == ROWS * COLS else None
        extra = (mine, theirs, new_heights) if state.player > 0 else (theirs, mine, new_heights)
        return BoardState(board, -state.player, result, moves, extra)

    def outcome(self, state: BoardState) -> int | None:
        return state.result

    def encode(self, state: BoardState) -> np.ndarray:
        """Four planes seen by the player to move: mine, theirs, empty, and *playable* (the
        cell a disc would land on in each column), so a tiny net need not learn gravity."""
        flat = state.board.reshape(-1) * state.player
        out = np.zeros((ROWS * COLS, 4), dtype=np.float32)
        out[:, 0] = flat > 0
        out[:, 1] = flat < 0
        out[:, 2] = flat == 0
        for c, h in enumerate(state.extra[2]):
            if h < ROWS:
                out[(ROWS - 1 - h) * COLS + c, 3] = 1.0
        return out

    def spec(self) -> SignalSpec:
        return board_spec(ROWS, COLS, 4)

    def key(self, state: BoardState) -> bytes:
        return state.key()

    def symmetries(
        self, state: BoardState, policy: np.ndarray
    ) -> list[tuple[BoardState, np.ndarray]]:
        pi = np.asarray(policy, dtype=np.float32)
        mirrored = self.from_board(np.ascontiguousarray(state.board[:, ::-1]), state.player)
        return [(state, pi.copy()), (mirrored, np.ascontiguousarray(pi[::-1]))]

    def ending_moves(self, state: BoardState) -> list[int]:
        """The columns whose disc ends the game (four in a row, or the board's last cell),
        from the bitboards alone: MCTS asks this on every expansion."""
        if state.result is not None:
            return []
        mine = state.extra[0] if state.player > 0 else state.extra[1]
        heights = state.extra[2]
        last = state.moves + 1 == ROWS * COLS
        return [
            c
            for c in range(COLS)
            if heights[c] < ROWS and (last or wins(mine | 1 << (c * H1 + heights[c])))
        ]

    def ordering(self, state: BoardState) -> list[int]:
        """Legal moves, centre first: alpha-beta prunes far more with good moves first."""
        heights = state.extra[2]
        return [c for c in CENTER_FIRST if heights[c] < ROWS] if state.result is None else []

    def heuristic(self, state: BoardState) -> float:
        """A guess in (-0.9, 0.9) of how good ``state`` is for the player to move: open
        lines of two and three (the mover's count more, as the mover acts first) and
        discs in the centre column."""
        b = state.board.reshape(-1) * state.player
        w = b[WINDOWS]
        mine = (w > 0).sum(axis=1)
        theirs = (w < 0).sum(axis=1)
        weights = np.array([0.0, 0.0, 2.0, 5.0, 0.0])
        score = weights[mine[theirs == 0]].sum() - 0.8 * weights[theirs[mine == 0]].sum()
        score += 3.0 * float((b.reshape(ROWS, COLS)[:, COLS // 2]).sum())
        return 0.9 * float(np.tanh(score / 60.0))

    def render(self, state: BoardState) -> str:
        rows = [" ".join(MARKS[int(v)] for v in row) for row in state.board]
        rows.append(" ".join(str(c) for c in range(COLS)))
        return "\n".join(rows)
