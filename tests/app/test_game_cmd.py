"""`openbrains play`, `openbrains arena` and the game lines of `openbrains status`: real
.graph files, real brains and searches, the terminal game driven through stdin."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from openbrains.app.cli import main
from openbrains.app.game_cmd import play_terminal, show
from openbrains.app.run_cmd import yardstick
from openbrains.engine.games.play_budget import DEFAULT_SIMS
from openbrains.nodes.games.tictactoe import TicTacToe
from tests.cli_kit import ROOT, ob
from tests.game_brains import write_game_graph


@pytest.fixture(scope="module")
def ttt_graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_game_graph(tmp_path_factory.mktemp("games") / "ttt.graph", "tictactoe")


@pytest.fixture(scope="module")
def c4_graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_game_graph(tmp_path_factory.mktemp("games") / "c4.graph", "connect4")


def test_arena_json_counts_both_sides(ttt_graph: Path) -> None:
    out = ob(
        "arena", str(ttt_graph), "--game", "tictactoe", "--opponent", "random",
        "--games", "10", "--sims", "10", "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["games"] == 10 and res["sims"] == 10 and res["opponent"] == "random"
    assert res["openings"] == 0
    for side in ("first", "second"):
        assert sum(res[side].values()) == 5
    for key in ("wins", "draws", "losses"):
        assert res["total"][key] == res["first"][key] + res["second"][key]
    t = res["total"]
    assert res["score"] == pytest.approx((t["wins"] + 0.5 * t["draws"]) / 10)


def test_arena_from_openings(ttt_graph: Path, capsys) -> None:
    arena = ["arena", str(ttt_graph), "--game", "tictactoe", "--opponent", "minimax"]
    assert main([*arena, "--games", "6", "--openings", "2", "--sims", "5", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["openings"] == 2 and sum(res["first"].values()) == 3
    assert main([*arena, "--games", "2", "--openings", "1", "--sims", "5"]) == 0
    assert "2 games, each pair after 1 random move" in capsys.readouterr().out


@pytest.mark.parametrize("opponent", ["lookahead", "minimax", "minimax:2"])
def test_arena_table_against_each_reference(ttt_graph: Path, opponent: str, capsys) -> None:
    code = main(
        ["arena", str(ttt_graph), "--game", "tictactoe", "--opponent", opponent, "--games", "4"]
    )
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert (
        f"vs {opponent} at tictactoe, 4 games" in lines[0]
        and f"MCTS {DEFAULT_SIMS} sims" in lines[0]
    )
    counts = {}
    for line in lines[2:]:
        words = line.split()
        label, numbers = (words[1], words[2:5]) if words[0] == "brain" else (words[0], words[1:4])
        counts[label] = [int(n) for n in numbers]
    assert sum(counts["first"]) == sum(counts["second"]) == 2 and sum(counts["total"]) == 4
    assert counts["total"] == [a + b for a, b in zip(counts["first"], counts["second"])]


def test_perfect_minimax_never_loses_a_sided_match() -> None:
    from openbrains.engine.games.champion import opponent, sided_match

    game = TicTacToe()
    res = sided_match(opponent("minimax"), opponent("lookahead"), game, 20, seed=1)
    assert res.first.losses == res.second.losses == 0 and res.first.games == 10
    assert res.first.wins > 0  # it punishes the one-step player's missed forks


def test_openings_are_distinct_unfinished_and_seeded() -> None:
    from openbrains.engine.games.champion import openings
    from openbrains.engine.tasks.game import GameError, state_key
    from openbrains.nodes.games.connect4 import ConnectFour

    game = ConnectFour()
    starts = openings(game, 50, seed=0, plies=3)
    keys = [state_key(game, s) for s in starts]
    assert len(set(keys)) == 50
    assert all(game.outcome(s) is None and np.count_nonzero(s.board) == 3 for s in starts)
    assert keys == [state_key(game, s) for s in openings(game, 50, seed=0, plies=3)]
    assert keys != [state_key(game, s) for s in openings(game, 50, seed=1, plies=3)]
    assert len(openings(TicTacToe(), 9, seed=0, plies=1)) == 9  # every first move
    with pytest.raises(GameError, match="found 9"):
        openings(TicTacToe(), 10, seed=0, plies=1)


def test_sided_match_plays_each_opening_from_both_sides() -> None:
    from openbrains.engine.games.champion import openings, opponent, sided_match
    from openbrains.engine.tasks.game import state_key

    class FirstLegal:
        """Deterministic, and notes each position it is asked about with 2 stones down."""

        name = "first-legal"

        def __init__(self) -> None:
            self.seen: list[object] = []

        def act(self, game, state, rng):
            if np.count_nonzero(state.board) == 2:
                self.seen.append(state_key(game, state))
            return int(np.flatnonzero(game.legal(state))[0])

    game = TicTacToe()
    alone = FirstLegal()
    res = sided_match(alone, opponent("minimax"), game, 8, seed=0)
    assert len(set(alone.seen)) == 1, "two deterministic players replay one game a side"
    opened = FirstLegal()
    res = sided_match(opened, opponent("minimax"), game, 8, seed=0, opening_plies=2)
    starts = [state_key(game, s) for s in openings(game, 4, seed=0, plies=2)]
    assert opened.seen == starts, "it moves first from each opening once, in order"
    assert res.first.games == res.second.games == 4


def test_play_through_stdin_until_the_game_ends(ttt_graph: Path) -> None:
    # every cell in turn: moves the brain has taken are refused and the next line is read
    moves = "".join(f"{i}\n" for i in range(9))
    out = ob("play", str(ttt_graph), "--game", "tictactoe", "--sims", "10", stdin=moves)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "you play X" in text and "brain plays" in text
    assert text.rstrip().splitlines()[-1] in ("you win!", "the brain wins.", "a draw.")
    assert "0 1 2" in text  # empty cells are numbered for typing


def test_play_brain_first_quit_and_end_of_input(c4_graph: Path) -> None:
    out = ob(
        "play", str(c4_graph), "--game", "connect4", "--first", "brain", "--sims", "5",
        stdin="x\n9\n3\nq\n",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "you play O" in lines[0]
    assert lines[1 + 6 + 1].startswith("brain plays")  # board (6 rows + column numbers) first
    assert "0 1 2 3 4 5 6" in out.stdout
    assert "x is not a legal move" in out.stdout and "9 is not a legal move" in out.stdout
    assert out.stdout.rstrip().endswith("bye")
    eof = ob("play", str(c4_graph), "--game", "connect4", "--sims", "5", stdin="3\n")
    assert eof.returncode == 1 and "game left unfinished" in eof.stdout


class FirstLegal:
    """A weak, predictable opponent: always the lowest legal cell."""

    name = "first-legal"

    def act(self, game, state, rng) -> int:
        return int(np.flatnonzero(game.legal(state))[0])


def test_play_terminal_reports_the_winner() -> None:
    game = TicTacToe()
    out = io.StringIO()
    code = play_terminal(game, FirstLegal(), True, 0, io.StringIO("0\n4\n8\n"), out)
    text = out.getvalue()
    assert code == 0 and text.rstrip().endswith("you win!"), text
    assert "brain plays 1" in text and "brain plays 2" in text
    assert show(game, game.initial()) == "0 1 2\n3 4 5\n6 7 8"


def one_line(capsys, code: int, match: str) -> None:
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and match in err[0], err


def test_bad_input_is_one_line_and_status_2(ttt_graph: Path, capsys) -> None:
    play = ["play", str(ttt_graph)]
    arena = ["arena", str(ttt_graph), "--game", "tictactoe"]
    one_line(capsys, main([*play, "--game", "chess"]), "unknown game 'chess'")
    one_line(capsys, main([*play, "--game", "maze"]), "single-player scored environment")
    one_line(capsys, main([*play, "--game", "connect4"]), "9 cells × 3 planes, but connect4 has 42")
    one_line(
        capsys,
        main(["play", str(ROOT / "sample_graphs" / "xor.graph"), "--game", "tictactoe"]),
        "needs a 'policy' and a 'value' head",
    )
    one_line(capsys, main([*play, "--game", "nowhere.module:Game"]), "cannot import")
    one_line(
        capsys,
        main(["play", str(ROOT / "sample_graphs" / "xor.graph"), "--game", "tictactoe", "--gui"]),
        "needs a 'policy' and a 'value' head",
    )  # the window never opens for a file that cannot play
    one_line(capsys, main(["play", "missing.graph", "--game", "tictactoe"]), "missing.graph")
    one_line(capsys, main([*arena, "--opponent", "god"]), "unknown opponent 'god'")
    one_line(capsys, main([*arena, "--opponent", "minimax:x"]), "minimax depth")
    one_line(capsys, main([*arena, "--opponent", "random", "--games", "0"]), "--games")
    one_line(capsys, main([*arena, "--opponent", "random", "--sims", "-1"]), "--sims")
    one_line(
        capsys,
        main([*arena, "--opponent", "minimax", "--openings", "9", "--games", "2"]),
        "too few unfinished positions after 9 moves",
    )


def test_yardstick_places_the_champion_among_references() -> None:
    line = yardstick({"random": 0.0, "onestep": 270.4, "minimax": 451.0}, 300.0)
    assert line == "reference players (elo): random 0 < onestep 270 < [champion 300] < minimax 451"


def test_status_of_a_game_run_shows_the_references(tmp_path: Path) -> None:
    run_dir = tmp_path / "ttt"
    out = ob(
        "run", "--task", "tictactoe", "--run-dir", str(run_dir), "--workers", "0",
        "--individuals", "2", "--population", "4", "--quiet",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    st = json.loads(ob("status", str(run_dir), "--json").stdout)
    refs = st["references"]
    assert refs["random"] == 0.0 and refs["minimax"] > refs["onestep"] > 0
    text = ob("status", str(run_dir)).stdout
    assert "reference players (elo): " in text and "random 0" in text and "[champion " in text
