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

`--also-sims N` (default 50, the default before session 24) plays minimax:2 a second time
with the champion searching N simulations a move, and the last line adds its median
(`minimax2_simsN`): how much of the win rate the play-time search gives.

`--seeds N` runs N searches one after another (seeds `--seed`, `--seed`+1, …; about 33
minutes each at the defaults) and the last line gives the medians over them, as issue 18
asks of each goal, with the worst and best seed against minimax:2.

    .venv/bin/python bench/connect4.py [--minutes 30] [--seeds 3] [--seed 0] [--games 100]
        [--sims N] [--also-sims 50] [--save FILE.graph] [--no-record]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
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


@dataclass
class SeedResult:
    """One seed's search and its champion's matches."""

    seed: int
    rates: dict[str, float]
    summary: str
    tables: str


def one_seed(args: argparse.Namespace, seed: int) -> SeedResult:
    """Search ``args.minutes`` with ``seed``, then play the champion against both opponents."""
    timeline = Timeline()
    with tempfile.TemporaryDirectory() as tmp:
        task = {"name": "connect4", **parse_options(args.option)}
        settings = RunSettings(task=task, seed=seed, workers=args.workers)
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
            export_individual(Path(tmp) / "c4", best.id, saved_path(args.save, seed, args))
    if best is None or weights is None:
        none = f"seed {seed}: no champion after {args.minutes:g} minutes"
        return SeedResult(seed, {"lookahead": 0.0, "minimax:2": 0.0}, none, "")
    game = ConnectFour()
    brain = compile_graph(Graph.from_json(best.graph_json))
    brain.load_weights(decode_weights(weights))
    t0 = time.monotonic()
    player = champion_player(brain.eval(), game, args.sims)
    matches = {
        "lookahead": sided_match(player, opponent("lookahead"), game, args.games, seed),
        "minimax:2": sided_match(
            player, opponent("minimax:2"), game, args.games, seed, OPENING_PLIES
        ),
    }
    if plays_also(args):  # how much of it is the search's
        fewer = champion_player(brain, game, args.also_sims)
        matches[also_key(args)] = sided_match(
            fewer, opponent("minimax:2"), game, args.games, seed, OPENING_PLIES
        )
    rates = {name: r.total.wins / r.total.games for name, r in matches.items()}
    rows = {
        name: [
            f"| {label} | {r.wins} | {r.draws} | {r.losses} |"
            for label, r in (("first", mt.first), ("second", mt.second), ("total", mt.total))
        ]
        for name, mt in matches.items()
    }
    summary = (
        f"Seed {seed}: {births} individuals in {args.minutes:g} min; champion #{best.id} "
        f"({best.val_metric:.0f} elo, {best.params:,} params, {best.steps} steps, "
        f"{len(timeline.champions)} champions in all); references "
        + ", ".join(f"{k} {v:.0f}" for k, v in sorted(refs.items(), key=lambda kv: kv[1]))
        + f"; the matches took {time.monotonic() - t0:.0f} s"
    )
    tables = "\n\n".join(
        f"Seed {seed} against {name}:\n\n"
        + "\n".join(["| brain moves | wins | draws | losses |", "|---|---:|---:|---:|", *r])
        for name, r in rows.items()
    )
    return SeedResult(seed, rates, summary, tables)


def plays_also(args: argparse.Namespace) -> bool:
    """Whether the champion meets minimax:2 a second time, at ``--also-sims``."""
    return bool(args.also_sims) and args.also_sims != args.sims


def also_key(args: argparse.Namespace) -> str:
    return f"minimax:2 at {args.also_sims} sims"


def saved_path(path: Path, seed: int, args: argparse.Namespace) -> Path:
    """``path`` itself for one seed; FILE-seedN.graph for each of several."""
    return path if args.seeds == 1 else path.with_name(f"{path.stem}-seed{seed}{path.suffix}")


def last_line(results: list[SeedResult], args: argparse.Namespace) -> str:
    """Medians over seeds under the keys one seed always had, then the minimax:2 spread,
    then the median at ``--also-sims`` simulations where it was played."""
    when = f"{args.minutes:g}min"
    look = statistics.median(r.rates["lookahead"] for r in results)
    mm2 = [r.rates["minimax:2"] for r in results]
    fewer = [r.rates[also_key(args)] for r in results if also_key(args) in r.rates]
    also = f" minimax2_sims{args.also_sims}={statistics.median(fewer):.3f}" if fewer else ""
    return (
        f"winrate_{when}={look:.3f} winrate_minimax2_{when}={statistics.median(mm2):.3f} "
        f"minimax2_worst={min(mm2):.3f} minimax2_best={max(mm2):.3f}{also} seeds={len(results)}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--games", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0, help="the first seed")
    ap.add_argument(
        "--seeds", type=int, default=3, help="searches, one after another, whose median counts"
    )
    ap.add_argument("--sims", type=int, default=DEFAULT_SIMS)
    ap.add_argument(
        "--also-sims",
        type=int,
        default=50,
        help="also play minimax:2 at this many simulations (0: not), to show the search's share",
    )
    add_option_arg(ap, "connect4 task")
    ap.add_argument("--save", type=Path, help="also write the champion to this .graph file")
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    if args.seeds < 1:
        ap.error("--seeds must be at least 1")
    torch.set_num_threads(1)
    results = []
    for seed in range(args.seed, args.seed + args.seeds):
        result = one_seed(args, seed)
        print(result.summary, flush=True)
        print(result.tables, flush=True)
        print(
            f"seed {seed}: winrate={result.rates['lookahead']:.3f} "
            f"winrate_minimax2={result.rates['minimax:2']:.3f}",
            flush=True,
        )
        results.append(result)
    last = last_line(results, args)
    print(last)
    if not args.no_record:
        seeds = (
            f"seeds {args.seed}–{args.seed + args.seeds - 1}"
            if args.seeds > 1
            else f"seed {args.seed}"
        )
        body = (
            f"`--task connect4`{''.join(f' --option {o}' for o in args.option)}, {args.workers} workers, {seeds} one after another, {args.minutes:g} "
            f"minutes each; then each champion (MCTS {args.sims} sims guided by its heads) plays "
            f"one-step lookahead and minimax depth 2, {args.games} games each, half with "
            "each side first (against minimax:2 from distinct openings of "
            f"{OPENING_PLIES} random moves, each played from both sides)"
            + (f", and minimax:2 again at {args.also_sims} sims" if plays_also(args) else "")
            + ". The last line's win rates are medians over the seeds, with the worst and "
            "best seed against minimax:2. "
            "Goals: win rate ≥ 0.8 against lookahead after 30 minutes "
            "(alpha-zero-general: 0.83 after about 5 hours), ≥ 0.5 against minimax:2.\n\n"
            + "\n\n".join(f"{r.summary}.\n\n{r.tables}" for r in results)
        )
        command = (
            f"python bench/connect4.py --minutes {args.minutes:g} --seeds {args.seeds}"
            + (f" --seed {args.seed}" if args.seed else "")
            + "".join(f" --option {o}" for o in args.option)
        )
        record("connect4", command, body, last)


if __name__ == "__main__":
    main()
