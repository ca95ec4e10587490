"""`openbrains play` and `openbrains arena`: meet a game champion in the terminal (or a
window), or pit it against a reference player and count the results from both sides."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import numpy as np

from openbrains.app import argtypes
from openbrains.app.cli import command
from openbrains.app.taskargs import add_option_arg, grant_if_code, parse_options
from openbrains.engine.games.play_budget import DEFAULT_SIMS

if TYPE_CHECKING:  # the engine (and torch) load only when a command runs
    from openbrains.engine.games.players import Player
    from openbrains.engine.tasks.game import Game, State

MARKS = {1: "X", -1: "O", 0: "."}


def _game_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="a .graph exported from a game run")
    p.add_argument(
        "--game",
        required=True,
        help="tictactoe, connect4 or your own package.module:Class (from the current folder)",
    )
    add_option_arg(p, "game (the file's recorded options are used unless given here)")
    p.add_argument(
        "--sims",
        type=int,
        default=None,
        help=f"MCTS simulations per brain move (default {DEFAULT_SIMS}; 0 = its raw policy)",
    )
    p.add_argument("--seed", type=int, default=0)


def _play_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("play", help="play a game against a trained brain")
    _game_args(p)
    p.add_argument("--first", choices=("human", "brain"), default="human", help="who moves first")
    p.add_argument("--gui", action="store_true", help="open a board window instead")


def _sims(args: argparse.Namespace) -> int:
    return DEFAULT_SIMS if args.sims is None else int(args.sims)


@command(_play_args)
def cmd_play(args: argparse.Namespace) -> int:
    from openbrains.engine.games.champion import champion_player, load_champion

    grant_if_code(args.game, "--game")
    if args.gui:
        from openbrains.app.play_window import run_play_window

        return run_play_window(args.file, args.game, args.first, _sims(args))
    game, _graph, brain = load_champion(args.file, args.game, parse_options(args.option))
    player = champion_player(brain, game, _sims(args))
    return play_terminal(game, player, args.first == "human", args.seed, sys.stdin, sys.stdout)


def play_terminal(
    game: Game, brain: Player, human_first: bool, seed: int, inp: TextIO, out: TextIO
) -> int:
    """One game: the board after every move, the person types moves, the brain answers.
    ``q`` quits (status 0); running out of input leaves the game unfinished (status 1)."""
    rng = np.random.default_rng(seed)
    human = 1 if human_first else -1
    state = game.initial()

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    say(
        f"{game.name}: you play {MARKS[human]}, the brain plays {MARKS[-human]}. "
        "Type a move number and Enter (q quits)."
    )
    while game.outcome(state) is None:
        say(show(game, state))
        if game.current_player(state) == human:
            move = _ask(game, state, inp, say)
            if move is None:
                return 0
            if move < 0:
                say("no more input: game left unfinished")
                return 1
        else:
            move = int(brain.act(game, state, rng))
            say(f"brain plays {move}")
        state = game.play(state, move)
    say(show(game, state))
    result = game.outcome(state) * human
    say("you win!" if result > 0 else "the brain wins." if result < 0 else "a draw.")
    return 0


def _ask(game: Game, state: State, inp: TextIO, say: Callable[[str], None]) -> int | None:
    """The person's move: a legal action number; None to quit, -1 at end of input."""
    legal = np.flatnonzero(game.legal(state)).tolist()
    while True:
        say(f"your move ({' '.join(map(str, legal))}): ")
        line = inp.readline()
        if not line:
            return -1
        text = line.strip().lower()
        if text in ("q", "quit", "exit"):
            say("bye")
            return None
        if text.lstrip("-").isdigit() and int(text) in legal:
            return int(text)
        say(f"{text or '(nothing)'} is not a legal move")


def show(game: Game, state: State) -> str:
    """The board as text. Cell games number their empty cells so a move is easy to type;
    column games (Connect Four) print the column numbers under the board."""
    from openbrains.engine.games.champion import board_view
    from openbrains.engine.tasks.game import GameError

    try:
        view = board_view(game, state)
    except GameError:
        return game.render(state)
    lines = []
    width = len(str(view.rows * view.cols - 1))
    for r in range(view.rows):
        row = []
        for c in range(view.cols):
            i = r * view.cols + c
            v = view.cells[i]
            mark = str(i) if (v == 0 and not view.drop and i in view.legal) else MARKS[v]
            row.append(mark.rjust(width))
        lines.append(" ".join(row))
    if view.drop:
        lines.append(" ".join(str(c).rjust(width) for c in range(view.cols)))
    return "\n".join(lines)


def _arena_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("arena", help="a trained brain against a reference player")
    _game_args(p)
    p.add_argument(
        "--opponent",
        required=True,
        help="random | lookahead | minimax | minimax:DEPTH | your own player, "
        "package.module:Class (alpha-zero-general's Class(game).play(board))",
    )
    p.add_argument(
        "--games", type=argtypes.count, default=100, help="games, half with each side first"
    )
    p.add_argument(
        "--openings",
        type=argtypes.at_least(0),
        default=0,
        metavar="MOVES",
        help="start each pair of games (one from each side) from its own position after "
        "MOVES random moves; use it against minimax:DEPTH, which seldom has a tie to break, "
        "so from the empty board each side replays one game",
    )
    p.add_argument("--json", action="store_true")


@command(_arena_args)
def cmd_arena(args: argparse.Namespace) -> int:
    from openbrains.engine.games.champion import (
        REFERENCE_NAMES,
        champion_player,
        load_champion,
        opponent,
        sided_match,
    )
    from openbrains.engine.run import dumps
    from openbrains.engine.tasks.game import GameError

    if args.games < 1:
        raise GameError(f"--games must be at least 1, got {args.games}")
    grant_if_code(args.game, "--game")
    if args.opponent.partition(":")[0] not in REFERENCE_NAMES:
        grant_if_code(args.opponent, "--opponent")
    game, _graph, brain = load_champion(args.file, args.game, parse_options(args.option))
    other = opponent(args.opponent, game)
    sims = _sims(args)
    res = sided_match(
        champion_player(brain, game, sims), other, game, args.games, args.seed, args.openings
    )
    if args.json:
        print(
            dumps(
                {
                    "file": str(args.file),
                    "game": game.name,
                    "opponent": args.opponent,
                    "sims": sims,
                    "seed": args.seed,
                    "openings": args.openings,
                    **res.to_dict(),
                }
            )
        )
        return 0
    how = f"MCTS {sims} sims" if sims else "raw policy"
    plural = "s" if args.openings != 1 else ""
    start = f", each pair after {args.openings} random move{plural}" if args.openings else ""
    print(f"{args.file} ({how}) vs {args.opponent} at {game.name}, {args.games} games{start}")
    print(f"{'':14}{'wins':>6}{'draws':>7}{'losses':>8}")
    for label, r in (("brain first", res.first), ("brain second", res.second)):
        print(f"{label:<14}{r.wins:>6}{r.draws:>7}{r.losses:>8}")
    t = res.total
    print(f"{'total':<14}{t.wins:>6}{t.draws:>7}{t.losses:>8}   score {t.score:.3f}")
    return 0
