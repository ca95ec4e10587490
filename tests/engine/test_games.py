"""Games (DESIGN §3.7): rules, search, reference players, Elo, self-play and replay.

Real games, real MCTS, real small brains trained by real self-play; fixed seeds so the
numbers are the same on every run.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.evolve.random import add_io
from openbrains.engine.games.arena import (
    MatchResult,
    calibrate_references,
    expected,
    fit_ratings,
    opening_cycle,
    play_game,
    play_match,
    rate_player,
    round_robin,
    swiss,
    swiss_pairs,
    update,
)
from openbrains.engine.games.envs import (
    brain_actor,
    evaluate_env,
    random_actor,
    run_episode,
    train_reinforce,
)
from openbrains.engine.games.mcts import MCTS, rollout_evaluator, uniform_evaluator, visit_policy
from openbrains.engine.games.players import (
    BrainEvaluator,
    BrainPlayer,
    MCTSPlayer,
    MinimaxPlayer,
    OneStepPlayer,
    RandomPlayer,
    reference_player,
)
from openbrains.engine.games.selfplay import (
    Examples,
    ReplayBuffer,
    play_selfplay_games,
    selfplay_train,
    train_on_examples,
)
from openbrains.engine.graph import Graph
from openbrains.engine.tasks.game import (
    AlphaZeroGeneralAdapter,
    GameError,
    GameTask,
    game_io,
    is_env,
    is_game,
    load_user_game,
    make_game,
)
from openbrains.engine.trust import UntrustedCode, user_gave
from openbrains.nodes.games.connect4 import ConnectFour, wins
from openbrains.nodes.games.maze import Maze
from openbrains.nodes.games.tictactoe import TicTacToe
from tests.game_brains import brain_for

TTT = TicTacToe()
C4 = ConnectFour()


def ttt(cells: str) -> object:
    """A tic-tac-toe state from 9 characters of X, O and '.' (row by row)."""
    return TTT.from_board([{"X": 1, "O": -1, ".": 0}[c] for c in cells.replace(" ", "")])


def c4(rows: list[str]) -> object:
    """A Connect Four state from 6 strings of 7 characters, top row first."""
    board = [[{"X": 1, "O": -1, ".": 0}[c] for c in row] for row in rows]
    return C4.from_board(np.array(board))


def tiny_brain(game, seed: int = 0):
    """A tiny conv policy+value brain: conv2d(16) → flatten → dense(32) → both heads."""
    return brain_for(game, seed)


# ----- rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "result"),
    [
        ("XXX OO. ...", 1),  # row
        ("XO. XO. X..", 1),  # column
        ("X.O .XO ..X", 1),  # diagonal
        ("XXO .O. O.X", -1),  # anti-diagonal for O
        (".X. OOO XX.", -1),  # middle row for O
        ("XOX XOO OXX", 0),  # full board, nobody won
        ("XO. ... ...", None),
    ],
)
def test_tictactoe_outcomes(cells: str, result: int | None) -> None:
    assert TTT.outcome(ttt(cells)) == result


def test_tictactoe_moves_and_masks() -> None:
    s = TTT.initial()
    assert TTT.current_player(s) == 1 and TTT.legal(s).all()
    s2 = TTT.play(s, 4)
    assert s.board.flat[4] == 0, "play must not mutate its input"
    assert TTT.current_player(s2) == -1
    assert not TTT.legal(s2)[4] and TTT.legal(s2).sum() == 8
    with pytest.raises(ValueError):
        TTT.play(s2, 4)
    won = ttt("XXX OO. ...")
    assert not TTT.legal(won).any(), "nothing is legal once the game is over"
    enc = TTT.encode(s2)  # O to move: X's mark is "theirs"
    assert enc.shape == (9, 3) and enc[4, 1] == 1 and enc[4, 0] == 0 and enc[:, 2].sum() == 8
    spec = TTT.spec()
    assert spec.meta.grid == (3, 3) and spec.time == 9 and spec.channels == 3
    assert "X" in TTT.render(s2)


def test_connect4_gravity_and_masks() -> None:
    s = C4.initial()
    for _ in range(3):
        s = C4.play(s, 3)
    assert list(s.board[:, 3]) == [0, 0, 0, 1, -1, 1], "discs stack from the bottom"
    for _ in range(3):
        s = C4.play(s, 3)
    assert not C4.legal(s)[3] and C4.legal(s).sum() == 6
    with pytest.raises(ValueError):
        C4.play(s, 3)
    enc = C4.encode(s)
    assert enc.shape == (42, 4)
    assert enc[5 * 7 + 0, 3] == 1, "the bottom cell of an empty column is playable"
    assert enc[:, 3].sum() == 6, "a full column has no playable cell"
    with pytest.raises(ValueError):
        c4([".......", ".......", ".......", ".......", "X......", "......."])


@pytest.mark.parametrize(
    ("rows", "result"),
    [
        ([".......", ".......", ".......", ".......", "OOO....", "XXXX..."], 1),
        ([".......", ".......", "O......", "O......", "OX.....", "OXX.X.."], -1),
        ([".......", ".......", "...X...", "..XO...", ".XOO...", "XOOX..X"], 1),
        ([".......", ".......", "O......", "XO.....", "XXO....", "XXXO..."], -1),
        ([".......", ".......", ".......", ".......", "OOO....", "XXX.X.."], None),
    ],
)
def test_connect4_wins_in_rows_columns_and_diagonals(rows: list[str], result: int | None) -> None:
    assert c4(rows).result == result


def test_connect4_bitboards_agree_with_a_board_scan() -> None:
    rng = np.random.default_rng(0)
    draws = 0
    for _ in range(200):
        s = C4.initial()
        while s.result is None:
            s = C4.play(s, int(rng.choice(np.flatnonzero(C4.legal(s)))))
            rebuilt = C4.from_board(s.board, s.player)
            assert rebuilt.extra == s.extra and rebuilt.result == s.result
            assert s.result == _scan(s.board) or (s.result == 0 and _scan(s.board) is None)
        draws += s.result == 0
    full = c4(["OOXXOOX", "XXXOXOO", "OXXOXOO", "OXOOXXX", "XOOXOXX", "XOOOXXO"])
    drawn = C4.from_board(full.board)
    assert _scan(drawn.board) is None
    assert drawn.result == 0 and not C4.legal(drawn).any()


def _scan(board: np.ndarray) -> int | None:
    for r in range(6):
        for c in range(7):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                cells = [(r + i * dr, c + i * dc) for i in range(4)]
                if all(0 <= y < 6 and 0 <= x < 7 for y, x in cells):
                    v = {int(board[y, x]) for y, x in cells}
                    if len(v) == 1 and 0 not in v:
                        return v.pop()
    return None


def test_wins_bitboard_helper() -> None:
    assert wins(0b1111) and not wins(0b0111)
    assert wins(1 | 1 << 7 | 1 << 14 | 1 << 21)  # bottom row, columns 0-3
    assert not wins(1 | 1 << 7 | 1 << 14 | 1 << 22)


@pytest.mark.parametrize("game", [TTT, C4], ids=["tictactoe", "connect4"])
def test_symmetries_preserve_legality_and_commute_with_play(game) -> None:
    rng = np.random.default_rng(1)
    for _ in range(30):
        s = game.initial()
        for _ in range(int(rng.integers(0, 5))):
            s = game.play(s, int(rng.choice(np.flatnonzero(game.legal(s)))))
        if game.outcome(s) is not None:
            continue
        legal = game.legal(s)
        pi = legal / legal.sum()
        syms = game.symmetries(s, pi)
        assert len(syms) == (8 if game is TTT else 2)
        for sym, p in syms:
            assert p.shape == pi.shape and math.isclose(p.sum(), 1.0, rel_tol=1e-6)
            assert ((p > 0) == game.legal(sym)).all(), "policy support = legal moves"
            assert game.current_player(sym) == game.current_player(s)
        a = int(rng.choice(np.flatnonzero(legal)))
        onehot = np.eye(game.action_size, dtype=np.float32)[a]
        after = game.play(s, a)
        expected_boards = {
            game.symmetries(after, onehot)[k][0].board.tobytes() for k in range(len(syms))
        }
        for sym, p in game.symmetries(s, onehot):
            nxt = game.play(sym, int(np.argmax(p)))
            assert nxt.board.tobytes() in expected_boards


# ----- search -----------------------------------------------------------------------------------


def _best(game, state, sims: int, **kw) -> int:
    root = MCTS(game, uniform_evaluator(game), sims=sims, **kw).search(state)
    return int(np.argmax(visit_policy(root, 0.0)))


def test_mcts_takes_a_win_in_one_and_blocks() -> None:
    assert _best(TTT, ttt("XX. OO. ..."), 200) == 2  # X wins at once
    assert _best(TTT, ttt("XX. .O. ..."), 300) == 2  # O must block
    assert _best(TTT, ttt("OO. XX. ..."), 300) == 5  # X wins rather than block
    assert _best(TTT, ttt("XX. OO. ..."), 200, leaves_per_call=4) == 2


def test_mcts_connect4_win_in_one_and_block() -> None:
    win = c4([".......", ".......", ".......", ".......", "OOO....", "XXX...."])
    assert C4.current_player(win) == 1 and _best(C4, win, 400) == 3
    block = c4([".......", ".......", ".......", ".......", ".......", "XXX.O.."])
    assert C4.current_player(block) == -1 and _best(C4, block, 800) == 3
    vertical = c4([".......", ".......", ".......", "...O.XX", "...O.XX", "...O.XX"])
    assert _best(C4, vertical, 400) == 3


def test_mcts_batches_trees_and_counts_simulations() -> None:
    calls = []

    def evaluator(states):
        calls.append(len(states))
        return np.ones((len(states), 9)), np.zeros(len(states))

    mcts = MCTS(TTT, evaluator, sims=50)
    roots = mcts.search_many([TTT.initial(), ttt("X.. .O. ...")])
    assert all(r.n_total == 50 for r in roots)
    assert max(calls) == 2, "both trees share each evaluator call"
    assert mcts.evaluations <= 2 + 100
    noisy = MCTS(TTT, evaluator, sims=30).search(
        TTT.initial(), np.random.default_rng(0), noise=True
    )
    assert not np.allclose(noisy.prior, 1 / 9)
    p = visit_policy(noisy, 1.0)
    assert math.isclose(p.sum(), 1.0) and (p[~TTT.legal(TTT.initial())] == 0).all()
    rolled = MCTS(TTT, rollout_evaluator(TTT, seed=0), sims=100).search(ttt("XX. OO. ..."))
    assert int(np.argmax(rolled.N)) == 2


# ----- reference players ------------------------------------------------------------------------


def test_onestep_wins_and_blocks() -> None:
    rng = np.random.default_rng(0)
    p = OneStepPlayer()
    assert p.act(TTT, ttt("XX. OO. ..."), rng) == 2
    assert all(p.act(TTT, ttt("XX. .O. ..."), np.random.default_rng(i)) == 2 for i in range(10))
    block = c4([".......", ".......", ".......", ".......", ".......", "XXX.O.."])
    assert p.act(C4, block, rng) == 3


def test_minimax_is_exact_on_tictactoe() -> None:
    mm = MinimaxPlayer()
    rng = np.random.default_rng(0)
    assert all(v == 0 for v in mm.action_values(TTT, TTT.initial()).values())
    assert mm.act(TTT, ttt("XX. OO. ..."), rng) == 2
    assert mm.act(TTT, ttt("XX. .O. ..."), rng) == 2
    # O to move after X took opposite corners: an edge draws, a corner loses to a fork
    values = mm.action_values(TTT, ttt("X.. .O. ..X"))
    assert values[1] == 0 and values[2] < 0 and values[6] < 0
    vs_random = play_match(mm, RandomPlayer(), TTT, 200, seed=0)
    assert vs_random.losses == 0 and vs_random.wins > 150, vs_random
    mirror = play_match(mm, MinimaxPlayer(), TTT, 20, seed=1)
    assert mirror.draws == 20


def test_limited_minimax_on_connect4() -> None:
    mm = MinimaxPlayer(depth=3)
    rng = np.random.default_rng(0)
    win = c4([".......", ".......", ".......", ".......", "OOO....", "XXX...."])
    assert mm.act(C4, win, rng) == 3
    block = c4([".......", ".......", ".......", ".......", ".......", "XXX.O.."])
    assert mm.act(C4, block, rng) == 3
    result = play_match(mm, RandomPlayer(), C4, 6, seed=0)
    assert result.wins == 6, result


def test_reference_players_by_name() -> None:
    assert reference_player("random", TTT).name == "random"
    assert reference_player("minimax:2", TTT).depth == 2
    assert reference_player("mcts:50", TTT).name == "mcts:50"
    with pytest.raises(GameError):
        reference_player("oracle", TTT)


# ----- arena and Elo ----------------------------------------------------------------------------


def test_elo_by_hand() -> None:
    assert expected(1500, 1500) == 0.5
    assert update(1500, 1500, 1.0, k=32) == (1516.0, 1484.0)
    assert update(1500, 1500, 0.0, k=32) == (1484.0, 1516.0)
    assert update(1500, 1500, 0.5, k=32) == (1500.0, 1500.0)
    # 1600 vs 1400: E = 1 / (1 + 10^-0.5) = 0.759747; a draw costs the favourite 8.31
    assert math.isclose(expected(1600, 1400), 0.7597469, rel_tol=1e-6)
    ra, rb = update(1600, 1400, 0.5, k=32)
    assert math.isclose(ra, 1591.6881, abs_tol=1e-3) and math.isclose(rb, 1408.3119, abs_tol=1e-3)
    ra, rb = update(1400, 1600, 1.0, k=32)  # the upset win
    assert math.isclose(ra, 1424.3119, abs_tol=1e-3) and math.isclose(rb, 1575.6881, abs_tol=1e-3)
    # several games at once: 3 wins, 1 draw, 1 loss of 5 at equal ratings, k = 10
    assert update(0, 0, MatchResult(3, 1, 1).points, k=10, games=5) == (10.0, -10.0)


def test_fit_ratings_is_anchored_and_counts_draws_as_half() -> None:
    # 75 % against the anchor is 400·log10(3) ≈ 190.85 Elo above it
    results = [("a", "random", MatchResult(60, 100, 0)), ("a", "random", MatchResult(40, 0, 0))]
    r = fit_ratings(results, anchors={"random": 0.0}, prior_games=0.0)
    assert r["random"] == 0.0
    assert math.isclose(r["a"], 400 * math.log10(3), abs_tol=0.5)
    even = fit_ratings([("b", "random", MatchResult(0, 40, 0))], anchors={"random": 0.0})
    assert abs(even["b"]) < 1e-6
    perfect = fit_ratings([("c", "random", MatchResult(20, 0, 0))], anchors={"random": 0.0})
    assert 400 < perfect["c"] < 2000


def test_play_match_alternates_sides_and_is_reproducible() -> None:
    class First:
        name = "first"

        def act(self, game, state, rng):
            return int(np.flatnonzero(game.legal(state))[0])

    # "first legal cell" players: whoever starts wins along the top row... and diagonal
    res = play_match(First(), First(), TTT, 10, seed=0)
    assert res.wins == 5 and res.losses == 5, "each side started half of the games"
    a = play_match(OneStepPlayer(), RandomPlayer(), TTT, 30, seed=3)
    b = play_match(OneStepPlayer(), RandomPlayer(), TTT, 30, seed=3)
    assert a == b

    class Cheat:
        name = "cheat"

        def act(self, game, state, rng):
            return int(np.flatnonzero(~game.legal(state))[0]) if game.legal(state).sum() < 9 else 0

    assert play_game(TTT, RandomPlayer(), Cheat(), np.random.default_rng(0)) == 1


def test_matches_from_openings_start_each_pair_from_its_own_position() -> None:
    class Recorder:
        """minimax:2's moves, noting every position it is asked about."""

        name = "recorder"

        def __init__(self) -> None:
            self.inner, self.seen = MinimaxPlayer(depth=2), []

        def act(self, game, state, rng):
            self.seen.append(state)
            return self.inner.act(game, state, rng)

    def pieces(state) -> int:
        return int(np.abs(state.board).sum())

    rec = Recorder()
    res = play_match(rec, MinimaxPlayer(depth=2), C4, 20, seed=0, opening_plies=2)
    starts = opening_cycle(C4, 10, seed=0, plies=2)
    assert len({C4.key(s) for s in starts}) == 10 and all(pieces(s) == 2 for s in starts)
    first = [s for s in rec.seen if pieces(s) == 2]  # the games it started: at the opening
    assert [C4.key(s) for s in first] == [C4.key(s) for s in starts]
    second = [s for s in rec.seen if pieces(s) == 3]  # the others: one reply later
    assert len(second) == 10
    assert all(int((b.board != a.board).sum()) == 1 for a, b in zip(starts, second))
    assert res.games == 20 and res.wins + res.draws > 0 and res.losses + res.draws > 0
    again = play_match(OneStepPlayer(), RandomPlayer(), C4, 8, seed=3, opening_plies=2)
    assert again == play_match(OneStepPlayer(), RandomPlayer(), C4, 8, seed=3, opening_plies=2)
    # a game with too few openings repeats them rather than failing a run's arena
    few = opening_cycle(TTT, 12, seed=0, plies=1)
    assert len(few) == 12 and len({TTT.key(s) for s in few}) == 9
    assert opening_cycle(TTT, 12, seed=0, plies=0) == []


