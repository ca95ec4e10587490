"""Built-in games and scored environments (DESIGN §3.7).

They are harness objects, not graph units: nothing here registers into the unit registry.
``engine.tasks.game.BUILTIN_GAMES`` names them for ``make_game``; each module also works
as a plain import (``from nodes.games.connect4 import ConnectFour``).
"""

from __future__ import annotations

from openbrains.nodes.games.connect4 import ConnectFour
from openbrains.nodes.games.maze import Maze
from openbrains.nodes.games.tictactoe import TicTacToe

GAMES = {"tictactoe": TicTacToe, "connect4": ConnectFour, "maze": Maze}

__all__ = ["GAMES", "ConnectFour", "Maze", "TicTacToe"]
