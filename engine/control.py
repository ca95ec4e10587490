"""The search's door for other processes: a Unix socket on which a window (or the tray)
that opens a run owned by another process sends the engine's commands and receives its
events, with the frames of engine.protocol. The owner writes the socket's address into the
run's lock (engine.runlock), so the lock says both who owns the run and how to reach it.

Only the owner's user may connect (the socket file is 0600 and each peer's uid is checked).
Commands that would end or replace the owner's run (``open_run``, ``close_run``, ``stop``,
``quit`` of the process) are answered with an error: an attached window pauses, resumes,
changes settings and looks; closing it detaches and the search goes on.
"""

from __future__ import annotations

import hashlib
import os
import socket
import struct
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openbrains.engine.protocol import ProtocolError, encode_frame, read_frame

if TYPE_CHECKING:
    from openbrains.engine.service import Service

SOCKET_NAME = "control.sock"
MAX_PATH = 100  # sockaddr_un holds 108 bytes; leave room
OWNER_ONLY = ("open_run", "close_run", "stop")


def address_for(run_dir: Path) -> str:
    """Where the owner of ``run_dir`` listens: inside the run folder when the path is short
    enough for a socket, else in the user's runtime folder (the temp folder when that one's
    path is too long as well), named by a hash of the run."""
    inside = Path(run_dir).absolute() / SOCKET_NAME
    if len(os.fsencode(inside)) < MAX_PATH:
        return str(inside)
    key = hashlib.sha256(str(Path(run_dir).resolve()).encode()).hexdigest()[:16]
    bases = [os.environ.get("XDG_RUNTIME_DIR") or "", tempfile.gettempdir()]
    address = next(
        (
            a
            for a in (_in_runtime(Path(b), key) for b in bases if b)
            if len(os.fsencode(a)) < MAX_PATH
        ),
        _in_runtime(Path(bases[-1]), key),
    )
    Path(address).parent.mkdir(mode=0o700, exist_ok=True)
    return address


def _in_runtime(base: Path, key: str) -> str:
    return str(base / f"openbrains-{os.getuid()}" / f"{key}.sock")


class Connection:
    """One attached client: a writable stream for replies and events."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.closed = False

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()


class ControlServer:
    """Listens for attaching clients of ``service``'s run until closed."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.address = address_for(service.need_run().run_dir)
        self.listener: socket.socket | None = None
        self.connections: list[Connection] = []
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        if os.path.exists(self.address):  # left by an owner that died: we hold the lock now
            os.unlink(self.address)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            listener.bind(self.address)
        finally:
            os.umask(old)
        listener.listen(4)
        self.listener = listener
        self._thread = threading.Thread(target=self._accept, name="openbrains-control", daemon=True)
        self._thread.start()
        self.service.need_run().archive.announce(self.address)
        return self.address

    def close(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
            try:
                os.unlink(self.address)
            except OSError:
                pass
        for conn in list(self.connections):
            conn.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _accept(self) -> None:
        while self.listener is not None:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            if not _same_user(sock):
                sock.close()
                continue
            conn = Connection(sock)
            self.connections.append(conn)
            threading.Thread(
                target=self._serve, args=(conn,), name="openbrains-attached", daemon=True
            ).start()

    def _serve(self, conn: Connection) -> None:
        svc = self.service
        svc.listeners.append(conn)
        stream = conn.sock.makefile("rb")
        try:
            while True:
                try:
                    msg = read_frame(stream)
                except (ProtocolError, OSError):
                    break
                if msg is None:
                    break
                cmd = msg.get("cmd")
                if cmd == "quit":  # the client leaves; the search goes on
                    _reply(conn, msg, {"ok": True})
                    break
                if cmd in OWNER_ONLY:
                    _reply(conn, msg, {"ok": False, "error": _owner_only(cmd)})
                    continue
                svc.dispatch(msg, conn)
        finally:
            if conn in svc.listeners:
                svc.listeners.remove(conn)
            if conn in self.connections:
                self.connections.remove(conn)
            stream.close()
            conn.close()


def _owner_only(cmd: Any) -> str:
    return (
        f"{cmd!r} is not allowed from an attached window: the search belongs to process "
        f"{os.getpid()} (a background service or another window); stop it there"
    )


def _reply(conn: Connection, msg: dict[str, Any], body: dict[str, Any]) -> None:
    try:
        conn.write(encode_frame({"reply": msg.get("id"), **body}))
    except OSError:
        pass


def _same_user(sock: socket.socket) -> bool:
    """The peer runs as our user (SO_PEERCRED: pid, uid, gid)."""
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return False
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.getuid()
