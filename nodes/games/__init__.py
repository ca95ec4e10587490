"""Built-in games and scored environments (DESIGN §3.7).

They are harness objects, not graph units: nothing here registers into the unit registry.
The ``openbrains.games`` entry points in pyproject.toml name them for ``make_game`` (as a
third-party package would name its own); each module also works as a plain import
(``from openbrains.nodes.games.connect4 import ConnectFour``).
"""

from __future__ import annotations

from openbrains.nodes.games.connect4 import ConnectFour
from openbrains.nodes.games.maze import Maze
from openbrains.nodes.games.tictactoe import TicTacToe

GAMES = {"tictactoe": TicTacToe, "connect4": ConnectFour, "maze": Maze}

__all__ = ["GAMES", "ConnectFour", "Maze", "TicTacToe"]
