"""The live and rating docks wired to the engine: one call from the main window,
``install_live_and_rating_docks(self, self.client)``.

The panels (canvas/live.py, canvas/rating.py) only emit what the person asks for and show
plain data; this module turns their signals into engine commands (``live_start``,
``record``, ``rating_batch``, ``rate``…) and the engine's events and replies back into the
panels. A missing or busy device comes back as an error reply or a ``live_error`` event
and is shown in the panel; nothing else stops.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox

from openbrains.app.messages import plain
from openbrains.canvas.live import LivePanel
from openbrains.canvas.rating import RatingPanel

Reply = dict[str, Any]


@dataclass
class Docks:
    live: LivePanel
    rating: RatingPanel
    live_dock: QDockWidget
    rating_dock: QDockWidget


def install_live_and_rating_docks(window: QMainWindow, client: Any) -> Docks:
    """Add the Live and Rating docks to ``window`` and connect them to ``client`` (an
    ``app.client.EngineClient``: ``send(cmd, callback, **args)`` and its ``event`` signal)."""
    live = LivePanel(window)
    rating = RatingPanel(window)
    live_dock = _dock(window, "Live", live, Qt.DockWidgetArea.RightDockWidgetArea)
    rating_dock = _dock(window, "Rating", rating, Qt.DockWidgetArea.BottomDockWidgetArea)
    _wire_live(live, client)
    _wire_rating(rating, client)
    for panel in (live, rating):
        panel.message.detailRequested.connect(lambda detail: _show_detail(window, detail))
    client.event.connect(lambda kind, data: on_event(live, rating, kind, data))
    return Docks(live, rating, live_dock, rating_dock)


def _dock(window: QMainWindow, title: str, widget: Any, area: Qt.DockWidgetArea) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(f"{title}Dock")
    dock.setWidget(widget)
    window.addDockWidget(area, dock)
    return dock


def _error(reply: Reply) -> str:
    return "" if reply.get("ok") else str(reply.get("error", "the engine refused"))


def _show_detail(window: QMainWindow, detail: str) -> None:
    """The technical message behind a panel's error, for whoever wants to look closer."""
    box = QMessageBox(QMessageBox.Icon.Information, "Details", detail, parent=window)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.open()


def _say(panel: LivePanel | RatingPanel, error: str) -> None:
    """An engine error in a panel: in words, the original behind "details"."""
    words = plain(error)
    panel.show_message(words.text, error=True, detail=words.detail)


def _wire_live(live: LivePanel, client: Any) -> None:
    def started(reply: Reply) -> None:
        if _error(reply):
            live.set_running(False)
            _say(live, _error(reply))
        else:
            live.set_running(True)
            live.show_message(f"#{reply['individual']} on {reply['source']}")

    def recording(reply: Reply) -> None:
        if _error(reply):
            words = plain(_error(reply))
            live.recording_done(0, error=words.text, detail=words.detail)

    live.startRequested.connect(lambda spec: client.send("live_start", started, source=spec))
    live.stopRequested.connect(lambda: client.send("live_stop", lambda r: live.set_running(False)))
    live.textEntered.connect(lambda text: client.send("live_text", None, text=text))

    def record_pressed(label: str, spec: str) -> None:
        args = {"label": label}
        if not live.running:  # no live source to share: record the chosen one directly
            args["source"] = spec
        client.send("record", recording, **args)

    live.recordPressed.connect(record_pressed)
    live.recordReleased.connect(lambda: client.send("record_stop", None))


def _wire_rating(rating: RatingPanel, client: Any) -> None:
    def batch(reply: Reply) -> None:
        if _error(reply):
            _say(rating, _error(reply))
        else:
            rating.set_batch(reply)

    def ask() -> None:
        rating.show_message("Asking the engine…")
        client.send("rating_batch", batch, n=rating.candidates())

    def stored(reply: Reply) -> None:
        if _error(reply):
            _say(rating, _error(reply))
        else:
            ask()  # straight on to the next input

    rating.nextRequested.connect(ask)
    rating.ratingsSubmitted.connect(lambda payload: client.send("rate", stored, **payload))
    relay = Relay(rating)
    relay.text.connect(lambda text: _say(rating, text))
    rating.playRequested.connect(lambda wave, rate: play(wave, rate, relay.text.emit))


def on_event(live: LivePanel, rating: RatingPanel, kind: str, data: dict[str, Any]) -> None:
    """Engine events the two panels care about."""
    if kind == "live":
        live.show_step(data)
    elif kind == "live_error":
        _say(live, str(data.get("message", "")))
    elif kind == "live_stopped":
        live.set_running(False)
    elif kind == "recording":
        live.set_recording(int(data.get("count", 0)), str(data.get("label", "")))
    elif kind == "recorded":
        words = plain(str(data.get("error", ""))) if data.get("error") else None
        live.recording_done(
            int(data.get("count", 0)),
            str(data.get("label", "")),
            words.text if words else "",
            words.detail if words else "",
        )
    elif kind == "data":
        live.show_message(
            f"the run now trains on {data.get('train')} examples (data version "
            f"{data.get('version')})"
        )


class Relay(QObject):
    """Carries a message from a background thread to the GUI thread (queued signal)."""

    text = Signal(str)


def play(wave: Any, rate: int, report: Callable[[str], None]) -> None:
    """Play a sound on the default speaker in the background; a missing or busy speaker is
    reported (shown in the panel), never an error dialog."""

    def work() -> None:
        try:
            from openbrains.nodes.sinks.audio import AudioOutSink

            sink = AudioOutSink(rate=int(rate))
            sink.write(wave)
            sink.open()
            time.sleep(len(wave) / max(1, int(rate)) + 0.2)
            sink.close()
        except Exception as exc:
            report(f"cannot play the sound: {exc}")

    threading.Thread(target=work, name="openbrains-play", daemon=True).start()
