"""Connect Four: the champion's win rate against one-step lookahead and minimax depth 2.

`--task connect4` runs with two worker processes (the 2-core setting) for `--minutes`;
then the champion plays the one-step lookahead player (wins at once when it can, never
allows a win in one) 100 games, 50 with each side first, with MCTS guided by its own
heads at the number of simulations `openbrains arena` uses by default; then the same
against minimax searching 2 plies (`openbrains arena --opponent minimax:2 --openings 3`). Win rate is
wins over games (draws do not count). alpha-zero-general reaches 0.83 against one-step
lookahead after about 5 hours. Goals: 0.8 against lookahead (issue 9), 0.5 against
minimax:2 (issue 18).

The minimax:2 games start from distinct openings of three random moves, each opening
played twice with the brain on either side: minimax scores its leaves with the game's
heuristic, so it almost never meets a tie to break at random, and the brain's MCTS picks
its most visited move, so from the empty board each side would replay one game 50 times.
(The lookahead player breaks its many ties at random, so those games differ on their own.)

    .venv/bin/python bench/connect4.py [--minutes 30] [--games 100] [--save FILE.graph]
        [--no-record]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Timeline
from bench.record import record
from openbrains.app.taskargs import add_option_arg, parse_options
from openbrains.engine.compile import compile_graph
from openbrains.engine.export import export_individual
from openbrains.engine.games.champion import (
    DEFAULT_SIMS,
    champion_player,
    opponent,
    sided_match,
)
from openbrains.engine.graph import Graph
from openbrains.engine.run import Run, RunSettings
from openbrains.engine.weights import decode_weights
from openbrains.nodes.games.connect4 import ConnectFour

OPENING_PLIES = 3  # 7³ = 343 move orders to draw each match's distinct openings from


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--games", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sims", type=int, default=DEFAULT_SIMS)
    add_option_arg(ap, "connect4 task")
    ap.add_argument("--save", type=Path, help="also write the champion to this .graph file")
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    timeline = Timeline()
    with tempfile.TemporaryDirectory() as tmp:
        task = {"name": "connect4", **parse_options(args.option)}
        settings = RunSettings(task=task, seed=args.seed, workers=args.workers)
        run = Run(Path(tmp) / "c4", settings, on_event=timeline)
        timeline.start = time.monotonic()
        try:
            run.run(minutes=args.minutes)
            best = run.best
            weights = run.archive.weights(best.id) if best is not None else None
            births = run.births
            refs = run.archive.get_meta("references") or {}
        finally:
            run.close()
        if args.save is not None and best is not None:
            export_individual(Path(tmp) / "c4", best.id, args.save)
    if best is None or weights is None:
        print(f"no champion after {args.minutes} minutes")
        print(f"winrate_{args.minutes:g}min=0.000 winrate_minimax2_{args.minutes:g}min=0.000")
        return
    game = ConnectFour()
    brain = compile_graph(Graph.from_json(best.graph_json))
    brain.load_weights(decode_weights(weights))
    t0 = time.monotonic()
    player = champion_player(brain.eval(), game, args.sims)
    matches = {
        "lookahead": sided_match(player, opponent("lookahead"), game, args.games, args.seed),
        "minimax:2": sided_match(
            player, opponent("minimax:2"), game, args.games, args.seed, OPENING_PLIES
        ),
    }
    rates = {name: r.total.wins / r.total.games for name, r in matches.items()}
    rows = {
        name: [
            f"| {label} | {r.wins} | {r.draws} | {r.losses} |"
            for label, r in (("first", mt.first), ("second", mt.second), ("total", mt.total))
        ]
        for name, mt in matches.items()
    }
    summary = (
        f"{births} individuals in {args.minutes:g} min; champion #{best.id} "
        f"({best.val_metric:.0f} elo, {best.params:,} params, {best.steps} steps, "
        f"{len(timeline.champions)} champions in all); references "
        + ", ".join(f"{k} {v:.0f}" for k, v in sorted(refs.items(), key=lambda kv: kv[1]))
        + f"; the matches took {time.monotonic() - t0:.0f} s"
    )
    when = f"{args.minutes:g}min"
    last = (
        f"winrate_{when}={rates['lookahead']:.3f} winrate_minimax2_{when}={rates['minimax:2']:.3f}"
    )
    tables = "\n\n".join(
        f"Against {name}:\n\n"
        + "\n".join(["| brain moves | wins | draws | losses |", "|---|---:|---:|---:|", *r])
        for name, r in rows.items()
    )
    print(summary)
    print(tables)
    print(last)
    if not args.no_record:
        body = (
            f"`--task connect4`{''.join(f' --option {o}' for o in args.option)}, {args.workers} workers, seed {args.seed}, {args.minutes:g} "
            f"minutes; then the champion (MCTS {args.sims} sims guided by its heads) plays "
            f"one-step lookahead and minimax depth 2, {args.games} games each, half with "
            "each side first (against minimax:2 from distinct openings of "
            f"{OPENING_PLIES} random moves, each played from both sides). Goals: win rate ≥ 0.8 against lookahead after 30 minutes "
            "(alpha-zero-general: 0.83 after about 5 hours), ≥ 0.5 against minimax:2.\n\n"
            f"{summary}.\n\n{tables}"
        )
        command = f"python bench/connect4.py --minutes {args.minutes:g}" + "".join(
            f" --option {o}" for o in args.option
        )
        record("connect4", command, body, last)


if __name__ == "__main__":
    main()
