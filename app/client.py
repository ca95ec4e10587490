"""The GUI's side of the engine connection: a QProcess running `python -m openbrains.engine.service`,
framed JSON in and out (engine.protocol). Replies arrive as callbacks or awaitables (with
qasync), events as a Qt signal — the window never blocks on the engine."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

from openbrains.engine.protocol import FrameBuffer, ProtocolError, encode_frame
from PySide6.QtCore import QObject, QProcess, Signal

Reply = dict[str, Any]


class EngineError(Exception):
    """The engine answered a command with ok=false."""


class EngineClient(QObject):
    """Starts and talks to one engine service process."""

    event = Signal(str, dict)  # kind, data
    started = Signal()
    finished = Signal(int, str)  # exit code, last error text
    log = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.proc = QProcess(self)
        self.proc.setProgram(sys.executable)
        self.proc.setArguments(["-m", "openbrains.engine.service"])
        self.proc.readyReadStandardOutput.connect(self._read_stdout)
        self.proc.readyReadStandardError.connect(self._read_stderr)
        self.proc.finished.connect(self._on_finished)
        self.proc.started.connect(self.started)
        self._buffer = FrameBuffer()
        self._pending: dict[int, Callable[[Reply], None]] = {}
        self._next = 0
        self._stderr_tail = ""

    # ----- process -------------------------------------------------------------------
    def start(self) -> None:
        if self.proc.state() == QProcess.ProcessState.NotRunning:
            self._buffer = FrameBuffer()
            self.proc.start()

    def running(self) -> bool:
        return self.proc.state() != QProcess.ProcessState.NotRunning

    def stop(self, wait_ms: int = 30_000) -> None:
        """Ask the engine to quit (it stops the search and its workers), then wait."""
        if not self.running():
            return
        self.send("quit")
        self.proc.closeWriteChannel()
        if not self.proc.waitForFinished(wait_ms):
            self.proc.kill()
            self.proc.waitForFinished(5000)

    # ----- messages ------------------------------------------------------------------
    def send(self, cmd: str, callback: Callable[[Reply], None] | None = None, **args: Any) -> int:
        """Send a command; ``callback(reply)`` runs in the GUI thread when it is answered."""
        self.start()
        self._next += 1
        if callback is not None:
            self._pending[self._next] = callback
        self.proc.write(encode_frame({"id": self._next, "cmd": cmd, **args}))
        return self._next

    async def call(self, cmd: str, **args: Any) -> Reply:
        """Await a reply (needs a running asyncio loop: qasync in the app). Raises
        ``EngineError`` when the engine says no."""
        future: asyncio.Future[Reply] = asyncio.get_event_loop().create_future()

        def done(reply: Reply) -> None:
            if not future.done():
                future.set_result(reply)

        self.send(cmd, done, **args)
        reply = await future
        if not reply.get("ok"):
            raise EngineError(reply.get("error", "the engine refused"))
        return reply

    def _read_stdout(self) -> None:
        data = bytes(self.proc.readAllStandardOutput().data())
        try:
            messages = self._buffer.feed(data)
        except ProtocolError as exc:
            self.log.emit(f"engine sent a bad frame: {exc}")
            return
        for msg in messages:
            if "event" in msg:
                self.event.emit(str(msg["event"]), msg.get("data") or {})
            elif "reply" in msg:
                callback = self._pending.pop(int(msg["reply"] or 0), None)
                if callback is not None:
                    callback(msg)

    def _read_stderr(self) -> None:
        text = bytes(self.proc.readAllStandardError().data()).decode(errors="replace")
        self._stderr_tail = (self._stderr_tail + text)[-4000:]
        for line in text.splitlines():
            if line.strip():
                self.log.emit(line)

    def _on_finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        for callback in self._pending.values():
            callback({"ok": False, "error": "the engine process ended"})
        self._pending.clear()
        last = self._stderr_tail.strip().splitlines()[-1:] or [""]
        self.finished.emit(code, last[0])
