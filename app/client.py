"""The GUI's side of the engine connection: a QProcess running `python -m openbrains.engine.service`,
framed JSON in and out (engine.protocol). Replies arrive as callbacks or awaitables (with
qasync), events as a Qt signal — the window never blocks on the engine.

When the run the window opens is owned by another process (a headless `openbrains run`, the
systemd service, another window), the client *attaches* to that owner's control socket
(engine.control) instead: the same frames over a ``QLocalSocket``, and closing detaches."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QIODevice, QObject, QProcess, Signal
from PySide6.QtNetwork import QLocalSocket

from openbrains.engine.protocol import FrameBuffer, ProtocolError, encode_frame

Reply = dict[str, Any]


class EngineError(Exception):
    """The engine answered a command with ok=false."""


class EngineClient(QObject):
    """Starts and talks to one engine service process."""

    event = Signal(str, dict)  # kind, data
    started = Signal()
    finished = Signal(int, str)  # exit code, last error text
    detached = Signal(str)  # the owner this client was attached to went away (why)
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
        self.socket: QLocalSocket | None = None  # set while attached to another owner

    # ----- process -------------------------------------------------------------------
    def start(self) -> None:
        if self.socket is None and self.proc.state() == QProcess.ProcessState.NotRunning:
            self._buffer = FrameBuffer()
            self.proc.start()

    def running(self) -> bool:
        if self.socket is not None:
            return self.socket.state() == QLocalSocket.LocalSocketState.ConnectedState
        return self.proc.state() != QProcess.ProcessState.NotRunning

    @property
    def attached(self) -> bool:
        return self.socket is not None

    def attach(self, address: str, wait_ms: int = 3000) -> bool:
        """Talk to the owner listening at ``address`` instead of an engine of our own (which
        is stopped first). False, and nothing changed, when nobody answers there."""
        sock = QLocalSocket(self)
        sock.connectToServer(address, QIODevice.OpenModeFlag.ReadWrite)
        if not sock.waitForConnected(wait_ms):
            sock.deleteLater()
            return False
        self.stop()
        self._buffer = FrameBuffer()
        self.socket = sock
        sock.readyRead.connect(self._read_socket)
        sock.disconnected.connect(self._on_detached)
        return True

    def stop(self, wait_ms: int = 30_000) -> None:
        """Ask the engine to quit (it stops the search and its workers), then wait; when
        attached, leave the owner (its search goes on)."""
        if self.socket is not None:
            self.detach()
            return
        if not self.running():
            return
        self.send("quit")
        self.proc.closeWriteChannel()
        if not self.proc.waitForFinished(wait_ms):
            self.proc.kill()
            self.proc.waitForFinished(5000)

    # ----- messages ------------------------------------------------------------------
    def detach(self) -> None:
        sock, self.socket = self.socket, None
        if sock is None:
            return
        sock.disconnected.disconnect(self._on_detached)
        if sock.state() == QLocalSocket.LocalSocketState.ConnectedState:
            sock.write(encode_frame({"id": 0, "cmd": "quit"}))
            sock.flush()
            sock.disconnectFromServer()
        sock.deleteLater()
        self._fail_pending("detached from the search")

    def send(self, cmd: str, callback: Callable[[Reply], None] | None = None, **args: Any) -> int:
        """Send a command; ``callback(reply)`` runs in the GUI thread when it is answered."""
        self.start()
        self._next += 1
        if callback is not None:
            self._pending[self._next] = callback
        frame = encode_frame({"id": self._next, "cmd": cmd, **args})
        if self.socket is not None:
            self.socket.write(frame)
        else:
            self.proc.write(frame)
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
        self._take(bytes(self.proc.readAllStandardOutput().data()))

    def _read_socket(self) -> None:
        if self.socket is not None:
            self._take(bytes(self.socket.readAll().data()))

    def _take(self, data: bytes) -> None:
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

    def _fail_pending(self, why: str) -> None:
        pending, self._pending = self._pending, {}
        for callback in pending.values():
            callback({"ok": False, "error": why})

    def _on_finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        self._fail_pending("the engine process ended")
        last = self._stderr_tail.strip().splitlines()[-1:] or [""]
        self.finished.emit(code, last[0])

    def _on_detached(self) -> None:
        """The owner went away (it finished, was stopped or died)."""
        sock, self.socket = self.socket, None
        if sock is not None:
            sock.deleteLater()
        why = "the search this window was attached to ended"
        self._fail_pending(why)
        self.detached.emit(why)
        self.finished.emit(0, why)
