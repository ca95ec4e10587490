"""The dark theme: one palette, one stylesheet, and the colours of unit categories and port
kinds, so every canvas widget (editor, palette, inspector, population, plots) agrees.

Colours are plain hex strings in dicts (``COLORS``, ``CATEGORY_COLORS``, ``PORT_COLORS``)
so modules that only want a colour name (``canvas.thumbnail``) can read them without Qt
objects; ``color()``/``category_color()``/``port_color()`` give ``QColor``s.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

COLORS: dict[str, str] = {
    "window": "#1e2126",
    "panel": "#23272e",
    "canvas": "#1a1d22",
    "grid": "#22262c",
    "grid_major": "#2a2f37",
    "card": "#2a2f37",
    "card_hover": "#313742",
    "node": "#2a2f37",
    "node_body": "#252a31",
    "border": "#3b424d",
    "text": "#dfe3ea",
    "text_dim": "#9aa3b0",
    "text_faint": "#6d7683",
    "accent": "#4fa3ff",
    "selection": "#4fa3ff",
    "champion": "#f2c14e",
    "new": "#5bd778",
    "changed": "#f2c14e",
    "removed": "#ef6b6b",
    "bad": "#ef6b6b",
    "error": "#ef6b6b",
    "ok": "#5bd778",
    "frozen": "#8ecbff",
    "wire": "#aeb8c6",
    "compatible": "#5bd778",
    "incompatible": "#ef6b6b",
    "best": "#f2c14e",
    "median": "#4fa3ff",
    "pareto": "#f2c14e",
    "loss": "#5bd778",
    "template_like": "#8a929c",
    "novel": "#c792ea",
}

# Unit category → colour (the header band of a node, the palette's swatches).
CATEGORY_COLORS: dict[str, str] = {
    "io": "#cfd8dc",
    "learning": "#5b9bd5",
    "conv": "#4db6ac",
    "pooling": "#90a4ae",
    "recurrent": "#ba68c8",
    "attention": "#f06292",
    "norm": "#ffd54f",
    "activation": "#aed581",
    "regularize": "#a1887f",
    "embedding": "#7986cb",
    "merge": "#ff8a65",
    "local": "#e57373",
    "other": "#8a929c",
}

# Port kind → colour: float features and token ids must look different at a glance,
# because that is the one wiring rule the editor enforces.
PORT_COLORS: dict[str, str] = {
    "float": "#7fc8ff",
    "tokens": "#ffb454",
    "any": "#c7ccd4",
}

FONT_FAMILY = "DejaVu Sans"
MONO_FAMILY = "DejaVu Sans Mono"


def color(name: str, alpha: float | None = None) -> QColor:
    c = QColor(COLORS.get(name, "#ff00ff"))
    if alpha is not None:
        c.setAlphaF(max(0.0, min(1.0, alpha)))
    return c


def category_color(category: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(category, CATEGORY_COLORS["other"]))


def port_color(kind: str) -> QColor:
    return QColor(PORT_COLORS.get(kind, PORT_COLORS["float"]))


def ui_font(point_size: float = 9.5, bold: bool = False) -> QFont:
    f = QFont(FONT_FAMILY)
    f.setPointSizeF(point_size)
    f.setBold(bold)
    return f


def mono_font(point_size: float = 8.5) -> QFont:
    f = QFont(MONO_FAMILY)
    f.setPointSizeF(point_size)
    return f


def palette() -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    group = QPalette.ColorGroup
    p.setColor(role.Window, color("window"))
    p.setColor(role.WindowText, color("text"))
    p.setColor(role.Base, color("panel"))
    p.setColor(role.AlternateBase, color("card"))
    p.setColor(role.ToolTipBase, color("card"))
    p.setColor(role.ToolTipText, color("text"))
    p.setColor(role.PlaceholderText, color("text_faint"))
    p.setColor(role.Text, color("text"))
    p.setColor(role.Button, color("card"))
    p.setColor(role.ButtonText, color("text"))
    p.setColor(role.BrightText, QColor("#ffffff"))
    p.setColor(role.Highlight, color("accent"))
    p.setColor(role.HighlightedText, QColor("#0d1117"))
    p.setColor(role.Link, color("accent"))
    p.setColor(role.Mid, color("border"))
    p.setColor(role.Dark, QColor("#15171b"))
    p.setColor(role.Light, color("card_hover"))
    for r in (role.Text, role.WindowText, role.ButtonText):
        p.setColor(group.Disabled, r, color("text_faint"))
    return p


def stylesheet() -> str:
    c = COLORS
    return f"""
