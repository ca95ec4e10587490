"""Games for brains (DESIGN §3.7): search, players, arena, self-play, scored environments.

``engine.tasks.game`` holds the protocols and ``GameTask``; this package holds what plays.
Import submodules directly (``engine.games.selfplay``); they import torch where needed.
"""
