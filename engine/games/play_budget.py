"""How hard a champion searches when it plays a person or a reference player; its own
module, with no imports, so the command line can name it in its help without loading torch."""

DEFAULT_SIMS = 400
"""MCTS simulations per move when a champion plays a person or a reference. Play is where
a little more search buys the most: three 30-minute Connect Four champions won 0.34–0.51
of 100 games against minimax:2 at 50 simulations, 0.46–0.59 at 200 and 0.58–0.62 at 400,
where a move takes about 0.1 s on one core (docs/decisions.md, session 24), still an
answer at once for a person. Self-play and the run's arena keep their own, smaller
budgets (the game task's ``sims`` and ``arena_sims``)."""
