"""A game board a person can click: tic-tac-toe style (marks in cells) or Connect Four
style (discs dropped into columns).

It draws plain data only (cells row by row as +1 / -1 / 0, the legal actions, whether an
action is a cell or a column) and says which move was clicked with ``moveChosen``; it
knows nothing about brains or game rules, so it never imports the engine or torch.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from openbrains.canvas.theme import COLORS

PLAYER_COLORS = {1: "#ef6b6b", -1: "#f2c14e"}  # X / first player, O / second player
DISC_BOARD = "#2f5fa8"
MARGIN = 8.0


class BoardWidget(QWidget):
    """Draws ``rows × cols`` cells and emits ``moveChosen(action)`` for a click on a legal
    move while ``interactive``. In ``drop`` mode an action is a column (any cell of it
    counts); otherwise it is the cell ``row * cols + col``."""

    moveChosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cells: list[int] = [0] * 9
        self.rows = self.cols = 3
        self.legal: set[int] = set(range(9))
        self.drop = False
        self.last: int | None = None
        self.interactive = True
        self.hover: int | None = None
        self.setMouseTracking(True)
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    # ----- data ----------------------------------------------------------------------
    def set_board(
        self,
        cells: Sequence[int],
        rows: int,
        cols: int,
        legal: Sequence[int],
        drop: bool = False,
        last: int | None = None,
    ) -> None:
        """Show a position; ``last`` (a cell index) is ringed as the latest move."""
        if rows < 1 or cols < 1 or len(cells) != rows * cols:
            raise ValueError(f"{len(cells)} cells do not make a {rows}×{cols} board")
        self.cells = [int(v) for v in cells]
        self.rows, self.cols = int(rows), int(cols)
        self.legal = {int(a) for a in legal}
        self.drop = bool(drop)
        self.last = last
        self.update()

    def set_interactive(self, on: bool) -> None:
        """Accept clicks or not (off while the other side thinks or the game is over)."""
        self.interactive = bool(on)
        self.hover = None
        self.setCursor(Qt.CursorShape.PointingHandCursor if on else Qt.CursorShape.ArrowCursor)
        self.update()

    # ----- geometry ------------------------------------------------------------------
    def _cell_size(self) -> float:
        w = (self.width() - 2 * MARGIN) / self.cols
        h = (self.height() - 2 * MARGIN) / self.rows
        return max(1.0, min(w, h))

    def _origin(self) -> QPointF:
        s = self._cell_size()
        return QPointF((self.width() - s * self.cols) / 2, (self.height() - s * self.rows) / 2)

    def cell_rect(self, index: int) -> QRectF:
        """Where cell ``index`` (row-major) is drawn."""
        s, o = self._cell_size(), self._origin()
        r, c = divmod(int(index), self.cols)
        return QRectF(o.x() + c * s, o.y() + r * s, s, s)

    def action_point(self, action: int) -> QPointF:
        """A point whose click chooses ``action`` (the centre of its cell, or of its
        column's top cell in drop mode)."""
        return self.cell_rect(int(action)).center()  # in drop mode: row 0 of the column

    def action_at(self, x: float, y: float) -> int | None:
        """The action a click at widget coordinates ``(x, y)`` means, if any."""
        s, o = self._cell_size(), self._origin()
        c = int((x - o.x()) // s)
        r = int((y - o.y()) // s)
        if not (0 <= r < self.rows and 0 <= c < self.cols):
            return None
        return c if self.drop else r * self.cols + c

    # ----- events --------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = event.position()
        action = self.action_at(pos.x(), pos.y())
        if self.interactive and action is not None and action in self.legal:
            self.moveChosen.emit(action)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        action = self.action_at(pos.x(), pos.y()) if self.interactive else None
        action = action if action in self.legal else None
        if action != self.hover:
            self.hover = action
            self.update()

    def leaveEvent(self, event: object) -> None:
        self.hover = None
        self.update()

    def sizeHint(self) -> QSize:
        s = 64 if self.cols <= 4 else 52
        return QSize(int(self.cols * s + 2 * MARGIN), int(self.rows * s + 2 * MARGIN))

    # ----- drawing -------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor(COLORS["panel"]))
        if self.drop:
            self._paint_discs(p)
        else:
            self._paint_marks(p)
        p.end()

    def _hover_cells(self) -> list[int]:
        if self.hover is None:
            return []
        if not self.drop:
            return [self.hover]
        free = [r * self.cols + self.hover for r in range(self.rows)]
        free = [i for i in free if self.cells[i] == 0]
        return free[-1:]  # the cell the disc would land on

    def _paint_marks(self, p: QPainter) -> None:
        s = self._cell_size()
        for i in self._hover_cells():
            p.fillRect(self.cell_rect(i), QColor(COLORS["card_hover"]))
        grid = QPen(QColor(COLORS["border"]), max(2.0, s * 0.04))
        p.setPen(grid)
        o = self._origin()
        for c in range(1, self.cols):
            p.drawLine(QPointF(o.x() + c * s, o.y()), QPointF(o.x() + c * s, o.y() + self.rows * s))
        for r in range(1, self.rows):
            p.drawLine(QPointF(o.x(), o.y() + r * s), QPointF(o.x() + self.cols * s, o.y() + r * s))
        for i, v in enumerate(self.cells):
            if v == 0:
                continue
            rect = self.cell_rect(i).adjusted(s * 0.22, s * 0.22, -s * 0.22, -s * 0.22)
            p.setPen(QPen(QColor(PLAYER_COLORS[1 if v > 0 else -1]), max(3.0, s * 0.1)))
            p.setBrush(Qt.BrushStyle.NoBrush)
            if v > 0:
                p.drawLine(rect.topLeft(), rect.bottomRight())
                p.drawLine(rect.topRight(), rect.bottomLeft())
            else:
                p.drawEllipse(rect)
        self._paint_last(p)

    def _paint_discs(self, p: QPainter) -> None:
        s = self._cell_size()
        o = self._origin()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(DISC_BOARD))
        p.drawRoundedRect(QRectF(o.x(), o.y(), self.cols * s, self.rows * s), s * 0.12, s * 0.12)
        hover = set(self._hover_cells())
        for i, v in enumerate(self.cells):
            rect = self.cell_rect(i).adjusted(s * 0.1, s * 0.1, -s * 0.1, -s * 0.1)
            if v:
                color = QColor(PLAYER_COLORS[1 if v > 0 else -1])
            elif i in hover:
                color = QColor(COLORS["card_hover"])
            else:
                color = QColor(COLORS["canvas"])
            p.setBrush(color)
            p.drawEllipse(rect)
        self._paint_last(p)

    def _paint_last(self, p: QPainter) -> None:
        if self.last is None or not 0 <= self.last < len(self.cells):
            return
        s = self._cell_size()
        rect = self.cell_rect(self.last).adjusted(s * 0.06, s * 0.06, -s * 0.06, -s * 0.06)
        p.setPen(QPen(QColor(COLORS["text"]), max(1.5, s * 0.03), Qt.PenStyle.DotLine))
        p.setBrush(Qt.BrushStyle.NoBrush)
        if self.drop:
            p.drawEllipse(rect)
        else:
            p.drawRect(rect)
