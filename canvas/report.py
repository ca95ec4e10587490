"""The Report dock: the run's discovery report (``openbrains report``) shown in the window.

The report is made elsewhere (the app runs the command in its own process: it trains
nothing but loads torch for the ablation); this view only asks for it and shows the HTML
it is given. The page's figures are SVG ``data:`` images, which a ``QTextBrowser`` does
not decode, so each is drawn once with QtSvg and handed to the document as a resource.
"""

from __future__ import annotations

import base64
import binascii
import re

from PySide6.QtCore import QByteArray, QUrl, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QTextDocument
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from openbrains.canvas.theme import COLORS

_SVG = re.compile(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')


def _draw(svg: bytes) -> QImage | None:
    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        return None
    size = renderer.defaultSize()
    img = QImage(size, QImage.Format.Format_ARGB32)
    img.fill(QColor("white"))
    painter = QPainter(img)
    renderer.render(painter)
    painter.end()
    return img


class ReportView(QWidget):
    """A "Make report" button, a one-line status and the report itself."""

    makeRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.button = QPushButton("Make report", self)
        self.button.setToolTip(
            "what the run found: units and motifs of the best tenth, the champion's "
            "ablation and lineage, plots (openbrains report)"
        )
        self.button.clicked.connect(self.makeRequested.emit)
        self.status = QLabel("No report yet.", self)
        self.status.setStyleSheet(f"color: {COLORS['text_dim']};")
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(False)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 2)
        bar.addWidget(self.button)
        bar.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.browser, 1)
        self.images = 0

    def set_busy(self, busy: bool) -> None:
        self.button.setEnabled(not busy)
        if busy:
            self.show_message("Making the report (the champion's ablation takes a while)…")

    def show_message(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(f"color: {COLORS['error' if error else 'text_dim']};")
        self.status.setText(text)

    def show_html(self, html: str) -> None:
        """Show a report page; its SVG figures become document images."""
        doc = QTextDocument(self.browser)
        self.images = 0

        def swap(match: re.Match[str]) -> str:
            try:
                img = _draw(base64.b64decode(match.group(1), validate=True))
            except (binascii.Error, ValueError):
                img = None
            if img is None:
                return 'src=""'
            name = f"figure{self.images}.png"
            self.images += 1
            doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), img)
            return f'src="{name}"'

        doc.setHtml(_SVG.sub(swap, html))
        self.browser.setDocument(doc)
