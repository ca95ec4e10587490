"""The engine log: plain lines, and for an error a "details" link that shows the
technical message it came from (one click away, never in the way)."""

from __future__ import annotations

import html

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QTextBrowser, QWidget

from openbrains.canvas.theme import COLORS

MAX_LINES = 2000


class LogView(QTextBrowser):
    detailRequested = Signal(str)  # the technical message behind a line

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.document().setMaximumBlockCount(MAX_LINES)
        self.details: dict[int, str] = {}
        self._next = 0
        self.anchorClicked.connect(self._on_link)

    def appendPlainText(self, text: str) -> None:
        """A plain line (the same call as ``QPlainTextEdit``'s)."""
        self.append_line(text)

    def append_line(self, text: str, detail: str = "") -> None:
        line = html.escape(text)
        if detail and detail != text:
            key = self._next
            self._next += 1
            self.details[key] = detail
            if len(self.details) > MAX_LINES:
                self.details.pop(min(self.details))
            line += f" <a href='detail:{key}' style='color: {COLORS['accent']};'>details</a>"
        self.append(f"<span style='white-space: pre-wrap;'>{line}</span>")

    def _on_link(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith("detail:"):
            detail = self.details.get(int(text.split(":", 1)[1]))
            if detail:
                self.detailRequested.emit(detail)