def test_round_robin_and_swiss_with_anchored_reference() -> None:
    players = {
        "random": RandomPlayer(),
        "onestep": OneStepPlayer(),
        "minimax": MinimaxPlayer(),
    }
    t = round_robin(players, TTT, n_games=20, seed=0, anchors={"random": 0.0}, k=16)
    assert t.ratings["random"] == 0.0
    assert len(t.results) == 3
    # one round from equal ratings: every match moves both sides by k·(points − expected)
    by_pair = {(a, b): res for a, b, res in t.results}
    onestep = 16 * (by_pair["random", "onestep"].flipped().points - 10) + 16 * (
        by_pair["onestep", "minimax"].points - 10
    )
    assert math.isclose(t.ratings["onestep"], onestep)
    assert t.ratings["minimax"] > max(t.ratings["onestep"], 0), t.table()
    fitted = fit_ratings(t.results, anchors={"random": 0.0})
    assert fitted["minimax"] > fitted["onestep"] > 0
    s = swiss(
        players, TTT, rounds=2, n_games=10, seed=0, ratings=t.ratings, anchors={"random": 0.0}
    )
    assert s.ratings["random"] == 0.0 and len(s.results) == 2
    pairs = swiss_pairs({"a": 30, "b": 20, "c": 10, "d": 0}, {frozenset(("a", "b"))})
    assert pairs == [("a", "c"), ("b", "d")]
    refs = calibrate_references(TTT, ("random", "onestep", "minimax"), n_games=20, seed=0)
    assert refs["random"] == 0.0 and refs["minimax"] > refs["onestep"] > 100, refs
    rating, results = rate_player(
        MinimaxPlayer(depth=2), TTT, {n: players[n] for n in refs}, refs, n_games=10
    )
    assert len(results) == 3 and refs["onestep"] - 200 < rating < refs["minimax"] + 200


