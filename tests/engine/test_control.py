"""A run's owner lets another process attach: a real `openbrains run` in a subprocess, its
lock naming its control socket, and a client on that socket pausing, resuming and reading
the search while the owner keeps it (engine.control, engine.runlock)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from openbrains.engine import runlock
from openbrains.engine.control import address_for
from openbrains.engine.protocol import encode_frame, read_frame


class Client:
    """The protocol over the socket, as the window's EngineClient speaks it."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(address)
        self.stream = self.sock.makefile("rb")
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.next = 0

    def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        self.next += 1
        self.sock.sendall(encode_frame({"id": self.next, "cmd": cmd, **args}))
        while True:
            msg = read_frame(self.stream)
            assert msg is not None, "the owner closed the connection"
            if "event" in msg:
                self.events.append((msg["event"], msg["data"]))
            elif msg.get("reply") == self.next:
                return msg

    def wait_event(self, kind: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for k, data in self.events:
                if k == kind:
                    self.events.remove((k, data))
                    return data
            msg = read_frame(self.stream)
            assert msg is not None
            if "event" in msg:
                self.events.append((msg["event"], msg["data"]))
        raise AssertionError(f"no {kind} event in {timeout} s")

    def close(self) -> None:
        self.stream.close()
        self.sock.close()


def wait_owner(run_dir: Path, proc: subprocess.Popen, timeout: float = 120) -> runlock.LockOwner:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        owner = runlock.owner(run_dir)
        if owner is not None and owner.control:
            return owner
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.1)
    raise AssertionError("the run never announced its control socket")


@pytest.fixture
def headless(tmp_path: Path) -> Any:
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "openbrains", "run", "--task", "xor", "--workers", "0"),
            *("--population", "4", "--budget-steps", "30", "--run-dir", str(run_dir), "--quiet"),
        ],
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    yield run_dir, proc
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=60)


def test_a_client_attaches_pauses_resumes_and_cannot_stop_the_owner(headless: Any) -> None:
    run_dir, proc = headless
    owner = wait_owner(run_dir, proc)
    assert owner.pid == proc.pid
    assert owner.control == address_for(run_dir)
    assert os.stat(owner.control).st_mode & 0o777 == 0o600

    client = Client(owner.control)
    status = client.call("status")
    assert status["ok"] and status["running"] and not status["paused"]
    client.wait_event("individual")  # the owner's events reach the attached client

    assert client.call("pause")["ok"]
    client.wait_event("paused")
    time.sleep(1.0)  # what was in flight lands
    before = client.call("status")["progress"]["individuals"]
    time.sleep(2.0)
    paused = client.call("status")
    assert paused["paused"] and paused["progress"]["individuals"] == before

    refused = client.call("stop")
    assert not refused["ok"] and "attached" in refused["error"]
    assert not client.call("close_run")["ok"]
    assert client.call("population")["ok"]

    assert client.call("start")["ok"]  # Start on an attached window resumes the owner
    client.wait_event("resumed")
    client.wait_event("individual")
    assert client.call("quit")["ok"]  # the client leaves; the search goes on
    client.close()
    time.sleep(0.5)
    assert proc.poll() is None

    proc.terminate()  # the owner stops cleanly: socket gone, lock free
    assert proc.wait(timeout=60) == 0
    assert not Path(owner.control).exists()
    assert runlock.owner(run_dir) is None


def test_a_second_owner_is_refused_and_the_lock_names_the_first(headless: Any) -> None:
    run_dir, proc = headless
    wait_owner(run_dir, proc)
    out = subprocess.run(
        [sys.executable, "-m", "openbrains", "run", "--task", "xor", "--run-dir", str(run_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 75  # busy, not a usage error: the service's unit retries it
    assert f"in use by another openbrains process (pid {proc.pid})" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_a_long_run_folder_path_listens_in_the_runtime_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = Path(tempfile.mkdtemp(prefix="obrt"))  # short, as /run/user/UID is
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    try:
        deep = tmp_path / ("x" * 60) / ("y" * 60)
        address = address_for(deep)
        assert len(address.encode()) < 100 and address.startswith(str(runtime))
        assert address == address_for(deep)
        # a runtime folder too long for a socket itself: the temp folder takes over
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / ("z" * 80)))
        fallback = address_for(deep)
        assert len(fallback.encode()) < 100 and fallback.startswith(tempfile.gettempdir())
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
    assert address_for(tmp_path / "r") == str(tmp_path / "r" / "control.sock")
