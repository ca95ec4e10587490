"""The start page: what a person sees before any project is open.

Three ways in, in the order a newcomer needs them: the samples as cards (a picture of the
seed graph, a title and one line), "New project…" and "Open…", and the projects opened
recently. Help is one click away. Fed plain data (``SampleCard``), never torch; the
window turns its signals into actions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from openbrains.canvas.theme import COLORS
from openbrains.canvas.thumbnail import render_thumbnail

PICTURE = (212, 92)
COLUMNS = 4


@dataclass(frozen=True)
class SampleCard:
    """One sample as the start page shows it."""

    name: str  # the sample's file stem, what ``sampleChosen`` says
    title: str
    line: str  # one line on what it learns
    graph_json: str  # the seed graph, drawn as the card's picture
    kind: str = ""  # images, audio, text… (a badge)
    needs: str = ""  # "" or what data of the user's it needs


class SampleButton(QPushButton):
    """A card that is a button: click, Enter or Space opens the sample."""

    def __init__(self, card: SampleCard, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.card = card
        self.setObjectName(f"sample-{card.name}")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"Open the {card.title} sample as a new project")
        self.setAccessibleName(card.title)
        self.setMinimumSize(QSize(PICTURE[0] + 24, PICTURE[1] + 118))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        card_bg, border, hover, accent = (
            COLORS[k] for k in ("card", "border", "card_hover", "accent")
        )
        self.setStyleSheet(
            f"QPushButton {{ text-align: left; background: {card_bg}; border: 1px solid "
            f"{border}; border-radius: 8px; }} QPushButton:hover, QPushButton:focus "
            f"{{ background: {hover}; border-color: {accent}; }}"
        )
        picture = QLabel(self)
        picture.setPixmap(QPixmap.fromImage(render_thumbnail(card.graph_json, PICTURE)))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel(f"<b>{card.title}</b>", self)
        badge = QLabel(card.kind, self)
        badge.setStyleSheet(f"color: {COLORS['accent']}; font-size: 11px;")
        line = QLabel(card.line, self)
        line.setWordWrap(True)
        line.setStyleSheet(f"color: {COLORS['text_dim']};")
        needs = QLabel(card.needs, self)
        needs.setWordWrap(True)
        needs.setStyleSheet(f"color: {COLORS['changed']}; font-size: 11px;")
        needs.setVisible(bool(card.needs))
        for label in (picture, title, badge, line, needs):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            label.setStyleSheet(label.styleSheet() + "background: transparent; border: none;")
        head = QHBoxLayout()
        head.addWidget(title, 1)
        head.addWidget(badge)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(picture)
        layout.addLayout(head)
        layout.addWidget(line)
        layout.addWidget(needs)
        layout.addStretch(1)


class StartPage(QScrollArea):
    sampleChosen = Signal(str)  # sample name
    recentChosen = Signal(str)  # project path
    newRequested = Signal()
    openRequested = Signal()
    helpRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StartPage")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget(self)
        body.setObjectName("StartPageBody")
        body.setStyleSheet(f"#StartPageBody {{ background: {COLORS['canvas']}; }}")
        self.setWidget(body)

        heading = QLabel("<span style='font-size: 22px; font-weight: 600;'>Open Brains</span>")
        intro = QLabel(
            "Grow tiny neural networks by evolution. Pick a sample to watch a population "
            "learn, or start a project on your own data. Everything runs on this computer."
        )
        intro.setWordWrap(True)
        intro.setStyleSheet(f"color: {COLORS['text_dim']};")
        self.new_button = QPushButton("New project…", body)
        self.new_button.setToolTip("choose a task and your data; a seed graph is made for it")
        self.new_button.clicked.connect(self.newRequested)
        self.open_button = QPushButton("Open…", body)
        self.open_button.setToolTip("open a .graph project or brain")
        self.open_button.clicked.connect(self.openRequested)
        self.help_button = QPushButton("Getting started", body)
        self.help_button.clicked.connect(self.helpRequested)
        buttons = QHBoxLayout()
        for b in (self.new_button, self.open_button, self.help_button):
            buttons.addWidget(b)
        buttons.addStretch(1)

        self.samples_grid = QGridLayout()
        self.samples_grid.setSpacing(12)
        self.recent_box = QVBoxLayout()
        self.recent_box.setSpacing(2)
        self.recent_empty = QLabel("Projects you open or save appear here.", body)
        self.recent_empty.setStyleSheet(f"color: {COLORS['text_faint']};")

        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(10)
        column.addWidget(heading)
        column.addWidget(intro)
        column.addLayout(buttons)
        column.addSpacing(10)
        column.addWidget(_section("Start from a sample", body))
        column.addLayout(self.samples_grid)
        column.addSpacing(10)
        column.addWidget(_section("Recent projects", body))
        column.addLayout(self.recent_box)
        column.addWidget(self.recent_empty)
        column.addStretch(1)
        outer = QHBoxLayout(body)
        outer.setContentsMargins(32, 24, 32, 24)
        outer.addStretch(1)
        inner = QWidget(body)
        inner.setLayout(column)
        inner.setMaximumWidth(1100)
        inner.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        outer.addWidget(inner, 12)
        outer.addStretch(1)
        self.sample_buttons: dict[str, SampleButton] = {}
        self.recent_buttons: dict[str, QPushButton] = {}

    def set_samples(self, cards: list[SampleCard]) -> None:
        for button in self.sample_buttons.values():
            button.deleteLater()
        self.sample_buttons = {}
        for i, card in enumerate(cards):
            button = SampleButton(card, self.widget())
            button.clicked.connect(lambda _=False, n=card.name: self.sampleChosen.emit(n))
            self.samples_grid.addWidget(button, i // COLUMNS, i % COLUMNS)
            self.sample_buttons[card.name] = button

    def set_recent(self, paths: list[str]) -> None:
        for button in self.recent_buttons.values():
            button.deleteLater()
        self.recent_buttons = {}
        for path in paths:
            p = Path(path)
            button = QPushButton(f"{p.name}   —   {p.parent}", self.widget())
            button.setFlat(True)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setStyleSheet("text-align: left; padding: 4px 6px;")
            button.setToolTip(str(p))
            button.clicked.connect(lambda _=False, s=path: self.recentChosen.emit(s))
            self.recent_box.addWidget(button)
            self.recent_buttons[path] = button
        self.recent_empty.setVisible(not paths)


def _section(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setStyleSheet(
        f"font-size: 15px; font-weight: 600; color: {COLORS['text']};"
        f" border-bottom: 1px solid {COLORS['border']}; padding-bottom: 4px;"
    )
    return label