# ----- alpha-zero-general adapter -------------------------------------------------------------


class FakeAZGTicTacToe:
    """Tic-tac-toe written the alpha-zero-general way (numpy boards, canonical forms)."""

    n = 3

    def getInitBoard(self):
        return np.zeros((3, 3), dtype=int)

    def getBoardSize(self):
        return (3, 3)

    def getActionSize(self):
        return 9 + 1  # alpha-zero-general reserves a pass action

    def getNextState(self, board, player, action):
        if action == 9:
            return board, -player
        b = board.copy()
        b[action // 3, action % 3] = player
        return b, -player

    def getValidMoves(self, board, player):
        valid = np.zeros(10, dtype=int)
        valid[:9] = (board.reshape(-1) == 0).astype(int)
        if valid.sum() == 0:
            valid[9] = 1
        return valid

    def getGameEnded(self, board, player):
        lines = [*board, *board.T, board.diagonal(), np.fliplr(board).diagonal()]
        for line in lines:
            if abs(line.sum()) == 3:
                return 1 if line.sum() * player > 0 else -1
        if (board != 0).all():
            return 1e-4
        return 0

    def getCanonicalForm(self, board, player):
        return player * board

    def getSymmetries(self, board, pi):
        pi_board = np.reshape(pi[:-1], (3, 3))
        out = []
        for i in range(1, 5):
            for flip in (True, False):
                nb, npi = np.rot90(board, i), np.rot90(pi_board, i)
                if flip:
                    nb, npi = np.fliplr(nb), np.fliplr(npi)
                out.append((nb, [*npi.ravel(), pi[-1]]))
        return out

    def stringRepresentation(self, board):
        return board.tobytes()

    @staticmethod
    def display(board):
        print(board)


def test_alpha_zero_general_adapter_plays_full_games() -> None:
    game = AlphaZeroGeneralAdapter(FakeAZGTicTacToe())
    assert is_game(game) and game.action_size == 10 and game.spec().meta.grid == (3, 3)
    s = game.initial()
    assert game.legal(s)[:9].all() and not game.legal(s)[9]
    s = game.play(game.play(s, 0), 4)
    assert game.current_player(s) == 1 and game.encode(s)[0, 0] == 1 and game.encode(s)[4, 1] == 1
    syms = game.symmetries(s, game.legal(s) / game.legal(s).sum())
    assert len(syms) == 8 and all(((p > 0) == game.legal(b)).all() for b, p in syms)
    assert "[" in game.render(s)
    # MCTS through the adapter wins a won position and full games run to the end
    won = game.play(game.play(s, 1), 3)  # X: 0, 1; O: 4, 3 → X to move wins at 2
    assert _best(game, won, 200) == 2
    res = play_match(MCTSPlayer(game, sims=100), RandomPlayer(), game, 10, seed=0)
    assert res.games == 10 and res.losses == 0
    draws = play_match(MinimaxPlayer(), MinimaxPlayer(), game, 4, seed=0)
    assert draws.draws == 4, "draws (1e-4) are recognised as draws"
    with pytest.raises(UntrustedCode):  # named, not given by the user: never imported
        load_user_game("tests.engine.test_games:FakeAZGTicTacToe")
    user_gave("tests.engine.test_games:FakeAZGTicTacToe", "a test")
    loaded = load_user_game("tests.engine.test_games:FakeAZGTicTacToe")
    assert isinstance(loaded, AlphaZeroGeneralAdapter)


def test_loading_games_by_name_and_entry_point() -> None:
    assert isinstance(make_game("tictactoe"), TicTacToe)
    assert isinstance(make_game("openbrains.nodes.games.connect4:ConnectFour"), ConnectFour)
    maze = make_game("maze", size=4)
    assert is_env(maze) and not is_game(maze) and maze.size == 4
    for entry in ("no_such_module_xyz:Game", "openbrains.nodes.games.tictactoe:Nope", "math:pi"):
        user_gave(entry, "a test")
    for bad, words in [
        ("tictac", "unknown game"),
        ("no_such_module_xyz:Game", "cannot import"),
        ("openbrains.nodes.games.tictactoe:Nope", "has no"),
        ("openbrains.nodes.games.tictactoe:", "must be named as"),
        ("math:pi", "neither"),
    ]:
        with pytest.raises(OpenBrainsError, match=words):
            make_game(bad)


def test_game_task_description_round_trips() -> None:
    task = GameTask("ttt", "tictactoe", sims=10)
    assert task.two_player and task.metric == "elo" and not task.causal
    assert set(task.outputs) == {"policy", "value"} and task.outputs["policy"].channels == 9
    d = task.describe()
    again = GameTask.from_dict(d)
    assert again.describe() == d
    env_task = GameTask("maze", "maze", options={"size": 5})
    assert env_task.metric == "score" and list(env_task.inputs) == ["observation"]


# ----- brains: evaluation, self-play, training ---------------------------------------------------


def test_brain_evaluator_masks_illegal_moves() -> None:
    brain = tiny_brain(TTT, seed=3)
    ev = BrainEvaluator(brain, TTT)
    states = [TTT.initial(), ttt("XO. .X. ..O"), ttt("XXX OO. ...")]
    priors, values = ev(states)
    assert priors.shape == (3, 9) and values.shape == (3,)
    assert np.allclose(priors[:2].sum(1), 1.0) and (np.abs(values) <= 1).all()
    assert (priors[1][~TTT.legal(states[1])] == 0).all()
    assert (priors[2] == 0).all(), "a finished game has no legal move"
    again, _ = ev(states)
    assert np.array_equal(priors, again) and ev.forwards == 1, "the second call is cached"
    assert brain.training, "evaluation must leave the brain's mode as it was"


def test_replay_buffer_round_trips_through_bytes() -> None:
    buf = ReplayBuffer(5, (9, 3), 9)
    rng = np.random.default_rng(0)

    def batch(n: int, start: float) -> Examples:
        return Examples(
            rng.random((n, 9, 3), dtype=np.float32),
            np.full((n, 9), 1 / 9, np.float32),
            np.arange(start, start + n, dtype=np.float32),
        )

    buf.add(batch(3, 0))
    buf.add(batch(4, 3))  # wraps: keeps the last five (values 2..6)
    assert len(buf) == 5 and buf.added == 7
    assert list(buf.examples().values) == [2, 3, 4, 5, 6]
    data = buf.to_bytes()
    assert isinstance(data, bytes) and b"openbrains.replay/1" in data
    back = ReplayBuffer.from_bytes(data)
    assert back.capacity == 5 and back.added == 7
    for x, y in zip(
        (back.examples().states, back.examples().policies, back.examples().values),
        (buf.examples().states, buf.examples().policies, buf.examples().values),
    ):
        assert np.array_equal(x, y)
    assert len(buf.sample(3, rng)) == 3 and len(buf.sample(50, rng)) == 5
    with pytest.raises(GameError):
        ReplayBuffer.from_bytes(b"not a buffer at all")
    with pytest.raises(GameError):
        buf.add(
            Examples(
                np.zeros((1, 4, 3), np.float32),
                np.zeros((1, 9), np.float32),
                np.zeros(1, np.float32),
            )
        )


def test_selfplay_examples_are_augmented_and_valued() -> None:
    ev = uniform_evaluator(TTT)
    ex, stats = play_selfplay_games(TTT, ev, n_games=6, sims=20, seed=0, parallel=3)
    assert stats.games == 6 and stats.first_wins + stats.second_wins + stats.draws == 6
    assert len(ex) == 8 * stats.moves, "eight symmetries per position"
    assert ex.states.shape[1:] == (9, 3) and ex.policies.shape[1] == 9
    assert np.allclose(ex.policies.sum(1), 1.0, atol=1e-5)
    assert set(np.unique(ex.values)) <= {-1.0, 0.0, 1.0}, "the result, or a proof"
    mixed, _ = play_selfplay_games(TTT, ev, n_games=6, sims=20, seed=0, parallel=3, value_mix=0.5)
    assert mixed.values.min() >= -1.0 and mixed.values.max() <= 1.0
    assert len(set(np.unique(mixed.values)) - {-1.0, 0.0, 1.0}) > 0, "z mixed with q"
    brain = tiny_brain(TTT)
    before = [p.detach().clone() for p in brain.parameters()]
    t = train_on_examples(brain, ex, steps=20, lr=1e-2, seed=0)
    assert t.steps == 20 and math.isfinite(t.policy_loss) and math.isfinite(t.value_loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, brain.parameters()))


