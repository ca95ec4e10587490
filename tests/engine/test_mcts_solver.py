"""MCTS-Solver: exact results carried up the search tree (engine/games/mcts.py).

A weak network's priors and values are stood in for by a fixed pseudo-random function of
the position, the way an untrained or half-trained brain misleads the search. Without
proofs, such a search played a move that let the opponent win at once in 32 of 67
positions where a safe move existed, and missed 22 wins in one (50 simulations).
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from openbrains.engine.games.mcts import MCTS, visit_policy
from openbrains.engine.games.selfplay import Record, value_target
from openbrains.nodes.games.connect4 import ConnectFour
from openbrains.nodes.games.tictactoe import TicTacToe

C4 = ConnectFour()


def misleading(game):
    """Priors and values that depend on the position alone and mean nothing."""

    def evaluate(states):
        priors, values = [], []
        for s in states:
            rng = np.random.default_rng(zlib.crc32(game.key(s)))
            priors.append(rng.dirichlet(np.full(game.action_size, 0.5)))
            values.append(rng.uniform(-0.6, 0.6))
        return np.array(priors), np.array(values)

    return evaluate


def wins_in_one(state) -> list[int]:
    me = C4.current_player(state)
    return [
        int(a) for a in np.flatnonzero(C4.legal(state)) if C4.outcome(C4.play(state, int(a))) == me
    ]


def gives_a_win_in_one(state, action: int) -> bool:
    after = C4.play(state, action)
    return C4.outcome(after) is None and bool(wins_in_one(after))


def random_positions(n: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        s = C4.initial()
        for _ in range(int(rng.integers(4, 30))):
            if C4.outcome(s) is not None:
                break
            s = C4.play(s, int(rng.choice(np.flatnonzero(C4.legal(s)))))
        if C4.outcome(s) is None:
            out.append(s)
    return out


def best_move(state, sims: int) -> tuple[int, object]:
    root = MCTS(C4, misleading(C4), sims=sims).search(state)
    return int(np.argmax(visit_policy(root, 0.0))), root


@pytest.mark.parametrize("sims", [10, 50])
def test_a_misled_search_takes_wins_in_one_and_never_allows_one(sims: int) -> None:
    tested = 0
    for s in random_positions(300):
        move, _root = best_move(s, sims)
        if wins := wins_in_one(s):
            assert move in wins, C4.render(s)
            continue
        legal = [int(a) for a in np.flatnonzero(C4.legal(s))]
        safe = [a for a in legal if not gives_a_win_in_one(s, a)]
        if safe and len(safe) < len(legal):
            tested += 1
            assert move in safe, C4.render(s)
    assert tested >= 50


def lost_position():
    """O to move; X threatens to win on column 6 and wherever O's own move lets it; only
    column 3 does not lose at once, though X still wins by force."""
    return C4.from_board(
        np.array(
            [
                [0, 0, 0, 0, 0, 0, 0],
                [0, 0, 0, 0, 0, 0, 0],
                [0, 0, 0, 0, 0, 0, 0],
                [0, 0, 0, -1, 1, 1, 0],
                [1, -1, 0, 1, -1, 1, -1],
                [1, -1, 0, 1, -1, -1, 1],
            ]
        )
    )


def test_when_every_move_loses_it_plays_the_slowest_loss() -> None:
    s = lost_position()
    assert C4.current_player(s) == -1
    legal = [int(a) for a in np.flatnonzero(C4.legal(s))]
    assert [a for a in legal if not gives_a_win_in_one(s, a)] == [3]
    move, root = best_move(s, 200)
    assert root.proven == -1.0, "the search proved the position lost"
    assert move == 3, "yet it does not hand over a win in one"


def test_training_targets_give_proven_losses_nothing_and_wins_everything() -> None:
    won = dodged = 0
    for s in random_positions(120, seed=1):
        _move, root = best_move(s, 50)
        pi = visit_policy(root, 1.0)
        assert np.isclose(pi.sum(), 1.0)
        if root.solved is None:
            continue
        lost = root.solved <= -1.0
        if wins_in_one(s):
            assert pi[root.solved >= 1.0].sum() == pytest.approx(1.0)
            won += 1
        elif lost.any() and not lost[root.legal].all():
            assert pi[lost].sum() == 0.0
            dodged += 1
    assert won >= 5 and dodged >= 5, (won, dodged)


@pytest.mark.parametrize("game", [C4, TicTacToe()], ids=lambda g: g.name)
def test_ending_moves_agree_with_playing_each_move(game) -> None:
    """The shortcut MCTS uses on every expansion names exactly the moves after which the
    game is over, the board's last cell (a draw or a win) included."""
    rng = np.random.default_rng(3)
    last = game.rows * game.cols - 1
    checked_last_cell = 0
    for _game in range(3000):
        s = game.initial()
        while game.outcome(s) is None:
            legal = [int(a) for a in np.flatnonzero(game.legal(s))]
            ending = [a for a in legal if game.outcome(game.play(s, a)) is not None]
            assert game.ending_moves(s) == ending, game.render(s)
            checked_last_cell += s.moves == last
            s = game.play(s, int(rng.choice(legal)))
        assert game.ending_moves(s) == []
        if checked_last_cell >= 3:
            break
    assert checked_last_cell >= 3


class WithoutShortcut:
    """Connect Four without ``ending_moves``: MCTS then plays every move to find them."""

    def __init__(self, game) -> None:
        self.game = game
        self.name, self.action_size = game.name, game.action_size

    def __getattr__(self, name: str):
        if name == "ending_moves":
            raise AttributeError(name)
        return getattr(self.game, name)


def test_a_game_without_the_shortcut_is_searched_the_same() -> None:
    plain = WithoutShortcut(C4)
    assert not hasattr(plain, "ending_moves")
    for s in random_positions(60, seed=2):
        quick = MCTS(C4, misleading(C4), sims=50).search(s)
        slow = MCTS(plain, misleading(C4), sims=50).search(s)
        assert np.array_equal(quick.N, slow.N) and quick.proven == slow.proven
        assert np.array_equal(visit_policy(quick, 1.0), visit_policy(slow, 1.0))


def test_value_targets_are_exact_where_proven_and_mix_z_with_q_elsewhere() -> None:
    proven = unproven = 0
    for s in random_positions(60, seed=2):
        _move, root = best_move(s, 50)
        mover = C4.current_player(s)
        record = Record(s, visit_policy(root, 1.0), mover, 0, root.value(), root.proven is not None)
        for result in (1, -1, 0):  # whatever the game's end, a proof is the target
            target = value_target(record, result, 0.5)
            if root.proven is not None:
                assert target == root.proven
            else:
                q = float(root.W.sum() / root.n_total)
                assert target == pytest.approx(0.5 * result * mover + 0.5 * q)
                assert value_target(record, result, 0.0) == result * mover
        if wins_in_one(s):
            assert record.proven and record.searched == 1.0
        proven += record.proven
        unproven += not record.proven
    assert proven >= 5 and unproven >= 5, (proven, unproven)
