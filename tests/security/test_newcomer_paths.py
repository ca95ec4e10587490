"""The paths a new user walks (issue 12, point 7), end to end through the real command line.

A user's own game, written in alpha-zero-general's style in a folder of their own with a
size option, runs as `--task tinygame.TinyGame:TinyGame --option n=3` from that folder (as
`python -m` would find it), in worker processes; its exported champion then plays in
`arena` (against the user's own `play(board)` player too), `eval` and `play`, rebuilt with
the options it recorded. An images-folder champion answers `openbrains live` on a video
standing in for a camera, with the codecs its export carries; a CSV champion answers rows
typed on stdin.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openbrains.engine.format import load
from openbrains.engine.taskrecord import latest
from tests.security.trust_kit import ob, one_line_error

GAME = "tinygame.TinyGame:TinyGame"
PLAYER = "tinygame.TinyGame:FirstFreePlayer"

TINY_GAME = '''
"""k in a row on an n × n board, written the alpha-zero-general way."""
import numpy as np


class TinyGame:
    def __init__(self, n, k=3):
        self.n, self.k = n, k

    def getInitBoard(self):
        return np.zeros((self.n, self.n), dtype=int)

    def getBoardSize(self):
        return (self.n, self.n)

    def getActionSize(self):
        return self.n * self.n + 1

    def getNextState(self, board, player, action):
        if action == self.n * self.n:
            return board, -player
        b = board.copy()
        b[action // self.n, action % self.n] = player
        return b, -player

    def getValidMoves(self, board, player):
        valid = np.zeros(self.n * self.n + 1, dtype=int)
        valid[:-1] = (board.reshape(-1) == 0).astype(int)
        if valid.sum() == 0:
            valid[-1] = 1
        return valid

    def getGameEnded(self, board, player):
        n, k = self.n, self.k
        for p in (1, -1):
            for r in range(n):
                for c in range(n):
                    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                        cells = [(r + i * dr, c + i * dc) for i in range(k)]
                        if all(0 <= a < n and 0 <= b < n and board[a, b] == p for a, b in cells):
                            return 1 if p == player else -1
        return 1e-4 if (board != 0).all() else 0

    def getCanonicalForm(self, board, player):
        return player * board

    def getSymmetries(self, board, pi):
        return [(board, pi)]

    def stringRepresentation(self, board):
        return board.tobytes()


class FirstFreePlayer:
    """alpha-zero-general's player convention: built with the game, play(board)."""

    def __init__(self, game):
        self.game = game

    def play(self, board):
        return int(np.flatnonzero(self.game.getValidMoves(board, 1))[0])