def test_fast_moves_are_played_but_not_kept() -> None:
    """Playout cap randomisation: most moves get a fast search and are not examples."""
    ev = uniform_evaluator(TTT)
    full, fs = play_selfplay_games(TTT, ev, n_games=8, sims=20, seed=3, parallel=4)
    capped, cs = play_selfplay_games(
        TTT, ev, n_games=8, sims=20, seed=3, parallel=4, full_share=0.25, fast_sims=4
    )
    assert fs.games == cs.games == 8
    assert len(full) == 8 * fs.moves, "every move is an example"
    assert 0 < len(capped) < 8 * cs.moves and len(capped) % 8 == 0
    assert cs.simulations < 20 * cs.moves, "fast moves searched less"
    with pytest.raises(GameError, match="full_share"):
        play_selfplay_games(TTT, ev, n_games=1, sims=4, full_share=0.0)


def test_short_selfplay_training_beats_random_more_often() -> None:
    torch.manual_seed(0)
    brain = tiny_brain(TTT, seed=0)
    greedy = BrainPlayer(brain, TTT, sims=0)
    before = play_match(greedy, RandomPlayer(), TTT, 200, seed=11)
    shared = ReplayBuffer.for_game(TTT, capacity=20_000)
    ticks = []
    stats = selfplay_train(
        brain,
        TTT,
        budget_games=96,
        sims=25,
        buffer=shared,
        seed=0,
        on_step=lambda: ticks.append(1),
        train_steps=900,
        lr=3e-3,
    )
    assert not stats.diverged and stats.games.games == 96 and stats.steps == 900
    assert len(shared) == len(stats.new_examples) > 0 and len(ticks) > 900
    after = play_match(BrainPlayer(brain, TTT, sims=0), RandomPlayer(), TTT, 200, seed=11)
    print(f"greedy brain vs random, 200 games: before {before}, after {after}")
    assert after.score > before.score + 0.15, (before, after)
    assert after.wins > after.losses * 2
    searched = play_match(BrainPlayer(brain, TTT, sims=25), RandomPlayer(), TTT, 40, seed=5)
    assert searched.score > 0.8, searched


