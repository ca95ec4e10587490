"""The play window: a person against a game champion on a clickable board.

The board (``canvas.board``) only draws data and reports clicks; this window owns the
game state, applies moves, and lets the brain answer with MCTS on a background thread so
the window never freezes while it thinks (DESIGN §3.8). ``open_play_window`` is what a
menu calls; ``openbrains play FILE --game NAME --gui`` runs ``run_play_window``.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from openbrains.app.toplevel import open_top_level
from openbrains.canvas.board import BoardWidget
from openbrains.engine.games.champion import (
    DEFAULT_SIMS,
    board_view,
    champion_player,
    load_champion,
)
from openbrains.engine.tasks.game import State

NAMES = {1: "X", -1: "O"}


class PlayWindow(QWidget):
    """One game at a time against the brain in ``path``; "New game" starts over, the
    side chooser says who moves first. ``brainMoved(action)`` fires after each brain
    move is on the board (tests wait for it)."""

    brainMoved = Signal(int)
    _answered = Signal(int, int)  # (game number, action), from the thinking thread

    def __init__(
        self,
        path: str | os.PathLike[str],
        game: str,
        human_first: bool = True,
        sims: int = DEFAULT_SIMS,
        parent: QWidget | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(parent)
        self.game, self.graph, brain = load_champion(path, game)
        self.player = champion_player(brain, self.game, sims)
        self.rng = np.random.default_rng(seed)
        self._lock = threading.Lock()  # one search at a time on the shared brain
        self.game_number = 0
        self.thinking = False
        self.human = 1 if human_first else -1
        self.state: State = self.game.initial()
        self.last: int | None = None

        self.setWindowTitle(f"Play {self.game.name} — {Path(path).name}")
        self.board = BoardWidget(self)
        self.board.moveChosen.connect(self.human_move)
        self._answered.connect(self._on_answer)
        self.status = QLabel(self)
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.side = QComboBox(self)
        self.side.addItem("you move first", 1)
        self.side.addItem("brain moves first", -1)
        self.side.setCurrentIndex(0 if human_first else 1)
        new = QPushButton("New game", self)
        new.clicked.connect(self.new_game)
        how = f"brain: MCTS {sims} sims" if sims else "brain: raw policy"
        bar = QHBoxLayout()
        bar.addWidget(self.side)
        bar.addWidget(new)
        bar.addStretch(1)
        bar.addWidget(QLabel(how, self))
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.board, 1)
        layout.addWidget(self.status)
        self.resize(max(360, self.board.sizeHint().width() + 40), 460)
        self.new_game()

    # ----- game flow -----------------------------------------------------------------
    def new_game(self) -> None:
        """Start over with the side chosen; the brain opens when it moves first."""
        self.game_number += 1
        self.human = int(self.side.currentData())
        self.state = self.game.initial()
        self.last = None
        self.thinking = False
        self._refresh()
        if self.game.current_player(self.state) != self.human:
            self._think()

    def human_move(self, action: int) -> None:
        """A click on a legal move while it is the person's turn."""
        if self.thinking or self.over() or self.game.current_player(self.state) != self.human:
            return
        if not self.game.legal(self.state)[action]:
            return
        self._apply(action)
        if not self.over():
            self._think()

    def over(self) -> bool:
        return self.game.outcome(self.state) is not None

    def _apply(self, action: int) -> None:
        before = np.asarray(self.state.board).reshape(-1).copy()
        self.state = self.game.play(self.state, int(action))
        changed = np.flatnonzero(np.asarray(self.state.board).reshape(-1) != before)
        self.last = int(changed[0]) if len(changed) else None
        self._refresh()

    def _think(self) -> None:
        self.thinking = True
        self._refresh()
        number, state = self.game_number, self.state

        def work() -> None:
            with self._lock:
                action = int(self.player.act(self.game, state, self.rng))
            try:
                self._answered.emit(number, action)
            except RuntimeError:  # the window was closed (and deleted) meanwhile
                pass

        threading.Thread(target=work, name="brain-move", daemon=True).start()

    def _on_answer(self, number: int, action: int) -> None:
        if number != self.game_number:  # an answer for a game already abandoned
            return
        self.thinking = False
        self._apply(action)
        self.brainMoved.emit(action)

    # ----- display -------------------------------------------------------------------
    def _refresh(self) -> None:
        view = board_view(self.game, self.state)
        self.board.set_board(view.cells, view.rows, view.cols, view.legal, view.drop, self.last)
        self.board.set_interactive(not self.thinking and not self.over())
        self.status.setText(self.message())

    def message(self) -> str:
        """What the status line says now."""
        result = self.game.outcome(self.state)
        you = NAMES[self.human]
        if result is not None:
            r = result * self.human
            return "You win!" if r > 0 else "The brain wins." if r < 0 else "A draw."
        if self.thinking:
            return "The brain is thinking…"
        return f"Your move ({you})."


def open_play_window(
    parent: QWidget | None, path: str | os.PathLike[str], game: str
) -> PlayWindow | None:
    """Open a play window for ``path`` as its own top-level window; a file that cannot
    play ``game`` gets a (non-blocking) message box instead and None is returned."""
    return open_top_level(parent, lambda: PlayWindow(path, game, parent=parent), "Cannot play")


def run_play_window(
    path: str | os.PathLike[str], game: str, first: str = "human", sims: int = DEFAULT_SIMS
) -> int:
    """``openbrains play … --gui``: the window on its own, until it is closed. A bad file
    raises before any window shows (the command line prints it as one line)."""
    from PySide6.QtWidgets import QApplication

    from openbrains.canvas.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    window = PlayWindow(path, game, first == "human", sims)
    window.show()
    return int(app.exec())