'''


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.mark.slow
def test_a_users_game_from_run_to_arena_eval_and_play(tmp_path: Path, home: Path) -> None:
    folder = tmp_path / "mygame"
    (folder / "tinygame").mkdir(parents=True)
    (folder / "tinygame" / "__init__.py").write_text("")
    (folder / "tinygame" / "TinyGame.py").write_text(textwrap.dedent(TINY_GAME))

    def cli(line: str, *extra: str, stdin: str = "") -> Any:
        return ob(*line.split(), *extra, cwd=folder, home=home, stdin=stdin)

    helped = cli(f"run --help {GAME}")
    assert helped.returncode == 0 and "--option n=VALUE" in helped.stdout
    assert "--option k=VALUE (default 3)" in helped.stdout
    small = "--option selfplay_games=4 --option sims=4 --option arena_games=2"
    out = cli(
        f"run --task {GAME} --option n=3 {small} --workers 1 --individuals 2 "
        "--budget-steps 5 --quiet"
    )  # in a worker process: the grant travels with it
    assert out.returncode == 0, out.stderr
    run_dir = folder / "runs" / "tinygame-TinyGame-TinyGame"
    st = json.loads(cli(f"status {run_dir} --json").stdout)
    assert st["individuals"] == 2 and st["best"]["metric"] == "elo"
    assert st["task"]["n"] == "3" and st["task"]["name"] == GAME
    exported = cli(f"export {run_dir} --best -o champ.graph")
    assert exported.returncode == 0, exported.stderr
    task = latest(load(folder / "champ.graph").graph)
    assert task.extra["game"] == GAME and task.options == {"n": 3}  # converted by the signature

    # the arena: the recorded n=3 rebuilds the game; the user's own player is an opponent
    arena = cli(f"arena champ.graph --game {GAME} --opponent {PLAYER} --games 4 --sims 0 --json")
    assert arena.returncode == 0, arena.stderr
    result = json.loads(arena.stdout)
    assert result["games"] == 4 and result["opponent"] == PLAYER
    # the command line's option wins over the recorded one (and a 4×4 game does not fit)
    wrong = cli(f"arena champ.graph --game {GAME} --opponent random --option n=4")
    one_line_error(wrong, "16 cells")
    ev = cli(f"eval champ.graph --task {GAME} --option arena_games=2 --json")
    assert ev.returncode == 0, ev.stderr
    score = json.loads(ev.stdout)
    assert score["metric"] == "elo" and np.isfinite(score["test"]) and score["examples"] == 6
    played = cli(f"play champ.graph --game {GAME} --sims 0", stdin="0\n1\n2\n3\n4\n5\n6\n7\n8\n")
    assert played.returncode in (0, 1), played.stderr
    assert "TinyGame: you play X" in played.stdout and "brain plays" in played.stdout


def _shapes(folder: Path, per_class: int = 30) -> None:
    """Two classes of 96×80 pictures: a red square in the left or the right part."""
    import cv2

    rng = np.random.default_rng(0)
    for name, low, high in (("left", 0, 30), ("right", 50, 80)):
        (folder / name).mkdir(parents=True)
        for i in range(per_class):
            img = np.zeros((80, 96, 3), np.uint8)
            x = int(rng.integers(low, high))
            img[32:48, x : x + 16] = (0, 0, 255)
            cv2.imwrite(str(folder / name / f"{i}.png"), img)


@pytest.mark.slow
def test_an_images_champion_answers_live_on_a_video(tmp_path: Path, home: Path) -> None:
    from tests.nodes.media import moving_square_video

    def cli(line: str) -> Any:
        return ob(*line.split(), cwd=tmp_path, home=home)

    _shapes(tmp_path / "shapes")
    moving_square_video(tmp_path / "square.avi", "MJPG", frames=10)  # slides left to right
    out = cli(
        "run --task images --data shapes --option size=16 --option augment=none "
        "--workers 0 --individuals 3 --budget-steps 40 --run-dir run --quiet"
    )
    assert out.returncode == 0, out.stderr
    assert cli("export run --best -o champ.graph").returncode == 0
    graph = load(tmp_path / "champ.graph").graph
    codec = graph.codecs["image"]
    assert codec["kind"] == "image" and (codec["height"], codec["width"]) == (16, 16)
    assert latest(graph).options["size"] == 16
    live = cli("live champ.graph --source camera:square.avi --chunks 10")
    assert live.returncode == 0, live.stderr
    answers = [line for line in live.stdout.splitlines() if "label=" in line]
    assert len(answers) == 10, live.stdout
    # fed the way it was trained (size, grey, scale from the codec): it sees where the square is
    assert "'left'" in answers[0] and "'right'" in answers[-1], live.stdout
    assert "10 chunks, latency p50" in live.stderr


def test_a_csv_champion_answers_rows_typed_live(tmp_path: Path, home: Path) -> None:
    def cli(line: str, stdin: str = "") -> Any:
        return ob(*line.split(), cwd=tmp_path, home=home, stdin=stdin)

    rng = np.random.default_rng(0)
    rows = ["a,b,label"] + [
        f"{a:.3f},{b:.3f},{'big' if a > b else 'small'}" for a, b in rng.random((80, 2))
    ]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    out = cli(
        "run --task csv --data t.csv --label label --workers 0 --individuals 1 "
        "--budget-steps 20 --run-dir run --quiet"
    )
    assert out.returncode == 0, out.stderr
    assert cli("export run --best -o c.graph").returncode == 0
    assert load(tmp_path / "c.graph").graph.codecs["x"]["kind"] == "vector"
    live = cli("live c.graph --source text", stdin="0.9, 0.1\n\n0.1;0.9\n")
    assert live.returncode == 0, live.stderr
    labels = [line for line in live.stdout.splitlines() if "label=" in line]
    assert len(labels) == 2 and all("'big'" in x or "'small'" in x for x in labels)
    one_line_error(cli("live c.graph --source text", stdin="1,2,3\n"), "expected 2 numbers")


def test_option_and_task_help_say_what_is_wrong() -> None:
    from openbrains.app.taskargs import parse_options
    from openbrains.engine.errors import OpenBrainsError
    from openbrains.engine.tasks.registry import describe_task

    assert parse_options(["n=6", "kind = regression"]) == {"n": "6", "kind": "regression"}
    for bad, words in [("n", "KEY=VALUE"), ("=3", "KEY=VALUE"), ("data=x", "--data")]:
        with pytest.raises(OpenBrainsError, match=words):
            parse_options([bad])
    lines = describe_task("images")
    assert "needs --data DIR" in lines[1]
    assert any(line.startswith("  --option size=VALUE  (integer, default 32)") for line in lines)
    with pytest.raises(OpenBrainsError, match="unknown task"):
        describe_task("nope")