def test_replay_ratio_sets_how_much_of_the_elders_games_a_candidate_trains_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each round trains on the candidate's own examples plus ``shared_ratio`` times as many
    drawn from the worker's buffer (the ``replay_ratio`` of a game task)."""
    from openbrains.engine.games import selfplay

    elders = ReplayBuffer.for_game(TTT, capacity=20_000)
    elders.add(play_selfplay_games(TTT, uniform_evaluator(TTT), 16, sims=4, seed=1)[0])
    sizes: list[tuple[float, int]] = []
    real = selfplay.train_on_examples

    def counting(brain, data, steps, **kw):  # type: ignore[no-untyped-def]
        sizes.append((ratio, len(data)))
        return real(brain, data, steps, **kw)

    monkeypatch.setattr(selfplay, "train_on_examples", counting)
    own = {}
    for ratio in (0.0, 1.0, 3.0):
        buffer = ReplayBuffer.from_bytes(elders.to_bytes())  # the same elders each time
        brain = tiny_brain(TTT, seed=0)
        stats = selfplay_train(
            brain, TTT, 4, sims=4, buffer=buffer, rounds=1, train_steps=5, shared_ratio=ratio
        )
        own[ratio] = len(stats.new_examples)
    assert own[0.0] == own[1.0] == own[3.0] > 0, "the same seed plays the same games"
    n = own[0.0]
    assert sizes == [(0.0, n), (1.0, 2 * n), (3.0, 4 * n)]


