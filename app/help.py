"""Help → Getting started, Keyboard shortcuts, About.

The shortcuts table is read from the window's own actions, so it cannot drift from what
the keys do."""

from __future__ import annotations

import html

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from openbrains.engine import __version__

GETTING_STARTED = """
<h2>Getting started</h2>
<p><b>1. Pick a sample</b> on the start page (File → Start page), for example
<i>Handwritten digits</i>. Its seed graph opens on the canvas: data flows from the
input on the left to the output on the right.</p>
<p><b>2. Press Start</b> (the button at the top left, or Space on the canvas). A
population of small graphs grows from the seed: each is trained for a moment, scored on
data it never trained on, and the best are bred into new ones.</p>
<p><b>3. Watch it evolve.</b> The <i>Population</i> dock shows the living individuals,
best first; the champion wears a star. Tick <i>Follow champion</i> to see each new
champion on the canvas, laid out afresh, with what changed marked: <span
style='color:#5bd778'>new</span>, <span style='color:#f2c14e'>changed</span>, <span
style='color:#ef6b6b'>removed</span>. The <i>Plots</i> dock shows the best score over
time and size against score.</p>
<p><b>4. Look at its family.</b> View → Family tree shows how the champion came to be:
its ancestors, the mutation on each step and the score at each. Click one to open it;
<i>Compare with parent</i> shows it beside its parent with the differences marked.</p>
<p><b>5. Keep what you grew.</b> File → Export champion… writes a <code>.graph</code>
file you can share, run, or keep training. File → Save keeps the project (saving a
sample asks where, so the sample stays as it was).</p>
<p><b>Your own data:</b> File → New project… picks a task (images in folders, sounds in
folders, a CSV table, a text file…), your data, and its options.</p>
<p>Nothing is sent anywhere: everything runs on this computer, in the background, within
the CPU share you set on the run bar.</p>
"""


def _dialog(parent: QWidget | None, title: str, body: str) -> QDialog:
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setObjectName(title.replace(" ", ""))
    text = QTextBrowser(dialog)
    text.setOpenExternalLinks(False)
    text.setHtml(body)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(text)
    layout.addWidget(buttons)
    dialog.resize(620, 520)
    dialog.open()
    return dialog


def getting_started(parent: QWidget | None) -> QDialog:
    return _dialog(parent, "Getting started", GETTING_STARTED)


def shortcuts_html(actions: list[QAction]) -> str:
    rows = []
    seen: set[tuple[str, str]] = set()
    for a in actions:
        keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in a.shortcuts())
        name = a.text().replace("&", "").rstrip("…. ")
        if not keys or not name or (name, keys) in seen:
            continue
        seen.add((name, keys))
        rows.append(f"<tr><td>{html.escape(name)}</td><td><b>{html.escape(keys)}</b></td></tr>")
    return (
        "<h2>Keyboard shortcuts</h2><table cellpadding='4'>" + "".join(rows) + "</table>"
        "<p>On the canvas: drag from an output port to an input port to wire; drag with the "
        "middle button (or Alt) to pan; the wheel zooms.</p>"
    )


def keyboard_shortcuts(parent: QWidget | None, actions: list[QAction]) -> QDialog:
    return _dialog(parent, "Keyboard shortcuts", shortcuts_html(actions))


def about(parent: QWidget | None) -> QDialog:
    return _dialog(
        parent,
        "About Open Brains",
        f"<h2>Open Brains {html.escape(__version__)}</h2>"
        "<p>A local workshop where you grow tiny neural networks by evolution and share "
        "them as <code>.graph</code> files. Opening a file never runs code from it.</p>"
        "<p>MIT licence. Built on PyTorch, PySide6 (Qt) and pyqtgraph.</p>",
    )
