"""The engine finds units, games and sources through entry points, the built-in library
included, so it never names ``openbrains.nodes`` (the import contract checks the imports;
these check that everything is still found)."""

from __future__ import annotations

import pytest

from openbrains.engine import plugins
from openbrains.engine.tasks.game import GameError, installed_games, make_game
from openbrains.engine.units import REGISTRY


def test_the_builtin_library_registers_like_a_plugin() -> None:
    assert plugins.installed(plugins.UNITS)["builtin"].value == "openbrains.nodes:register_all"
    assert {"dense", "conv2d", "gru", "residual"} <= set(REGISTRY.names())
    assert REGISTRY.plugin_errors == {}


def test_the_games_users_type_are_installed_entry_points() -> None:
    assert installed_games() == {
        "connect4": "openbrains.nodes.games.connect4:ConnectFour",
        "maze": "openbrains.nodes.games.maze:Maze",
        "tictactoe": "openbrains.nodes.games.tictactoe:TicTacToe",
    }
    assert type(make_game("connect4")).__name__ == "ConnectFour"
    assert make_game("maze", size=4).size == 4
    with pytest.raises(GameError, match=r"unknown game 'chess'; built-ins are \['connect4'"):
        make_game("chess")


def test_sources_are_opened_by_their_prefix() -> None:
    assert set(plugins.installed(plugins.SOURCES)) == {"mic", "camera", "text", "follow", "file"}
    source = plugins.open_source("text")
    assert type(source).__name__ == "TextSource"
    with pytest.raises(plugins.PluginError, match="unknown source 'radio'; installed: camera"):
        plugins.open_source("radio:88.1")