# ----- single-player environments -----------------------------------------------------------


def test_maze_environment_and_runner() -> None:
    env = Maze(size=5, max_steps=40)
    a = env.reset(7)
    b = env.reset(7)
    assert np.array_equal(a, b) and a.shape == (25, 3) and env.spec().meta.grid == (5, 5)
    oracle = evaluate_env(env, lambda obs, rng: env.best_action(), episodes=5, seed=0)
    rand = evaluate_env(env, random_actor(4), episodes=5, seed=0)
    assert oracle.mean > rand.mean and all(s > 0.5 for s in oracle.scores)
    env.reset(3)
    best = env.optimal_score()
    assert math.isclose(run_episode(env, lambda o, r: env.best_action(), 3).score, best)
    assert "@" in env.render()
    with pytest.raises(ValueError):
        env.step(0)  # the episode above ended at the goal
    ins, outs = game_io(env)
    brain = compile_graph(_env_graph(ins, outs), seed=0)
    st = train_reinforce(brain, env, episodes=8, batch_episodes=4, env_seeds=[1, 2], seed=0)
    assert st.episodes == 8 and st.steps == 2 and not st.diverged
    res = evaluate_env(env, brain_actor(brain), episodes=2, seed=0)
    assert len(res.scores) == 2


def _env_graph(ins, outs) -> Graph:
    rng = random.Random(0)
    graph = Graph()
    i, o = add_io(graph, ins, outs, rng)
    flat = graph.add_node("flatten", {}, rng=rng)
    dense = graph.add_node("dense", {"width": 16, "activation": "relu"}, rng=rng)
    graph.connect(i[0], flat.uid, rng=rng)
    graph.connect(flat.uid, dense.uid, rng=rng)
    for out in o:
        graph.connect(dense.uid, out, rng=rng)
    return graph