QWidget {{ color: {c["text"]}; }}
QWidget:disabled {{ color: {c["text_faint"]}; }}
QToolTip {{ background: {c["card"]}; color: {c["text"]}; border: 1px solid {c["border"]};
            padding: 4px 6px; }}
QLineEdit, QComboBox, QPlainTextEdit, QTextEdit {{
    background: {c["panel"]}; border: 1px solid {c["border"]}; border-radius: 4px;
    padding: 3px 5px; selection-background-color: {c["accent"]}; }}
QLineEdit:focus, QComboBox:focus {{
    border: 1px solid {c["accent"]}; }}
QLineEdit:disabled, QComboBox:disabled {{
    color: {c["text_faint"]}; background: {c["window"]}; }}
QTreeWidget, QListWidget, QTreeView, QListView {{
    background: {c["panel"]}; border: 1px solid {c["border"]}; border-radius: 4px;
    outline: 0; }}
QTreeWidget::item, QListWidget::item {{ padding: 3px 2px; }}
QTreeWidget::item:selected, QListWidget::item:selected {{
    background: {c["accent"]}; color: #0d1117; }}
QTreeWidget::item:hover, QListWidget::item:hover {{ background: {c["card_hover"]}; }}
QPushButton, QToolButton {{ background: {c["card"]}; border: 1px solid {c["border"]};
    border-radius: 4px; padding: 4px 10px; }}
QPushButton:hover, QToolButton:hover {{ background: {c["card_hover"]}; }}
QPushButton:pressed, QToolButton:pressed {{ background: {c["border"]}; }}
QCheckBox::indicator {{ width: 13px; height: 13px; border: 1px solid {c["text_faint"]};
    border-radius: 3px; background: {c["panel"]}; }}
QCheckBox::indicator:hover {{ border-color: {c["accent"]}; }}
QCheckBox::indicator:checked {{ background: {c["accent"]}; border-color: {c["accent"]}; }}
QCheckBox::indicator:indeterminate {{ background: {c["border"]}; border-color: {c["accent"]}; }}
QCheckBox::indicator:disabled {{ border-color: {c["border"]}; background: {c["window"]}; }}
QGroupBox {{ border: 1px solid {c["border"]}; border-radius: 6px; margin-top: 14px;
    padding-top: 6px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 4px;
    color: {c["text_dim"]}; }}
QDockWidget::title {{ background: {c["panel"]}; padding: 5px 8px; }}
QMenu {{ background: {c["card"]}; border: 1px solid {c["border"]}; }}
QMenu::item:selected {{ background: {c["accent"]}; color: #0d1117; }}
QMenuBar::item:selected {{ background: {c["card_hover"]}; }}
QStatusBar {{ background: {c["panel"]}; color: {c["text_dim"]}; }}
QScrollArea {{ border: none; }}
QFrame#QuickAdd {{ background: {c["card"]}; border: 1px solid {c["accent"]};
    border-radius: 6px; }}
QLabel#InspectorTitle {{ font-size: 13pt; font-weight: bold; }}
QLabel#Dim {{ color: {c["text_dim"]}; }}
QLabel#Error {{ color: {c["error"]}; }}
QLabel#Chip {{ border-radius: 4px; padding: 1px 6px; color: #0d1117; font-weight: bold; }}
"""


def apply_theme(app: QApplication) -> None:
    """Fusion + the dark palette + the stylesheet, for the whole application."""
    fusion = QStyleFactory.create("Fusion")
    if fusion is not None:
        app.setStyle(fusion)
    app.setPalette(palette())
    app.setFont(ui_font(9.5))
    app.setStyleSheet(stylesheet())
