"""How a population card is painted: thumbnail, then id, scores, size and origin; a new
arrival fades in and glows, a card that moved slides into its place, a retired one is
dimmed, the champion wears a gold rim."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from openbrains.canvas.popmodel import Entry, format_params, format_score
from openbrains.canvas.theme import color
from openbrains.canvas.thumbnail import render_thumbnail, species_color

if TYPE_CHECKING:
    from openbrains.canvas.population import PopulationView

THUMB = (160, 100)
PAD = 6
LINE_H = 15
TEXT_LINES = 4
CARD = QSize(THUMB[0] + 2 * PAD, THUMB[1] + 2 * PAD + TEXT_LINES * LINE_H + 2)
HIGHLIGHT_S = 2.5  # how long a new arrival glows
FADE_IN_S = 0.35  # how long a new arrival takes to fade in
SLIDE_S = 0.3  # how long a card moved by an arrival or a re-sort takes to reach its place


class CardDelegate(QStyledItemDelegate):
    """Paints one card: thumbnail, then id, scores, size and origin."""

    def __init__(self, view: PopulationView) -> None:
        super().__init__(view)
        self.view = view
        self.font = QFont(view.font())
        self.font.setPixelSize(11)
        self.bold = QFont(self.font)
        self.bold.setBold(True)
        self.fm = QFontMetrics(self.font)

    def band_color(self, e: Entry) -> QColor | None:
        """The card's colour under the view's colour mode (None: no band)."""
        mode = self.view.colour_mode
        if mode == "species" and e.data.get("species") is not None:
            return species_color(e.data.get("species"))
        if mode == "novelty" and e.template_like is not None:
            return color("template_like" if e.template_like else "novel")
        return None

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return CARD

    def paint(
        self,
        p: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        e = self.view.entry_at(index)
        if e is None:
            return
        rect: QRect = option.rect  # type: ignore[attr-defined]
        state = option.state  # type: ignore[attr-defined]
        selected = bool(state & QStyle.StateFlag.State_Selected)
        hover = bool(state & QStyle.StateFlag.State_MouseOver)
        p.save()
        p.translate(self.view.slide_offset(e.id, rect))
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        age = time.monotonic() - e.arrived
        if e.retired or e.leaving:
            p.setOpacity(0.45)
        elif age < FADE_IN_S:  # an insertion fades in rather than popping up
            p.setOpacity(max(0.15, age / FADE_IN_S))
        card = QRectF(rect).adjusted(1.5, 1.5, -1.5, -1.5)
        p.setPen(QPen(color("border"), 1.0))
        p.setBrush(color("card_hover") if hover or selected else color("card"))
        p.drawRoundedRect(card, 6, 6)
        # a new arrival: a green wash and rim that fade out over HIGHLIGHT_S
        if age < HIGHLIGHT_S and not e.retired:
            fade = 1.0 - age / HIGHLIGHT_S
            p.setPen(QPen(color("new", 0.9 * fade), 2.0))
            p.setBrush(color("new", 0.16 * fade))
            p.drawRoundedRect(card, 6, 6)
        band = self.band_color(e)
        if band is not None:  # the colour mode: a band down the card's left edge
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(band)
            p.drawRoundedRect(QRectF(card.left(), card.top(), 5, card.height()), 2, 2)
        p.setBrush(Qt.BrushStyle.NoBrush)
        if selected:
            p.setPen(QPen(color("accent"), 2.0))
            p.drawRoundedRect(card, 6, 6)
        if e.champion:  # inside the selection rim, so both show
            p.setPen(QPen(color("champion"), 1.6))
            p.drawRoundedRect(card.adjusted(2.5, 2.5, -2.5, -2.5) if selected else card, 5, 5)

        x, y = rect.x() + PAD, rect.y() + PAD
        graph = e.data.get("graph")
        if graph:
            dpr = self.view.devicePixelRatioF()
            img = render_thumbnail(graph, THUMB, dpr)
            p.drawImage(x, y, img)
        else:
            p.setPen(color("text_faint"))
            p.setFont(self.font)
            p.drawText(QRect(x, y, THUMB[0], THUMB[1]), Qt.AlignmentFlag.AlignCenter, "no graph")

        d = e.data
        metric = str(d.get("metric") or self.view.metric_name)
        ty = y + THUMB[1] + 2
        tw = THUMB[0]
        line = QRect(x, ty, tw, LINE_H)
        # line 1: id, champion star, species chip
        p.setFont(self.bold)
        p.setPen(color("champion") if e.champion else color("text"))
        p.drawText(
            line,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            f"#{e.id}" + ("  ★" if e.champion else ""),
        )
        sp = d.get("species")
        if sp is not None:
            p.setFont(self.font)
            label = f"species {sp}"
            lw = self.fm.horizontalAdvance(label)
            chip = QRectF(x + tw - lw - 14, ty + 2, lw + 12, LINE_H - 3)
            c = species_color(sp)
            fill = QColor(c)
            fill.setAlphaF(0.22)
            p.setPen(QPen(c, 1.0))
            p.setBrush(fill)
            p.drawRoundedRect(chip, 5, 5)
            p.setPen(color("text"))
            p.drawText(chip, Qt.AlignmentFlag.AlignCenter, label)
        # line 2: validation and test score
        p.setFont(self.font)
        line.translate(0, LINE_H)
        p.setPen(color("text"))
        p.drawText(
            line,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            f"{metric} {format_score(d.get('score'))}",
        )
        p.setPen(color("text_dim"))
        p.drawText(
            line,
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            f"test {format_score(d.get('test_score'))}",
        )
        # line 3: params and rung
        line.translate(0, LINE_H)
        p.drawText(
            line,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            f"{format_params(d.get('params'))} params",
        )
        p.drawText(
            line,
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            f"rung {d.get('rung', 0)}",
        )
        # line 4: where it came from
        line.translate(0, LINE_H)
        origin = str(d.get("origin") or "?")
        mutation = str(d.get("mutation") or "")
        text = f"{origin}: {mutation}" if mutation and mutation != origin else origin
        if e.leaving:
            text = "retired (leaves when the pointer does)"
        p.setPen(color("text_faint"))
        p.drawText(
            line,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self.fm.elidedText(text, Qt.TextElideMode.ElideRight, tw),
        )
        p.restore()
