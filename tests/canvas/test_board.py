"""The board widget and the play window as real widgets (offscreen Qt, pytest-qt): clicks
become moves, the brain answers from its own thread, bad files give a message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMessageBox, QWidget

from openbrains.canvas.board import PLAYER_COLORS, BoardWidget
from tests.game_brains import write_game_graph

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ttt_graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_game_graph(tmp_path_factory.mktemp("board") / "ttt.graph", "tictactoe")


@pytest.fixture(scope="module")
def c4_graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_game_graph(tmp_path_factory.mktemp("board") / "c4.graph", "connect4")


def click(qtbot, widget: BoardWidget, action: int) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=widget.action_point(action).toPoint())


def test_clicks_on_legal_cells_emit_moves(qtbot) -> None:
    board = BoardWidget()
    qtbot.addWidget(board)
    board.resize(300, 300)
    board.show()
    board.set_board([1, 0, 0, 0, -1, 0, 0, 0, 0], 3, 3, [1, 2, 3, 5, 6, 7, 8], last=4)
    chosen: list[int] = []
    board.moveChosen.connect(chosen.append)
    for action in (7, 0, 4, 2):  # 0 and 4 are taken
        click(qtbot, board, action)
    assert chosen == [7, 2]
    board.set_interactive(False)
    click(qtbot, board, 8)
    assert chosen == [7, 2]
    assert board.action_at(-5, -5) is None
    image = board.grab().toImage()
    x_mark = image.pixelColor(board.cell_rect(0).center().toPoint())  # the X's crossing
    assert x_mark == QColor(PLAYER_COLORS[1])


def test_drop_mode_clicks_anywhere_in_a_column(qtbot) -> None:
    board = BoardWidget()
    qtbot.addWidget(board)
    board.resize(420, 360)
    board.show()
    cells = [0] * 42
    cells[5 * 7 + 3] = 1  # a disc at the bottom of the middle column
    full = [1 if r % 2 else -1 for r in range(6)]
    for r in range(6):
        cells[r * 7 + 0] = full[r]  # column 0 is full
    board.set_board(cells, 6, 7, [1, 2, 3, 4, 5, 6], drop=True)
    chosen: list[int] = []
    board.moveChosen.connect(chosen.append)
    low = board.cell_rect(4 * 7 + 5).center().toPoint()  # a low cell of column 5
    qtbot.mouseClick(board, Qt.MouseButton.LeftButton, pos=low)
    click(qtbot, board, 0)  # full column: ignored
    click(qtbot, board, 3)
    assert chosen == [5, 3]
    disc = board.grab().toImage().pixelColor(board.cell_rect(38).center().toPoint())
    assert disc == QColor(PLAYER_COLORS[1])
    with pytest.raises(ValueError):
        board.set_board([0] * 5, 2, 3, [])


def test_canvas_board_needs_no_torch() -> None:
    code = (
        "import sys, openbrains.canvas.board; assert 'torch' not in sys.modules, 'torch imported'"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_play_window_brain_answers_clicks(qtbot, ttt_graph: Path) -> None:
    from openbrains.app.play_window import PlayWindow

    window = PlayWindow(ttt_graph, "tictactoe", sims=10)
    qtbot.addWidget(window)
    window.show()
    assert window.message() == "Your move (X)." and window.board.interactive
    answers: list[int] = []
    window.brainMoved.connect(answers.append)
    moves = 0
    while not window.over():
        action = min(window.board.legal)
        click(qtbot, window.board, action)
        moves += 1
        assert window.board.cells[action] == 1
        qtbot.waitUntil(lambda: not window.thinking, timeout=20_000)
        if not window.over() or len(answers) == moves:
            reply = answers[moves - 1]
            assert window.board.cells[reply] == -1 and window.board.last == reply
    assert window.board.interactive is False
    assert sum(v == 1 for v in window.board.cells) == moves
    assert window.message() in ("You win!", "The brain wins.", "A draw.")
    assert not window.board.interactive


def test_play_window_brain_first_in_connect4(qtbot, c4_graph: Path) -> None:
    from openbrains.app.play_window import PlayWindow

    window = PlayWindow(c4_graph, "connect4", human_first=False, sims=5)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.brainMoved, timeout=20_000):
        window.show()
    assert sum(v != 0 for v in window.board.cells) == 1 and window.message() == "Your move (O)."
    assert window.board.drop
    with qtbot.waitSignal(window.brainMoved, timeout=20_000):
        click(qtbot, window.board, 3)
    assert sum(v == -1 for v in window.board.cells) == 1
    assert sum(v == 1 for v in window.board.cells) == 2
    # a new game while it is the person's turn starts over, with the side chosen
    window.side.setCurrentIndex(0)
    window.new_game()
    assert window.board.cells == [0] * 42 and window.message() == "Your move (X)."


def test_open_play_window_with_a_bad_file_shows_a_message(qtbot, ttt_graph: Path) -> None:
    from openbrains.app.play_window import open_play_window

    parent = QWidget()
    qtbot.addWidget(parent)
    assert open_play_window(parent, ROOT / "sample_graphs" / "xor.graph", "tictactoe") is None
    box = parent.findChild(QMessageBox)
    assert box is not None and "'policy'" in box.text()
    box.close()
    window = open_play_window(parent, ttt_graph, "tictactoe")
    assert window is not None and window.isVisible() and window.isWindow()
    window.close()


def test_plots_draw_reference_lines(qtbot) -> None:
    from openbrains.canvas.plots import PlotsView

    plots = PlotsView()
    qtbot.addWidget(plots)
    plots.set_metric("elo")
    plots.set_references({"random": 0.0, "onestep": 270.0, "minimax": 451.2})
    assert sorted(plots.reference_lines(), key=lambda kv: kv[1]) == [
        ("random 0", 0.0),
        ("onestep 270", 270.0),
        ("minimax 451", 451.2),
    ]
    plots.set_references(None)
    assert plots.reference_lines() == []


def test_click_point_helper_is_inside_the_widget(qtbot) -> None:
    board = BoardWidget()
    qtbot.addWidget(board)
    board.resize(200, 120)
    for a in range(9):
        p = board.action_point(a)
        assert board.rect().contains(QPoint(int(p.x()), int(p.y())))
        assert board.action_at(p.x(), p.y()) == a
